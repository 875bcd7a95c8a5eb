import { performance } from 'node:perf_hooks';

import { DEFAULT_REPUTATION_HALF_LIFE_MS, type Metagraph, type Neuron, type Reputation } from '@orchestra/contracts';
import { AddressPolicy, rankCandidates } from '@orchestra/bittensor';
import { Row, round } from './stats';

/** UIDs of the ranked subnet (a full subnet), and lookups timed per size. */
const SIZES = {
  small: { uids: 256, lookups: 2_000 },
  full: { uids: 256, lookups: 20_000 },
} as const;
/** Validators among the UIDs (permits, dividends): counted and left out, as on finney. */
const VALIDATORS = 8;

/**
 * The dispatcher's ranking of one subnet's candidates (libs/bittensor/src/chain/ranking.ts, the
 * function a hire calls once the metagraph and the reputation entries are in memory): 256 UIDs
 * with public axon addresses judged by the SSRF policy, a reputation entry for every miner, a
 * few UIDs already tried and a few calls in flight. Timed
 * per lookup (warm), beside a fixed reference in the same run: sorting 256 random numbers, a
 * piece of work any ranking has to do, so the ratio holds on a busy machine.
 * Target: 50 µs or less per lookup.
 */
export const rankingBench = {
  name: 'ranking',
  async run(size: 'small' | 'full'): Promise<Row[]> {
    const { uids, lookups } = SIZES[size];
    const metagraph = syntheticMetagraph(uids);
    const now = new Date();
    // The dispatcher's own address check (production allows no private class), as a hire runs it per UID.
    const policy = new AddressPolicy();
    const reputation = new Map<number, Reputation>(metagraph.neurons.map((n) => [n.uid, reputationOf(n.uid, now)]));
    const rank = () =>
      rankCandidates(metagraph, {
        excludeUids: [11, 42, 97],
        selfHotkey: 'self',
        addressAllowed: (ip) => policy.allows(ip),
        reputation: { of: (uid) => reputation.get(uid), weight: 0.5, halfLifeMs: DEFAULT_REPUTATION_HALF_LIFE_MS, now },
        load: (uid) => (uid % 16 === 0 ? 1 : 0),
      }).candidates.length;
    const randoms = Array.from({ length: uids }, () => Math.random());
    const sort = () => [...randoms].sort((a, b) => a - b).length;

    const ranked = timePerCall(rank, lookups);
    const sorted = timePerCall(sort, lookups);
    return [row(`rankCandidates: ${uids} UIDs with reputation`, ranked, sorted), row(`reference: sort ${uids} numbers`, sorted, sorted)];
  },
};

interface PerCall {
  readonly n: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly meanUs: number;
}

function row(what: string, t: PerCall, reference: PerCall): Row {
  return {
    what,
    lookups: t.n,
    'p50 µs': round(t.p50Us, 1),
    'p99 µs': round(t.p99Us, 1),
    'mean µs': round(t.meanUs, 1),
    '÷ reference (p50)': round(t.p50Us / reference.p50Us, 1),
    '≤ 50 µs (p50)': t.p50Us <= 50 ? 'yes' : 'no',
  };
}

/** Each call timed on its own, after a warm-up of a tenth as many (so the JIT has compiled it). */
function timePerCall(fn: () => number, n: number): PerCall {
  let sink = 0;
  for (let i = 0; i < n / 10; i++) sink += fn();
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    sink += fn();
    samples.push((performance.now() - start) * 1_000);
  }
  if (sink < 0) throw new Error('unreachable: keeps the calls from being optimised away');
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  return { n, p50Us: q(0.5), p99Us: q(0.99), meanUs: samples.reduce((a, b) => a + b, 0) / n };
}

/** A subnet as metagraph-sync writes it: incentives summing to 1 over the miners, a few validators, every miner serving. */
function syntheticMetagraph(uids: number): Metagraph {
  const weights = Array.from({ length: uids }, (_, uid) => (uid < VALIDATORS ? 0 : 1 / (1 + ((uid * 7919) % 97))));
  const total = weights.reduce((a, b) => a + b, 0);
  const neurons: Neuron[] = weights.map((w, uid) => ({
    uid,
    hotkey: `hotkey-${uid}`,
    coldkey: `coldkey-${uid}`,
    alphaStakeRao: uid < VALIDATORS ? '100000000000000' : '1000000000',
    totalStakeRao: uid < VALIDATORS ? '100000000000000' : '1000000000',
    emissionRao: '0',
    incentive: w / total,
    consensus: 0,
    dividends: uid < VALIDATORS ? 1 / VALIDATORS : 0,
    validatorPermit: uid < VALIDATORS,
    active: true,
    lastUpdate: 100,
    axon: { ip: `34.${uid >> 8}.${uid & 255}.7`, port: 8091, ipType: 4, protocol: 4, version: 1 },
  }));
  return { netuid: 13, block: 100, syncedAt: new Date().toISOString(), pool: { netuid: 13, taoReserveRao: '1', alphaReserveRao: '1', price: 1 }, neurons };
}

function reputationOf(uid: number, now: Date): Reputation {
  const calls = 5 + (uid % 20);
  return { calls, answered: calls - (uid % 3), judged: calls - 1, conforming: calls - 2, accepted: calls - 3, latencyMs: 80 + (uid % 50) * 10, updatedAt: now.toISOString() };
}
