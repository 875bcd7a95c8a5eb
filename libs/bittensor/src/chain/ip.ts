const IPV4_LIMIT = 1n << 32n;

/**
 * Renders an axon's on-chain u128 ip as the Bittensor SDK does (netaddr): a value below
 * 2^32 is dotted IPv4 — whatever the axon's ipType says — anything else is RFC 5952 IPv6
 * (lower-case, the leftmost longest run of two or more zero groups shortened to `::`).
 */
export function axonIpToString(ip: bigint): string {
  if (ip < IPV4_LIMIT) return [24n, 16n, 8n, 0n].map((shift) => Number((ip >> shift) & 0xffn)).join('.');

  const groups = Array.from({ length: 8 }, (_, i) => Number((ip >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { start: -1, length: 1 };
  for (let start = 0; start < 8; start += 1) {
    let length = 0;
    while (start + length < 8 && groups[start + length] === 0) length += 1;
    if (length > best.length) best = { start, length };
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}
