import { OrchestraError } from '@orchestra/contracts';
/**
 * SSRF guard for miner addresses. Axon IPs come from the chain, where anyone who registers a
 * hotkey can publish any address; Orchestra must never be tricked into calling its own cluster,
 * a cloud metadata endpoint or a neighbour on a private network. Only literal IPs are accepted:
 * a DNS name could resolve differently at check time and at connect time (DNS rebinding).
 */

/** Address classes a policy can allow. Anything not in any class is a public unicast address. */
export type AddressClass = 'private' | 'loopback' | 'link-local' | 'multicast' | 'unspecified' | 'reserved';

/** The address is not a literal IP, or falls in a refused class. Never retryable. */
export class AddressRefusedError extends OrchestraError {
  override readonly name = 'AddressRefusedError';
  readonly retryable = false;
  constructor(
    readonly address: string,
    /** The class that refused it, or 'not-an-ip'. */
    readonly addressClass: AddressClass | 'not-an-ip',
    /** The matching range, e.g. "169.254.0.0/16 (link-local; cloud metadata)". */
    readonly rule: string,
  ) {
    super(`address ${address} refused: ${addressClass} (${rule})`);
  }
}

interface Range {
  readonly cls: AddressClass;
  readonly base: bigint;
  readonly bits: number;
  readonly label: string;
}

const V4_RANGES: readonly Range[] = [
  v4('0.0.0.0', 8, 'unspecified', '"this network"'),
  v4('10.0.0.0', 8, 'private', 'RFC 1918'),
  v4('100.64.0.0', 10, 'private', 'CGNAT shared address space, RFC 6598'),
  v4('127.0.0.0', 8, 'loopback', 'RFC 1122'),
  v4('169.254.0.0', 16, 'link-local', 'RFC 3927; includes cloud metadata 169.254.169.254'),
  v4('172.16.0.0', 12, 'private', 'RFC 1918'),
  v4('192.0.0.0', 24, 'reserved', 'IETF protocol assignments'),
  v4('192.0.2.0', 24, 'reserved', 'documentation TEST-NET-1'),
  v4('192.168.0.0', 16, 'private', 'RFC 1918'),
  v4('198.18.0.0', 15, 'reserved', 'benchmarking'),
  v4('198.51.100.0', 24, 'reserved', 'documentation TEST-NET-2'),
  v4('203.0.113.0', 24, 'reserved', 'documentation TEST-NET-3'),
  v4('224.0.0.0', 4, 'multicast', 'RFC 5771'),
  v4('240.0.0.0', 4, 'reserved', 'future use and broadcast 255.255.255.255'),
];

const V6_RANGES: readonly Range[] = [
  v6('::', 128, 'unspecified', '::/128'),
  v6('::1', 128, 'loopback', '::1/128'),
  v6('::', 96, 'reserved', 'deprecated IPv4-compatible'),
  v6('100::', 64, 'reserved', 'discard prefix'),
  // Local-use NAT64 (RFC 8215): translates into whatever IPv4 network the operator chose, its own
  // included, and the position of the embedded IPv4 depends on that operator's prefix length.
  v6('64:ff9b:1::', 48, 'private', 'local-use NAT64, RFC 8215'),
  // Teredo (RFC 4380) tunnels to an IPv4 server and an obfuscated IPv4 client of anyone's choosing.
  v6('2001::', 32, 'reserved', 'Teredo tunnelling, RFC 4380'),
  v6('2001:db8::', 32, 'reserved', 'documentation'),
  v6('fc00::', 7, 'private', 'unique local addresses'),
  v6('fe80::', 10, 'link-local', 'fe80::/10'),
  v6('fec0::', 10, 'private', 'deprecated site-local'),
  v6('ff00::', 8, 'multicast', 'ff00::/8'),
];

/** IPv6 prefixes that embed an IPv4 address, which is then judged as IPv4: [prefix, bits, bit offset of the v4]. */
const V4_EMBEDDING: readonly (readonly [bigint, number, number, string])[] = [
  [parseV6('::ffff:0:0') as bigint, 96, 0, 'IPv4-mapped'],
  [parseV6('::ffff:0:0:0') as bigint, 96, 0, 'IPv4-translated'],
  [parseV6('64:ff9b::') as bigint, 96, 0, 'NAT64'],
  [parseV6('2002::') as bigint, 16, 80, '6to4'],
];

/** What the classifier found for an address. */
export interface AddressVerdict {
  readonly family: 4 | 6;
  /** Canonical text used to connect (IPv6 without brackets). */
  readonly address: string;
  readonly addressClass?: AddressClass;
  readonly rule?: string;
}

/** Options of an AddressPolicy. */
export interface AddressPolicyOptions {
  /** Classes to allow anyway. Production allows none; the devnet allows 'loopback'. */
  readonly allow?: readonly AddressClass[];
}

/** Decides whether Orchestra may connect to an axon IP. */
export class AddressPolicy {
  private readonly allowed: ReadonlySet<AddressClass>;

  constructor(options: AddressPolicyOptions = {}) {
    this.allowed = new Set(options.allow ?? []);
  }

  /**
   * Classifies a literal IP; throws AddressRefusedError for anything that is not one. Verdicts
   * are remembered (a pure function of the text): a hire checks every UID of a subnet, and
   * classifying one address costs microseconds of BigInt arithmetic.
   */
  static classify(ip: string): AddressVerdict {
    // Longer than any literal IP (45 characters, with brackets 47): not remembered, and refused below.
    if (ip.length > 64) return classifyUncached(ip);
    let verdict = VERDICTS.get(ip);
    if (verdict === undefined) {
      verdict = classifyUncached(ip);
      // Bounded whatever the chain lists: forgetting everything now and then costs one re-classification each.
      if (VERDICTS.size >= MAX_REMEMBERED_VERDICTS) VERDICTS.clear();
      VERDICTS.set(ip, verdict);
    }
    return verdict;
  }

  /** Returns the verdict for an allowed address; throws AddressRefusedError naming the rule otherwise. */
  check(ip: string): AddressVerdict {
    const verdict = AddressPolicy.classify(ip);
    if (verdict.addressClass && !this.allowed.has(verdict.addressClass)) {
      throw new AddressRefusedError(ip, verdict.addressClass, verdict.rule as string);
    }
    return verdict;
  }

  /** Whether {@link check} would let Orchestra connect to this IP (false for what is not a literal IP), without building a refusal per address. */
  allows(ip: string): boolean {
    let verdict: AddressVerdict;
    try {
      verdict = AddressPolicy.classify(ip);
    } catch {
      return false;
    }
    return !verdict.addressClass || this.allowed.has(verdict.addressClass);
  }
}

/** AddressPolicy.classify without the memory. */
function classifyUncached(ip: string): AddressVerdict {
  const text = ip.trim().replace(/^\[(.*)\]$/, '$1');
  const v4n = parseV4(text);
  if (v4n !== undefined) return { family: 4, address: text, ...match(V4_RANGES, v4n, 32) };
  const v6n = parseV6(text);
  if (v6n === undefined) throw new AddressRefusedError(ip, 'not-an-ip', 'only literal IPv4/IPv6 addresses are accepted (no DNS names)');
  for (const [prefix, bits, offset, label] of V4_EMBEDDING) {
    if (v6n >> BigInt(128 - bits) === prefix >> BigInt(128 - bits)) {
      const embedded = (v6n >> BigInt(offset)) & 0xffffffffn;
      const hit = match(V4_RANGES, embedded, 32);
      if (hit.addressClass) return { family: 6, address: text, addressClass: hit.addressClass, rule: `${label} ${formatV4(embedded)}: ${hit.rule}` };
    }
  }
  return { family: 6, address: text, ...match(V6_RANGES, v6n, 128) };
}

/** Verdicts AddressPolicy.classify remembers at most (a full subnet is 256 UIDs; 128 subnets). */
const MAX_REMEMBERED_VERDICTS = 32_768;
const VERDICTS = new Map<string, AddressVerdict>();

function match(ranges: readonly Range[], n: bigint, width: number): { addressClass?: AddressClass; rule?: string } {
  // Most specific first, so ::1/128 wins over ::/96.
  const hits = ranges.filter((r) => n >> BigInt(width - r.bits) === r.base >> BigInt(width - r.bits)).sort((a, b) => b.bits - a.bits);
  const r = hits[0];
  return r ? { addressClass: r.cls, rule: `${width === 32 ? formatV4(r.base) : formatV6Prefix(r)}/${r.bits} ${r.label}` } : {};
}

function v4(base: string, bits: number, cls: AddressClass, label: string): Range {
  return { cls, base: parseV4(base) as bigint, bits, label };
}

function v6(base: string, bits: number, cls: AddressClass, label: string): Range {
  return { cls, base: parseV6(base) as bigint, bits, label };
}

/** Strict dotted-quad: four decimal octets, no leading zeros (which some stacks read as octal). */
function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    n = (n << 8n) | BigInt(p);
  }
  return n;
}

function parseV6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return undefined;
  let head = text;
  let tailV4: bigint | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.slice(lastColon + 1).includes('.')) {
    tailV4 = parseV4(text.slice(lastColon + 1));
    if (tailV4 === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0]);
  const right = halves.length === 2 ? groups(halves[1]) : [];
  const missing = 8 - left.length - right.length;
  if ((halves.length === 1 && missing !== 0) || (halves.length === 2 && missing < 1)) return undefined;
  const all = [...left, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  let n = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    n = (n << 16n) | BigInt(parseInt(g, 16));
  }
  return tailV4 === undefined ? n : (n & ~0xffffffffn) | tailV4;
}

function formatV4(n: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => ((n >> s) & 0xffn).toString()).join('.');
}

function formatV6Prefix(r: Range): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((r.base >> BigInt(112 - i * 16)) & 0xffffn).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}
