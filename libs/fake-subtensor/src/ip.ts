import { isIPv4, isIPv6 } from 'node:net';
import { InvalidChainStateError } from './chain-state';

/**
 * Subtensor stores an axon's ip as a u128: IPv4 in the low 32 bits, IPv6 as all 128.
 * Parses dotted IPv4 or any IPv6 text (with `::` or an embedded IPv4 tail) into that integer.
 */
export function ipToU128(ip: string): bigint {
  if (isIPv4(ip)) return ipv4ToInt(ip);
  if (!isIPv6(ip)) throw new InvalidChainStateError(`not an IP address: ${ip}`);

  let text = ip.split('%')[0];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const v4 = ipv4ToInt(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, tail] = text.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].reduce((acc, group) => (acc << 16n) | BigInt(`0x${group}`), 0n);
}

function ipv4ToInt(ip: string): bigint {
  return ip.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(octet), 0n);
}
