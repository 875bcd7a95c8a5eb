import type { SearchResult, SocialPost } from '@orchestra/schemas';
import type { ProviderId } from './errors';

/**
 * A provider sells work: a capability's input goes in; a raw answer, what it used and what it
 * cost come out. A *source* is one competitor inside a provider (a model behind Chutes, an
 * endpoint of Desearch, a platform of Constellation); the dispatcher ranks and swaps sources,
 * whatever the provider.
 */

/** How a source is priced. */
export type Price =
  /** USD per million prompt and completion tokens (Chutes' models listing, or configuration). */
  | { readonly kind: 'per_token'; readonly promptUsdPerMTok: number; readonly completionUsdPerMTok: number }
  /** Charged per call; `usd` is the configured estimate when the gateway reports the real figure per call. */
  | { readonly kind: 'per_call'; readonly usd?: number };

/** One competitor inside a provider. */
export interface SourceInfo {
  readonly provider: ProviderId;
  /** The model id, endpoint or platform the call names. */
  readonly id: string;
  readonly capabilities: readonly string[];
  /** Undefined when the gateway lists no price and none is configured: calls are then `unpriced`. */
  readonly price?: Price;
}

/** One call to one source. */
export interface ProviderCall {
  readonly capability: string;
  readonly source: string;
  /** The provider's input for the capability (each provider documents and validates its own). */
  readonly input: unknown;
  /** Total budget of the call, ms: connect, send, and read the whole answer. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** What a call used, as the gateway reported it. */
export interface Usage {
  readonly promptTokens?: number;
  readonly completionTokens?: number;
  /** Results returned (posts, links). */
  readonly items?: number;
}

/** What a call cost. */
export interface Cost {
  readonly usd: number;
  /**
   * `tokens`: usage × the source's per-token price; `reported`: the gateway's own per-call
   * figure; `configured`: the operator's per-call price; `unpriced`: no price known (usd is 0).
   */
  readonly basis: 'tokens' | 'reported' | 'configured' | 'unpriced';
}

/** A successful call. Nothing in it is verified beyond the gateway's own documented shape. */
export interface ProviderAnswer {
  readonly provider: ProviderId;
  readonly source: string;
  readonly capability: string;
  /** The text handed to the verifier: the model's content, or the normalized results as JSON. */
  readonly raw: string;
  /** The normalized value behind `raw` (search items, posts, or the content string). */
  readonly value: unknown;
  readonly usage: Usage;
  readonly cost: Cost;
  /** Wall time of the call on our side, ms. */
  readonly latencyMs: number;
  readonly responseBytes: number;
}

/** A gateway client. */
export interface Provider {
  readonly id: ProviderId;
  /** Capabilities this provider can serve as configured. */
  readonly capabilities: readonly string[];
  /** The sources on offer, with their prices. */
  listSources(signal?: AbortSignal): Promise<SourceInfo[]>;
  /**
   * Calls one source once. Throws ProviderError (with blame and retryability) for any failure of
   * the gateway or source, ProviderAbortedError when `signal` aborts, and
   * UnsupportedCapabilityError / InvalidProviderInputError for our own mistakes.
   */
  call(call: ProviderCall): Promise<ProviderAnswer>;
  /** Releases connections (gRPC channels). */
  close?(): void;
}

/** A normalized search result (web.search@1's item, libs/schemas): enough to cite. */
export type SearchItem = SearchResult;

/** A normalized social post (data.social@1's item, libs/schemas): enough to cite. */
export type { SocialPost };
