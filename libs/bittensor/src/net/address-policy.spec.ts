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
    // IPv4-translated (RFC 6145) and its compressed spellings.
    ['::ffff:0:127.0.0.1', 'loopback'],
    ['0:0:0:0:ffff:0:7f00:1', 'loopback'],
    ['::ffff:0:a9fe:a9fe', 'link-local'],
    // Well-known NAT64 prefix (RFC 6052) embedding a forbidden IPv4, in dotted and hex form.
    ['64:ff9b::169.254.169.254', 'link-local'],
    ['64:ff9b::a00:1', 'private'],
    // Local-use NAT64 (RFC 8215): refused whatever it embeds.
    ['64:ff9b:1::8.8.8.8', 'private'],
    ['64:ff9b:1:ffff::1', 'private'],
    // Teredo (RFC 4380): refused whatever it embeds.
    ['2001::1', 'reserved'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
    // 6to4 embedding loopback, metadata and CGNAT.
    ['2002:7f00:1::', 'loopback'],
    ['2002:a9fe:a9fe::1', 'link-local'],
    ['2002:6440:1::', 'private'],
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

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '2606:4700:4700::1111',
    '172.32.0.1',
    '100.128.0.1',
    // Embedding forms are judged by the IPv4 they embed: a public one passes.
    '64:ff9b::8.8.8.8',
    '2002:808:808::1',
    '::ffff:0:8.8.8.8',
    // Neighbours of the refused prefixes.
    '2001:4860:4860::8888',
    '64:ff9b:2::1',
  ])('accepts public %s', (ip) => {
    expect(strict.check(ip).addressClass).toBeUndefined();
  });

  it('allows only the classes it is told to (the devnet allows loopback)', () => {
    const devnet = new AddressPolicy({ allow: ['loopback'] });
    expect(devnet.check('127.0.0.1').addressClass).toBe('loopback');
    expect(devnet.check('::1').family).toBe(6);
    expect(() => devnet.check('10.0.0.1')).toThrow(AddressRefusedError);
    expect(() => devnet.check('169.254.169.254')).toThrow(AddressRefusedError);
  });

  it('answers allows() as check() would, the second time from memory, and never remembers what is not an IP', () => {
    const production = new AddressPolicy();
    const devnet = new AddressPolicy({ allow: ['loopback'] });
    for (const ip of ['34.1.2.7', '127.0.0.1', '10.0.0.1', '::ffff:169.254.169.254', '2606:4700::1111', '[::1]']) {
      for (let i = 0; i < 2; i++) {
        for (const policy of [production, devnet]) {
          let checked: boolean;
          try {
            policy.check(ip);
            checked = true;
          } catch {
            checked = false;
          }
          expect(policy.allows(ip)).toBe(checked);
        }
      }
    }
    expect(production.allows('example.com')).toBe(false);
    expect(production.allows('1'.repeat(10_000))).toBe(false);
    expect(() => production.check('example.com')).toThrow(AddressRefusedError);
    expect(() => production.check('1'.repeat(10_000))).toThrow(AddressRefusedError);
  });
});
