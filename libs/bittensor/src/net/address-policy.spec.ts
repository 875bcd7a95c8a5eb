import { AddressPolicy, AddressRefusedError } from './address-policy';

describe('AddressPolicy', () => {
  const strict = new AddressPolicy();

  it.each([
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['fe80::1', 'link-local'],
    ['fd00::1', 'private'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['64:ff9b::7f00:1', 'loopback'],
    ['2002:a00:1::', 'private'],
  ])('refuses %s as %s, naming the rule', (ip, cls) => {
    let error: unknown;
    try {
      strict.check(ip);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AddressRefusedError);
    expect((error as AddressRefusedError).addressClass).toBe(cls);
    expect((error as AddressRefusedError).message).toContain(ip);
    expect((error as AddressRefusedError).rule).toMatch(/\/\d+/);
  });

  it('says which rule refused the metadata address', () => {
    expect(() => strict.check('169.254.169.254')).toThrow('address 169.254.169.254 refused: link-local (169.254.0.0/16 RFC 3927; includes cloud metadata 169.254.169.254)');
  });

  it.each(['example.com', 'localhost', '010.0.0.1', '0x7f.0.0.1', '2130706433', '1.2.3', '1.2.3.4.5', '1::2::3', ''])('refuses %p: not a literal IP', (ip) => {
    expect(() => strict.check(ip)).toThrow(expect.objectContaining({ addressClass: 'not-an-ip' }));
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '172.32.0.1', '100.128.0.1'])('accepts public %s', (ip) => {
    expect(strict.check(ip).addressClass).toBeUndefined();
  });

  it('allows only the classes it is told to (the devnet allows loopback)', () => {
    const devnet = new AddressPolicy({ allow: ['loopback'] });
    expect(devnet.check('127.0.0.1').addressClass).toBe('loopback');
    expect(devnet.check('::1').family).toBe(6);
    expect(() => devnet.check('10.0.0.1')).toThrow(AddressRefusedError);
    expect(() => devnet.check('169.254.169.254')).toThrow(AddressRefusedError);
  });
});
