import { z } from 'zod';
import { SettingError } from './errors';
import { GatewayId, SourceProviderId, encodeSourceToken, uidOfAxonSource } from './sources';

/**
 * Orchestra's own record of how a miner UID did at one capability on one subnet: the
 * entry of KV `orch_reputation` under `reputationKey(netuid, uid, capability)`.
 * The dispatcher records transport outcomes and latencies, the verifier records
 * verdicts; both by compare-and-set through `observeReputation`.
 *
 * Counts are *decayed*: every update first multiplies them by 2^(-Δt / halfLife), so old
 * evidence fades and a miner that failed yesterday can earn its way back today.
 */
export const ReputationSchema = z.object({
  /** Calls that finished (answered or failed; aborted hedges are not counted), decayed. */
  calls: z.number().nonnegative(),
  /** Of those, calls answered at the protocol level (status 200), decayed. */
  answered: z.number().nonnegative(),
  /** Answers judged by the JSON Standardization Layer, decayed. */
  judged: z.number().nonnegative(),
  /** Of those, answers that parsed into the capability's schema, decayed. */
  conforming: z.number().nonnegative(),
  /** Of those, answers accepted outright (schema and semantic checks), decayed. */
  accepted: z.number().nonnegative(),
  /** EWMA of the call latency, ms (aborted calls contribute their elapsed time, a lower bound); null before any sample. */
  latencyMs: z.number().nonnegative().nullable(),
  updatedAt: z.iso.datetime(),
});
export type Reputation = z.infer<typeof ReputationSchema>;

/** One piece of evidence about a miner. */
export type ReputationObservation =
  /** A call finished: answered (status 200) or not, after `latencyMs`. */
  | { readonly kind: 'call'; readonly answered: boolean; readonly latencyMs: number }
  /** A hedged call was aborted after `latencyMs` because another miner answered first: only the latency bound counts. */
  | { readonly kind: 'aborted'; readonly latencyMs: number }
  /** An answer was judged: accepted, schema-valid but rejected on semantics, or not of the schema at all. */
  | { readonly kind: 'verdict'; readonly verdict: 'accepted' | 'semantics' | 'schema' }
  /** An accepted answer lost a quorum vote: other miners agreed on something else. Retracts its acceptance. */
  | { readonly kind: 'outvoted' };

/** Default half-life of reputation evidence: one hour. */
export const DEFAULT_REPUTATION_HALF_LIFE_MS = 3_600_000;

/**
 * The half-life every writer of reputation decays by: ORCH_REPUTATION_HALF_LIFE_MS (pass
 * its value), default one hour. Writers must agree on it, so it lives here.
 */
export function reputationHalfLifeMs(setting: string | undefined): number {
  const value = setting === undefined || setting === '' ? DEFAULT_REPUTATION_HALF_LIFE_MS : Number(setting);
  if (!(value > 0) || !Number.isFinite(value)) throw new SettingError(`ORCH_REPUTATION_HALF_LIFE_MS must be a positive number of milliseconds; got ${JSON.stringify(setting)}`);
  return value;
}

/** Weight of the newest latency sample in the EWMA. */
const LATENCY_EWMA_ALPHA = 0.3;

/**
 * The KV key of a reputation entry, e.g. `sn13.uid7.data-financials`. KV keys allow
 * `[-/_=.a-zA-Z0-9]`; a capability's dots become dashes so the key has exactly three
 * dot-separated tokens (`sn13.*.data-financials` would select one subnet's capability).
 */
export function reputationKey(netuid: number, uid: number, capability: string): string {
  return `sn${netuid}.uid${uid}.${reputationCapabilityToken(capability)}`;
}

/**
 * The KV key of a gateway source's entry, e.g. `chutes.deepseek-ai_2fDeepSeek-V3.text-analysis`:
 * per (provider, source, capability), the source id encoded (encodeSourceToken) so a model id's
 * `/` or `:` can neither split the key nor make it invalid. Miner UIDs keep their
 * `sn<netuid>.uid<N>.<capability>` keys (reputationKey), which no provider id starts like.
 */
export function sourceReputationKey(provider: GatewayId, source: string, capability: string): string {
  return `${provider}.${encodeSourceToken(source)}.${reputationCapabilityToken(capability)}`;
}

/**
 * The reputation key of any source: a miner's (`axon`, source `uid<N>`, on `netuid`) or a
 * gateway's. Undefined for an axon source id that names no UID (nothing to record against).
 */
export function reputationKeyOfSource(provider: SourceProviderId, source: string, netuid: number, capability: string): string | undefined {
  if (provider !== 'axon') return sourceReputationKey(provider, source, capability);
  const uid = uidOfAxonSource(source);
  return uid === undefined ? undefined : reputationKey(netuid, uid, capability);
}

function reputationCapabilityToken(capability: string): string {
  return capability.replace(/[^-_a-zA-Z0-9]/g, '-');
}

/** What the counts of an entry last updated at `updatedAtMs` weigh at `nowMs`: 2^(-Δt / halfLife) (1 for a date in the future). */
export function reputationDecayFactor(updatedAtMs: number, nowMs: number, halfLifeMs: number): number {
  const elapsed = Math.max(0, nowMs - updatedAtMs);
  return Math.pow(2, -elapsed / halfLifeMs);
}

/** The entry as it stands at `now`: every count multiplied by {@link reputationDecayFactor}. */
export function decayReputation(rep: Reputation, now: Date, halfLifeMs: number): Reputation {
  const f = reputationDecayFactor(Date.parse(rep.updatedAt), now.getTime(), halfLifeMs);
  return {
    calls: rep.calls * f,
    answered: rep.answered * f,
    judged: rep.judged * f,
    conforming: rep.conforming * f,
    accepted: rep.accepted * f,
    latencyMs: rep.latencyMs,
    updatedAt: now.toISOString(),
  };
}

/**
 * The entry after one more observation at `now` (pure, so it can be the `decide` of a
 * compare-and-set). `current` undefined means no evidence yet.
 */
export function observeReputation(current: Reputation | undefined, obs: ReputationObservation, now: Date, halfLifeMs: number): Reputation {
  const rep = current ? decayReputation(current, now, halfLifeMs) : { calls: 0, answered: 0, judged: 0, conforming: 0, accepted: 0, latencyMs: null, updatedAt: now.toISOString() };
  switch (obs.kind) {
    case 'call':
      return { ...rep, calls: rep.calls + 1, answered: rep.answered + (obs.answered ? 1 : 0), latencyMs: ewma(rep.latencyMs, obs.latencyMs) };
    case 'aborted':
      // Only raise the estimate: an aborted call says "slower than this", never "this fast".
      return { ...rep, latencyMs: Math.max(rep.latencyMs ?? 0, ewma(rep.latencyMs, obs.latencyMs)) };
    case 'verdict':
      return {
        ...rep,
        judged: rep.judged + 1,
        conforming: rep.conforming + (obs.verdict === 'schema' ? 0 : 1),
        accepted: rep.accepted + (obs.verdict === 'accepted' ? 1 : 0),
      };
    case 'outvoted':
      return { ...rep, accepted: Math.max(0, rep.accepted - 1) };
  }
}

function ewma(previous: number | null, sample: number): number {
  return previous === null ? sample : previous + LATENCY_EWMA_ALPHA * (sample - previous);
}
