import type { SourceProviderId, TaskReady } from '@orchestra/contracts';
import type { z } from 'zod';

/** A task as the dispatcher hires for it (its input resolved). */
export type Task = z.infer<typeof TaskReady.payload>;

/** One source the dispatcher may hire for a task, whatever its provider, with its rank score. */
export interface SourceCandidate {
  readonly provider: SourceProviderId;
  /** The model, endpoint, platform or `uid<N>`. */
  readonly source: string;
  /** `<provider>:<source>`: what exclusions, hedges and re-asks name. */
  readonly key: string;
  /** The subnet it sells on (the attempt's netuid). */
  readonly netuid: number;
  /** Where its reputation is kept (KV `orch_reputation`). */
  readonly reputationKey: string;
  /** Higher is better, 0..1. */
  readonly score: number;
  /** From Orchestra's own observations, 0..1 (1 when never tried). */
  readonly quality: number;
  /** One line on how it was scored, for the `step.hired` event (never an address). */
  readonly basis: string;
  /** Miner sources only: who they are on chain. */
  readonly miner?: { readonly uid: number; readonly hotkey: string; readonly coldkey: string | null };
}

/**
 * What one call came back with, whatever the provider: the protocol outcome (as miner replies
 * state it) plus what it cost in both units and whether it says anything about the source.
 */
export interface SourceReply {
  readonly ok: boolean;
  /** 200 answered; otherwise the status the source or gateway gave (408 timeout, 429, 503…). */
  readonly statusCode: number;
  readonly statusMessage: string;
  /** Why there is no usable answer, when !ok: the adapter's CallFault or the gateway's ProviderFault. */
  readonly fault?: string;
  readonly raw?: string;
  readonly latencyMs: number;
  readonly responseBytes: number;
  readonly costUsd: number;
  readonly costTao: number;
  /**
   * False when the failure was not the source's doing (the gateway refused our key, could not be
   * reached, or asked us to slow down): such a call costs the source no reputation.
   */
  readonly sourceEvidence: boolean;
}

/** Why a provider offers no source for a task (said in the "nobody to hire" result). */
export interface NoSources {
  readonly candidates: readonly SourceCandidate[];
  /** When there are none: one clause on why, e.g. `chutes: off since … (API key refused: 401)`. */
  readonly why?: string;
  /** Not worth a verdict yet: ask again on redelivery (e.g. no metagraph yet). */
  readonly retryLater?: string;
}

/**
 * A provider as the hire loop sees it: its ranked sources for a task, and one call to one of
 * them. Implemented by the axon hire (miner UIDs over their subnet's protocol) and the gateway
 * hire (a gateway's models or endpoints), so ranking, hedging, re-asks, costs and reputation
 * are the same for both.
 */
export interface SourceCall {
  readonly provider: SourceProviderId;
  /** Ranked sources for the task, best first, without those it excludes. */
  candidates(task: Task, netuid: number, deliveryCount: number): Promise<NoSources>;
  /** Whether a candidate it offered may still be called (its gateway was not turned off, nor the source told to rest, since). */
  available(candidate: SourceCandidate): boolean;
  /** One call; never throws for the source's or gateway's faults (they are failed replies), only for our own mistakes. */
  call(task: Task, candidate: SourceCandidate, signal: AbortSignal, attributes: Readonly<Record<string, string | number | boolean>>): Promise<SourceReply>;
}
