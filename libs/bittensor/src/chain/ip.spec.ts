import fc from 'fast-check';
import { ipToU128 } from '@orchestra/fake-subtensor';
import { axonIpToString } from './ip';

/** IPv6 values (>= 2^32) rich in zero groups, where the `::` rules matter. */
const ipv6Value = fc
  .tuple(fc.integer({ min: 1, max: 0xffff }), fc.array(fc.oneof(fc.constant(0), fc.nat(0xffff)), { minLength: 7, maxLength: 7 }))
  .map(([first, rest]) => [first, ...rest].reduce((acc, group) => (acc << 16n) | BigInt(group), 0n));

describe('axonIpToString', () => {
  it.each([
    [0x01020304n, '1.2.3.4'],
    [0xffffffffn, '255.255.255.255'],
    [0x20010db8000000000000000000000001n, '2001:db8::1'],
    [0x20010db8000000010000000000000001n, '2001:db8:0:1::1'],
    [0x20010db8000100010001000100010001n, '2001:db8:1:1:1:1:1:1'],
    // A lone zero group is not shortened; of two equal runs the leftmost is.
    [0x20010db8000000010001000000000001n, '2001:db8:0:1:1::1'],
    [0x20010000000000010000000000010001n, '2001::1:0:0:1:1'],
  ])('%s -> %s', (value, text) => expect(axonIpToString(value)).toBe(text));

  it('renders IPv6 canonically (RFC 5952, as WHATWG URL does) and round-trips', () => {
    fc.assert(
      fc.property(ipv6Value, (value) => {
        const text = axonIpToString(value);
        expect(new URL(`http://[${text}]`).hostname).toBe(`[${text}]`);
        expect(ipToU128(text)).toBe(value);
      }),
    );
  });
});
