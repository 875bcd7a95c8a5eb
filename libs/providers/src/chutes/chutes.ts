import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { DEFAULT_LIMITS } from '@orchestra/contracts';
import { parseGatewayJson, tokenCostUsd, zodIssues } from '../answer';
import { InvalidProviderInputError, ProviderAbortedError, ProviderError, UnsupportedCapabilityError } from '../errors';
import { gatewayFetch, SseDataReader, StreamFormatError } from '../http';
import type { Cost, Price, Provider, ProviderAnswer, ProviderCall, SourceInfo, Usage } from '../types';

/**
 * Chutes (SN64): OpenAI-compatible inference. `POST /v1/chat/completions` (whole, or streamed as
 * SSE `data:` chunks ending with `data: [DONE]`), `GET /v1/models` (with each model's price in
 * USD per million tokens under `pricing.prompt` / `pricing.completion`), `Authorization: Bearer`.
 * Sources are models. Cost = usage from the answer × the model's price (listing first, then
 * configuration); without usage or price a call is `unpriced`.
 */

export const CHUTES_DEFAULT_URL = 'https://llm.chutes.ai';
export const CHUTES_CHAT_PATH = '/v1/chat/completions';
export const CHUTES_MODELS_PATH = '/v1/models';
/** Capabilities an LLM source serves unless configured otherwise. */
export const CHUTES_DEFAULT_CAPABILITIES = ['text.analysis', 'code.python', 'data.financials', 'text.report', 'data.extract'] as const;

export interface ChutesOptions {
  readonly apiKey: string;
  /** Default https://llm.chutes.ai. */
  readonly baseUrl?: string;
  readonly capabilities?: readonly string[];
  /** Prices per model where the listing has none (or to pin them), USD per million tokens. */
  readonly prices?: Readonly<Record<string, { readonly promptUsdPerMTok: number; readonly completionUsdPerMTok: number }>>;
  /** Stream answers (SSE) unless the call's input says otherwise (default true). */
  readonly stream?: boolean;
  /** Largest answer read, bytes (default: what fits a NATS message, DEFAULT_LIMITS.recordBudgetBytes). */
  readonly maxResponseBytes?: number;
  readonly maxRetryAfterMs?: number;
  /** How long a models listing is trusted for prices, ms (default 300000). */
  readonly modelsTtlMs?: number;
  /** Budget of a models listing fetched during a call to price it, ms (default 5000). */
  readonly listingTimeoutMs?: number;
}

const MAX_MESSAGES = 64;
const MAX_MESSAGE_CHARS = 200_000;

/** What a Chutes call takes: an OpenAI chat request (the dispatcher builds the prompt from the capability's input). */
export const ChutesChatInputSchema = z.object({
  messages: z
    .array(z.object({ role: z.enum(['system', 'user', 'assistant']), content: z.string().max(MAX_MESSAGE_CHARS) }))
    .min(1)
    .max(MAX_MESSAGES),
  maxTokens: z.number().int().positive().max(1_000_000).optional(),
  temperature: z.number().min(0).max(2).optional(),
  /** Ask for `response_format: {"type":"json_object"}`. */
  json: z.boolean().optional(),
  /** Overrides the client's streaming default for this call. */
  stream: z.boolean().optional(),
});
export type ChutesChatInput = z.infer<typeof ChutesChatInputSchema>;

const count = z.number().int().nonnegative();
const UsageShape = z.object({ prompt_tokens: count, completion_tokens: count }).passthrough();

/** A `chat.completion` (https://platform.openai.com/docs/api-reference/chat/object). */
const CompletionShape = z
  .object({
    choices: z.array(z.object({ message: z.object({ content: z.string().nullable().optional() }).passthrough() }).passthrough()).min(1),
    usage: UsageShape.nullable().optional(),
  })
  .passthrough();

/** A `chat.completion.chunk`; the last one carries `usage` when `stream_options.include_usage` is set. */
const ChunkShape = z
  .object({
    choices: z.array(z.object({ delta: z.object({ content: z.string().nullable().optional() }).passthrough().optional() }).passthrough()),
    usage: UsageShape.nullable().optional(),
  })
  .passthrough();

const price = z.number().nonnegative().finite();
/** `GET /v1/models`: OpenAI's list, with Chutes' `pricing` (USD per million tokens) where it reports one. */
const ModelsShape = z.object({
  data: z
    .array(
      z
        .object({
          id: z.string().min(1).max(300),
          pricing: z.object({ prompt: price, completion: price }).passthrough().nullable().optional(),
        })
        .passthrough(),
    )
    .max(10_000),
});

export class ChutesProvider implements Provider {
  readonly id = 'chutes' as const;
  readonly capabilities: readonly string[];
  private readonly baseUrl: string;
  private listing?: { readonly at: number; readonly prices: ReadonlyMap<string, Price | undefined> };

  constructor(private readonly options: ChutesOptions) {
    this.baseUrl = (options.baseUrl ?? CHUTES_DEFAULT_URL).replace(/\/+$/, '');
    this.capabilities = options.capabilities ?? CHUTES_DEFAULT_CAPABILITIES;
  }

  async listSources(signal?: AbortSignal): Promise<SourceInfo[]> {
    return this.fetchListing(this.options.listingTimeoutMs ?? 5_000, signal);
  }

  async call(call: ProviderCall): Promise<ProviderAnswer> {
    if (!this.capabilities.includes(call.capability)) {
      throw new UnsupportedCapabilityError(`chutes is not configured for ${call.capability} (serves ${this.capabilities.join(', ')})`);
    }
    const parsed = ChutesChatInputSchema.safeParse(call.input);
    if (!parsed.success) throw new InvalidProviderInputError('chutes', call.capability, zodIssues(parsed.error));
    const input = parsed.data;
    const start = performance.now();
    const stream = input.stream ?? this.options.stream ?? true;
    const body = JSON.stringify({
      model: call.source,
      messages: input.messages,
      stream,
      ...(stream ? { stream_options: { include_usage: true } } : {}),
      ...(input.maxTokens !== undefined ? { max_tokens: input.maxTokens } : {}),
      ...(input.temperature !== undefined ? { temperature: input.temperature } : {}),
      ...(input.json ? { response_format: { type: 'json_object' } } : {}),
    });
    const maxResponseBytes = this.options.maxResponseBytes ?? DEFAULT_LIMITS.recordBudgetBytes;
    const where = `${CHUTES_CHAT_PATH} (${call.source})`;
    let content = '';
    let usage: z.infer<typeof UsageShape> | null | undefined;
    const sse = new SseDataReader((data) => {
      const chunk = parseGatewayJson('chutes', `${where} stream chunk`, data, ChunkShape);
      content += chunk.choices[0]?.delta?.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }, maxResponseBytes);
    const response = await gatewayFetch({
      provider: 'chutes',
      url: new URL(CHUTES_CHAT_PATH, this.baseUrl),
      method: 'POST',
      headers: { authorization: `Bearer ${this.options.apiKey}`, 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json' },
      body,
      timeoutMs: call.timeoutMs,
      maxResponseBytes,
      maxRetryAfterMs: this.options.maxRetryAfterMs,
      signal: call.signal,
      onText: stream ? (text) => sseFeed(sse, text) : undefined,
    });
    if (stream) {
      sse.end();
      // A stream that stops without [DONE] was cut: what arrived may be half an answer.
      if (!sse.done) throw new ProviderError('chutes', 'bad_response', `chutes ${where}: the stream ended without data: [DONE] (cut short)`);
    } else {
      const completion = parseGatewayJson('chutes', where, response.text, CompletionShape);
      content = completion.choices[0].message.content ?? '';
      usage = completion.usage;
    }
    const used: Usage = usage ? { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens } : {};
    const sourcePrice = await this.priceOf(call.source, start, call.timeoutMs, call.signal);
    return {
      provider: 'chutes',
      source: call.source,
      capability: call.capability,
      raw: content,
      value: content,
      usage: used,
      cost: costOf(used, sourcePrice),
      latencyMs: performance.now() - start,
      responseBytes: response.bytes,
    };
  }

  /** The model's price: the listing's (fetched within what is left of the call's budget when stale), else configuration. */
  private async priceOf(model: string, start: number, timeoutMs: number, signal?: AbortSignal): Promise<Price | undefined> {
    const ttl = this.options.modelsTtlMs ?? 300_000;
    if (!this.listing || Date.now() - this.listing.at > ttl) {
      const left = Math.min(this.options.listingTimeoutMs ?? 5_000, timeoutMs - (performance.now() - start));
      if (left > 0) {
        try {
          await this.fetchListing(left, signal);
        } catch (error) {
          // The answer is in hand; a listing failure only loses the price (configuration may still have it).
          if (error instanceof ProviderAbortedError) throw error;
        }
      }
    }
    return this.listing?.prices.get(model) ?? this.configuredPrice(model);
  }

  private configuredPrice(model: string): Price | undefined {
    const p = this.options.prices?.[model];
    return p ? { kind: 'per_token', promptUsdPerMTok: p.promptUsdPerMTok, completionUsdPerMTok: p.completionUsdPerMTok } : undefined;
  }

  private async fetchListing(timeoutMs: number, signal?: AbortSignal): Promise<SourceInfo[]> {
    const response = await gatewayFetch({
      provider: 'chutes',
      url: new URL(CHUTES_MODELS_PATH, this.baseUrl),
      method: 'GET',
      headers: { authorization: `Bearer ${this.options.apiKey}`, accept: 'application/json' },
      timeoutMs,
      maxResponseBytes: this.options.maxResponseBytes ?? DEFAULT_LIMITS.recordBudgetBytes,
      maxRetryAfterMs: this.options.maxRetryAfterMs,
      signal,
    });
    const models = parseGatewayJson('chutes', CHUTES_MODELS_PATH, response.text, ModelsShape);
    const prices = new Map<string, Price | undefined>();
    const sources = models.data.map((m): SourceInfo => {
      const listed: Price | undefined = m.pricing ? { kind: 'per_token', promptUsdPerMTok: m.pricing.prompt, completionUsdPerMTok: m.pricing.completion } : undefined;
      const sourcePrice = listed ?? this.configuredPrice(m.id);
      prices.set(m.id, sourcePrice);
      return { provider: 'chutes', id: m.id, capabilities: this.capabilities, ...(sourcePrice ? { price: sourcePrice } : {}) };
    });
    this.listing = { at: Date.now(), prices };
    return sources;
  }
}

function sseFeed(sse: SseDataReader, text: string): void {
  try {
    sse.push(text);
  } catch (error) {
    // Surface a malformed chunk as a stream-format fault of the source, whatever threw it.
    if (error instanceof StreamFormatError || error instanceof ProviderError) throw error;
    throw new StreamFormatError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}

/** USD of a call from its usage and the source's price. */
export function costOf(usage: Usage, sourcePrice: Price | undefined): Cost {
  if (!sourcePrice || sourcePrice.kind !== 'per_token' || usage.promptTokens === undefined || usage.completionTokens === undefined) {
    return { usd: 0, basis: 'unpriced' };
  }
  return {
    usd: tokenCostUsd(usage.promptTokens, sourcePrice.promptUsdPerMTok) + tokenCostUsd(usage.completionTokens, sourcePrice.completionUsdPerMTok),
    basis: 'tokens',
  };
}

/** The shape checks, exported for tests against documented examples. */
export const chutesShapes = { completion: CompletionShape, chunk: ChunkShape, models: ModelsShape };
