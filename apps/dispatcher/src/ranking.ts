import { Metagraph, Neuron } from '@orchestra/contracts';

/** A neuron the dispatcher may hire, with its score (higher is better). */
export interface Candidate {
  readonly neuron: Neuron & { axon: NonNullable<Neuron['axon']> };
  readonly score: number;
}

/** Why neurons were left out, for the "no eligible UID" explanation. */
export interface RankingReport {
  readonly candidates: Candidate[];
  readonly excluded: { alreadyTried: number; noAxon: number; refusedAddress: number; self: number };
}

/** Blocks after which a neuron that has not updated counts as fully inactive (about 4 h at 12 s blocks). */
const STALE_BLOCKS = 1_200;

/**
 * Ranks a subnet's miners from chain signals: incentive (what validators pay it for),
 * trust and consensus (agreement about it), its share of the subnet's largest stake,
 * and recency of activity. Rank and trust left the SDK's per-neuron view in 2025-12,
 * so trust is a minor term that is zero when the chain no longer reports it.
 * Ties go to the lower UID, so ranking is deterministic.
 */
export function rankCandidates(
  metagraph: Metagraph,
  opts: { excludeUids: readonly number[]; selfHotkey?: string; addressAllowed: (ip: string) => boolean },
): RankingReport {
  const excluded = { alreadyTried: 0, noAxon: 0, refusedAddress: 0, self: 0 };
  const maxStake = metagraph.neurons.reduce((m, n) => (BigInt(n.stakeRao) > m ? BigInt(n.stakeRao) : m), 1n);
  const skip = new Set(opts.excludeUids);
  const candidates: Candidate[] = [];
  for (const neuron of metagraph.neurons) {
    if (neuron.hotkey === opts.selfHotkey) excluded.self++;
    else if (skip.has(neuron.uid)) excluded.alreadyTried++;
    else if (!neuron.axon) excluded.noAxon++;
    else if (!opts.addressAllowed(neuron.axon.ip)) excluded.refusedAddress++;
    else candidates.push({ neuron: neuron as Candidate['neuron'], score: score(neuron, maxStake, metagraph.block) });
  }
  candidates.sort((a, b) => b.score - a.score || a.neuron.uid - b.neuron.uid);
  return { candidates, excluded };
}

function score(n: Neuron, maxStake: bigint, block: number): number {
  const stakeShare = Number((BigInt(n.stakeRao) * 10_000n) / maxStake) / 10_000;
  const age = Math.max(0, block - n.lastUpdate);
  const activity = n.active ? Math.max(0, 1 - age / STALE_BLOCKS) : 0;
  return 0.5 * n.incentive + 0.15 * n.consensus + 0.1 * n.trust + 0.1 * stakeShare + 0.15 * activity;
}
