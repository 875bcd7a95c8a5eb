import { GATEWAY_NETUIDS, GatewayId, sourceKey, sourceReputationKey, truncateText } from '@orchestra/contracts';
import { InvalidProviderInputError, Provider, ProviderAbortedError, ProviderError, SourceInfo, UnsupportedCapabilityError, callTraced } from '@orchestra/providers';
import { Capability, isCapability, promptFor } from '@orchestra/schemas';
import { performance } from 'node:perf_hooks';
import type { ReputationBook } from './reputation-book';
import type { NoSources, SourceCall, SourceCandidate, SourceReply, Task } from './source-call';
import { expectedUsd, scoreSource } from './source-ranking';

/**
 * Sources of one gateway ranked per hire at most. Without ORCH_PROVIDER_SOURCES a gateway's
 * whole listing is on offer (Chutes lists hundreds of models); each ranked source costs a
 * reputation read, so beyond this many only the cheapest are considered.
 */
export const MAX_RANKED_SOURCES = 32;

/** The `n` cheapest sources by expected cost per call; unpriced ones after every priced one, in listing order. */
function cheapest(sources: readonly SourceInfo[], n: number): SourceInfo[] {
  const cost = (s: SourceInfo) => expectedUsd(s.price) ?? Number.POSITIVE_INFINITY;
  return sources
    .map((s, i) => ({ s, i }))
    .sort((a, b) => cost(a.s) - cost(b.s) || a.i - b.i)
    .slice(0, n)
    .map(({ s }) => s);
}

/** What a gateway hire needs besides its client. */
export interface GatewayHireOptions {
  readonly reputation: ReputationBook;
  readonly weight: number;
  readonly halfLifeMs: number;
  /** The only sources hired (ORCH_PROVIDER_SOURCES); undefined: every source listed. */
  readonly allow?: readonly string[];
  readonly sourcesTtlMs: number;
  readonly offMs: number;
  readonly timeoutMs: number;
  readonly taoUsdRate: number;
  readonly textLimitChars: number;
  readonly now?: () => number;
}

/**
 * Hiring from one gateway (Chutes, Desearch, Constellation): its sources, listed and cached for
 * `sourcesTtlMs`, ranked by reputation, price and load; one call builds the provider's input
 * (for an LLM the capability's prompt, `promptFor`) and turns every ProviderError into a failed
 * reply that says whose fault it was:
 * - the source's (garbage, wrong shape, 5xx, timeout): it costs that source reputation, the step moves on;
 * - the gateway's as a whole (our key refused, no credit, host unreachable): the provider is off
 *   for `offMs`, saying why, and no source pays for it;
 * - 429: that source rests for its Retry-After (no reputation cost), and others are hired meanwhile;
 * - ours (a request the gateway calls malformed): thrown, as no other source would do better.
 */
export class GatewayHire implements SourceCall {
  readonly provider: GatewayId;
  private listing?: { readonly at: number; readonly sources: Promise<SourceInfo[]> };
  private off?: { readonly until: number; readonly reason: string };
  /** Sources resting after a 429, until a time. */
  private readonly resting = new Map<string, number>();
  private readonly inFlight = new Map<string, number>();
  private readonly now: () => number;

  constructor(
    private readonly client: Provider,
    private readonly options: GatewayHireOptions,
  ) {
    this.provider = client.id;
    this.now = options.now ?? Date.now;
  }

  /** Why the provider is off now, if it is. */
  offReason(): string | undefined {
    if (this.off && this.off.until > this.now()) return this.off.reason;
    return undefined;
  }

  available(candidate: SourceCandidate): boolean {
    return this.offReason() === undefined && (this.resting.get(candidate.source) ?? 0) <= this.now();
  }

  async candidates(task: Task): Promise<NoSources> {
    const off = this.offReason();
    if (off) return { candidates: [], why: `${this.provider}: off — ${off}` };
    if (!this.client.capabilities.includes(task.capability)) return { candidates: [], why: `${this.provider}: not configured for ${task.capability}` };
    let listed: SourceInfo[];
    try {
      listed = await this.sources();
    } catch (error) {
      const gatewayWide = this.judgeGatewayFault(error);
      if (gatewayWide) return { candidates: [], why: `${this.provider}: off — ${gatewayWide}` };
      return { candidates: [], why: `${this.provider}: could not list sources (${truncateText(error instanceof Error ? error.message : String(error), 300)})` };
    }
    const exclude = new Set(task.excludeSources ?? []);
    const now = this.now();
    const usable = listed.filter((s) => s.capabilities.includes(task.capability) && (!this.options.allow || this.options.allow.includes(s.id)));
    const fresh = usable.filter((s) => !exclude.has(sourceKey(this.provider, s.id)));
    const awake = fresh.filter((s) => (this.resting.get(s.id) ?? 0) <= now);
    if (awake.length === 0) {
      const resting = fresh.length - awake.length;
      return {
        candidates: [],
        why: `${this.provider}: no source for ${task.capability} (${usable.length} offered, ${usable.length - fresh.length} already tried${resting ? `, ${resting} resting after 429` : ''})`,
      };
    }
    // A gateway may list hundreds of models: the cheapest few are ranked (one reputation read each).
    const considered = awake.length <= MAX_RANKED_SOURCES ? awake : cheapest(awake, MAX_RANKED_SOURCES);
    const keys = considered.map((s) => sourceReputationKey(this.provider, s.id, task.capability));
    const reputation = await this.options.reputation.forKeys(keys);
    const at = new Date(now);
    return {
      candidates: considered.map((s, i): SourceCandidate => {
        const scored = scoreSource({
          price: s.price,
          reputation: reputation.get(keys[i]),
          weight: this.options.weight,
          halfLifeMs: this.options.halfLifeMs,
          now: at,
          load: this.inFlight.get(s.id) ?? 0,
        });
        const price = scored.usd === undefined ? 'price unknown' : `~$${scored.usd.toFixed(4)}/call`;
        return {
          provider: this.provider,
          source: s.id,
          key: sourceKey(this.provider, s.id),
          netuid: GATEWAY_NETUIDS[this.provider],
          reputationKey: keys[i],
          score: scored.score,
          quality: scored.quality,
          basis: `score ${scored.score.toFixed(3)}: price ${scored.priceFactor.toFixed(3)} (${price}), reputation ${scored.quality.toFixed(3)}`,
        };
      }),
    };
  }

  async call(task: Task, candidate: SourceCandidate, signal: AbortSignal, attributes: Readonly<Record<string, string | number | boolean>>): Promise<SourceReply> {
    const started = performance.now();
    this.inFlight.set(candidate.source, (this.inFlight.get(candidate.source) ?? 0) + 1);
    try {
      const answer = await callTraced(
        this.client,
        { capability: task.capability, source: candidate.source, input: this.inputFor(task), timeoutMs: this.options.timeoutMs, signal },
        attributes,
      );
      return {
        ok: true,
        statusCode: 200,
        statusMessage: `answered (${answer.cost.basis === 'unpriced' ? 'unpriced' : `$${answer.cost.usd.toFixed(6)}, ${answer.cost.basis}`})`,
        raw: answer.raw,
        latencyMs: answer.latencyMs,
        responseBytes: answer.responseBytes,
        costUsd: answer.cost.usd,
        costTao: answer.cost.usd / this.options.taoUsdRate,
        sourceEvidence: true,
      };
    } catch (error) {
      if (error instanceof ProviderAbortedError || error instanceof UnsupportedCapabilityError || error instanceof InvalidProviderInputError) throw error;
      if (error instanceof ProviderError) return this.failedReply(error, candidate, performance.now() - started);
      // Anything else was provoked by what the gateway sent (the clients wrap every fault they
      // know): that source's failed reply, never a rethrow that would fail the task for everyone.
      const why = truncateText(error instanceof Error ? error.message : String(error), this.options.textLimitChars);
      return {
        ok: false,
        statusCode: 0,
        statusMessage: `${this.provider} ${candidate.source}: the answer could not be read (${why})`,
        fault: 'bad_response',
        latencyMs: performance.now() - started,
        responseBytes: 0,
        costUsd: 0,
        costTao: 0,
        sourceEvidence: true,
      };
    } finally {
      this.inFlight.set(candidate.source, (this.inFlight.get(candidate.source) ?? 1) - 1);
    }
  }

  /** The provider's input for the task: a chat request built from the capability for an LLM, the task's input for search and data gateways. */
  private inputFor(task: Task): unknown {
    if (this.provider !== 'chutes') return task.input;
    if (!isCapability(task.capability)) return task.input;
    return { messages: promptFor(task.capability as Capability, task.input, task.feedback), json: true };
  }

  private failedReply(error: ProviderError, candidate: SourceCandidate, latencyMs: number): SourceReply {
    const base = { ok: false, statusCode: error.status ?? 0, fault: error.fault, latencyMs, responseBytes: 0, costUsd: 0, costTao: 0 };
    const message = truncateText(error.message, this.options.textLimitChars);
    const gatewayWide = this.judgeGatewayFault(error);
    if (gatewayWide) {
      return { ...base, statusMessage: `${gatewayWide}; not the fault of ${candidate.source}, which keeps its reputation`, sourceEvidence: false };
    }
    if (error.fault === 'rate_limited') {
      const restMs = error.retryAfterMs ?? 1_000;
      this.resting.set(candidate.source, this.now() + restMs);
      return { ...base, statusMessage: `${message}; resting ${candidate.source} for ${Math.round(restMs)} ms (Retry-After) and moving to another source`, sourceEvidence: false };
    }
    // A model the listing named but the gateway no longer knows: that source's trouble, not a malformed request.
    if (error.blame === 'ours' && error.status !== 404) throw error;
    return { ...base, statusMessage: message, sourceEvidence: true };
  }

  /**
   * When the failure is the whole gateway's (our key refused, no credit, host unreachable):
   * turns the provider off for `offMs` and says why. Undefined for anything else.
   */
  private judgeGatewayFault(error: unknown): string | undefined {
    if (!(error instanceof ProviderError)) return undefined;
    if (error.blame !== 'config' && error.fault !== 'network') return undefined;
    const what =
      error.fault === 'auth'
        ? `the gateway refused our API key (${error.status ?? 'auth'}): check ORCH_${this.provider.toUpperCase()}_API_KEY`
        : error.fault === 'payment'
          ? `the account has no credit left (${error.status ?? 'payment'}): top it up`
          : `the gateway could not be reached (${truncateText(error.message, 200)})`;
    const until = this.now() + this.options.offMs;
    const reason = `${what}; ${this.provider} is off until ${new Date(until).toISOString()}`;
    this.off = { until, reason };
    this.listing = undefined;
    return reason;
  }

  /** The gateway's sources, listed at most once per `sourcesTtlMs` (concurrent hires share a listing). */
  private sources(): Promise<SourceInfo[]> {
    const now = this.now();
    if (this.listing && now - this.listing.at < this.options.sourcesTtlMs) return this.listing.sources;
    const sources = this.client.listSources();
    this.listing = { at: now, sources };
    sources.catch(() => {
      if (this.listing?.sources === sources) this.listing = undefined;
    });
    return sources;
  }
}
