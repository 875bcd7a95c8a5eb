import { Metagraph, Neuron, Reputation, reputationDecayFactor } from '@orchestra/contracts';

/** A neuron the dispatcher may hire, with its score (higher is better) and the two terms behind it. */
export interface Candidate {
  readonly neuron: Neuron & { axon: NonNullable<Neuron['axon']> };
  readonly score: number;
  /** From the chain alone, 0..1: the UID's incentive against the subnet's best miner's. */
  readonly chainScore: number;
  /** From Orchestra's own observations, 0..1 (1 for a UID never tried: optimism). */
  readonly quality: number;
}

/** Orchestra's observations to blend in, for one subnet and capability. */
export interface ReputationInput {
  /** The entry of a UID, if any. */
  readonly of: (uid: number) => Reputation | undefined;
  /** Weight of reputation against the chain signals, 0..1. */
  readonly weight: number;
  readonly halfLifeMs: number;
  readonly now: Date;
}

/**
 * How much each call already running at a miner lowers its score (score / (1 + k·load)).
 * Miners serve a few requests at a time (an axon's priority pool); sending every hire to
 * the single best UID queues them there until they time out. Least-outstanding-requests
 * spreads a burst over the best few instead.
 */
const LOAD_PENALTY = 0.5;

/** Latency at which the speed factor is one half, ms. */
const REFERENCE_LATENCY_MS = 1_000;

/** Why neurons were left out, for the "no eligible UID" explanation. */
export interface RankingReport {
  readonly candidates: Candidate[];
  readonly excluded: { alreadyTried: number; validator: number; noAxon: number; refusedAddress: number; self: number };
}

/**
 * Ranks the miners of a subnet, never its validators. A validator holds a permit (top stake)
 * and earns dividends; it does not answer requests, so a UID with either is left out,
 * whatever else it has (a big stake, a served axon). So is a UID without a served axon.
 *
 * The chain's word on a miner is its incentive, which the subnet's validators pay it for
 * its work and which sums to 1 over the subnet: it is compared within the subnet (as a share
 * of the best miner's), so a subnet of 200 miners ranks like one of 10. Nothing else the
 * chain reports says whether a miner is good or up: trust and rank are gone (spec 401+),
 * a miner is never `active` and its lastUpdate is its registration block, and stake is what
 * validators hold. Orchestra's own evidence (`reputation`) supplies the rest (see `blend`).
 * Ties go to the lower UID, so ranking is deterministic.
 */
export function rankCandidates(
  metagraph: Metagraph,
  opts: {
    excludeUids: readonly number[];
    selfHotkey?: string;
    addressAllowed: (ip: string) => boolean;
    reputation?: ReputationInput;
    /** Calls this dispatcher has running at a UID now. */
    load?: (uid: number) => number;
    /** A UID to put first when it is eligible (a re-ask of the same miner). */
    preferUid?: number;
  },
): RankingReport {
  const excluded = { alreadyTried: 0, validator: 0, noAxon: 0, refusedAddress: 0, self: 0 };
  const miners = metagraph.neurons.filter((n) => !isValidator(n));
  const bestIncentive = miners.reduce((best, n) => Math.max(best, n.incentive), 0);
  const skip = new Set(opts.excludeUids);
  const candidates: Candidate[] = [];
  for (const neuron of metagraph.neurons) {
    if (neuron.hotkey === opts.selfHotkey) excluded.self++;
    else if (isValidator(neuron)) excluded.validator++;
    else if (skip.has(neuron.uid)) excluded.alreadyTried++;
    else if (!neuron.axon) excluded.noAxon++;
    else if (!opts.addressAllowed(neuron.axon.ip)) excluded.refusedAddress++;
    else {
      const chainScore = bestIncentive > 0 ? neuron.incentive / bestIncentive : 0;
      candidates.push(blend(neuron as Candidate['neuron'], chainScore, opts.reputation, opts.load?.(neuron.uid) ?? 0));
    }
  }
  candidates.sort((a, b) => b.score - a.score || a.neuron.uid - b.neuron.uid);
  const preferred = candidates.findIndex((c) => c.neuron.uid === opts.preferUid);
  if (preferred > 0) candidates.unshift(...candidates.splice(preferred, 1));
  return { candidates, excluded };
}

/**
 * score = ((1 − w)·chain + w·quality) / (1 + LOAD_PENALTY·load), w = the reputation weight
 * (ORCH_REPUTATION_WEIGHT). Without reputation (or w = 0) and load the order is the chain's alone.
 */
function blend(neuron: Candidate['neuron'], chainScore: number, reputation: ReputationInput | undefined, load: number): Candidate {
  const entry = reputation?.of(neuron.uid);
  const quality = entry && reputation ? decayedQuality(entry, reputation.now, reputation.halfLifeMs) : 1;
  const w = reputation?.weight ?? 0;
  return { neuron, chainScore, quality, score: ((1 - w) * chainScore + w * quality) / (1 + LOAD_PENALTY * load) };
}

/**
 * How well a UID has done, 0..1, from its reputation with every count multiplied by `decay`
 * (1: the entry is already decayed; see {@link decayedQuality}):
 *
 *   quality = t · a · (½ + ½·s)
 *   t = (answered + 1) / (calls + 1)     transport success
 *   a = (accepted + 1) / (judged + 1)    answers accepted by the verifier (schema and semantics)
 *   s = L / (L + latencyMs), L = 1 s     speed; 1 before any latency sample
 *
 * The +1s are one imaginary perfect call: an optimistic prior, which is the exploration
 * rule. A UID never tried scores 1 and so gets tried; one failure halves its t; as the
 * evidence decays (half-life) the prior weighs more again and a miner that failed long
 * ago climbs back towards 1 — a recovered miner earns its way back with fresh successes.
 * Deterministic: no random choice, so tests and replicas agree.
 */
export function reputationQuality(rep: Reputation, decay = 1): number {
  const transport = (rep.answered * decay + 1) / (rep.calls * decay + 1);
  const acceptance = (rep.accepted * decay + 1) / (rep.judged * decay + 1);
  const speed = rep.latencyMs === null ? 1 : REFERENCE_LATENCY_MS / (REFERENCE_LATENCY_MS + rep.latencyMs);
  return transport * acceptance * (0.5 + 0.5 * speed);
}

/**
 * {@link reputationQuality} of the entry as it stands at `now` (decayReputation's counts),
 * without building the decayed entry: a hire ranks every UID of a subnet, and formatting and
 * parsing a timestamp per UID were most of the ranking's time (npm run bench ranking). The
 * parsed `updatedAt` is kept per entry object: the reputation book hands the same entries to
 * every hire until it reads them again.
 */
export function decayedQuality(rep: Reputation, now: Date, halfLifeMs: number): number {
  let updatedAtMs = updatedAtMsOf.get(rep);
  if (updatedAtMs === undefined) updatedAtMsOf.set(rep, (updatedAtMs = Date.parse(rep.updatedAt)));
  return reputationQuality(rep, reputationDecayFactor(updatedAtMs, now.getTime(), halfLifeMs));
}
const updatedAtMsOf = new WeakMap<Reputation, number>();

/** A validator, by the chain's own marks: a permit, or dividends (earned only by validating). */
export function isValidator(n: Neuron): boolean {
  return n.validatorPermit || n.dividends > 0;
}
