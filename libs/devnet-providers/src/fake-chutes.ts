import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { readPlanningRequest } from '@orchestra/schemas';
import { answerPlanningRequest, PlanFault } from './plan-engine';
import { answerPrompt, EngineMessage } from './text-engine';
import { BehaviourTuning, pause, planOf, ProviderBehaviour, RequestCounter } from './behaviours';
import { FakeServer, garbage, json, startHttpFake } from './http-fake';

/**
 * A fake Chutes (SN64) gateway: OpenAI-compatible `POST /v1/chat/completions` (whole or SSE
 * stream, with `usage`; the final usage chunk when `stream_options.include_usage` is set) and
 * `GET /v1/models` (with `pricing` in USD per million tokens where a model has one), behind
 * `Authorization: Bearer <key>`. Each model has a behaviour (behaviours.ts); `good` answers with
 * the text engine. Tokens are counted as ⌈characters / 4⌉ of the prompt and of the answer.
 */

export interface FakeChutesModel {
  readonly id: string;
  readonly behaviour: ProviderBehaviour;
  /** USD per million tokens; omitted models list no price (clients price them from configuration). */
  readonly pricing?: { readonly prompt: number; readonly completion: number };
  /** Asked for a plan (a planning prompt), answer one broken this way (plan-engine.ts); other prompts as `behaviour` says. */
  readonly planFault?: PlanFault;
}

/** One model per behaviour, plus a good model the listing does not price. */
export const DEFAULT_FAKE_CHUTES_MODELS: readonly FakeChutesModel[] = [
  { id: 'devnet/good-llm', behaviour: 'good', pricing: { prompt: 0.25, completion: 1 } },
  { id: 'devnet/unpriced-llm', behaviour: 'good' },
  { id: 'devnet/garbage-llm', behaviour: 'garbage', pricing: { prompt: 0.1, completion: 0.1 } },
  { id: 'devnet/wrong-schema-llm', behaviour: 'wrong-schema', pricing: { prompt: 0.1, completion: 0.1 } },
  { id: 'devnet/slow-llm', behaviour: 'slow', pricing: { prompt: 0.1, completion: 0.1 } },
  { id: 'devnet/down-llm', behaviour: 'down', pricing: { prompt: 0.1, completion: 0.1 } },
  { id: 'devnet/intermittent-llm', behaviour: 'intermittent', pricing: { prompt: 0.1, completion: 0.1 } },
  { id: 'devnet/rate-limited-llm', behaviour: 'rate-limited', pricing: { prompt: 0.1, completion: 0.1 } },
  // Planners that answer planning prompts with a broken plan, one violation each.
  { id: 'devnet/cyclic-planner-llm', behaviour: 'good', planFault: 'cycle', pricing: { prompt: 0.1, completion: 0.1 } },
  { id: 'devnet/unknown-capability-planner-llm', behaviour: 'good', planFault: 'unknown-capability', pricing: { prompt: 0.1, completion: 0.1 } },
  { id: 'devnet/dangling-ref-planner-llm', behaviour: 'good', planFault: 'dangling-ref', pricing: { prompt: 0.1, completion: 0.1 } },
  { id: 'devnet/over-budget-planner-llm', behaviour: 'good', planFault: 'over-budget', pricing: { prompt: 0.1, completion: 0.1 } },
  { id: 'devnet/prose-planner-llm', behaviour: 'good', planFault: 'no-json', pricing: { prompt: 0.1, completion: 0.1 } },
];

export interface FakeChutesOptions extends BehaviourTuning {
  /** Keys accepted as `Bearer <key>`; any other gets 401. */
  readonly apiKeys: readonly string[];
  readonly models?: readonly FakeChutesModel[];
  readonly host?: string;
  readonly port?: number;
}

/** ⌈characters / 4⌉: the fake's token count (deterministic, roughly a BPE tokenizer's on English). */
export function fakeTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function startFakeChutes(options: FakeChutesOptions): Promise<FakeServer> {
  const models = new Map((options.models ?? DEFAULT_FAKE_CHUTES_MODELS).map((m) => [m.id, m]));
  const counter = new RequestCounter();
  return startHttpFake(async (req, res, gone) => {
    const key = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    if (!key || !options.apiKeys.includes(key)) return json(res, 401, { detail: 'Invalid token.' });
    if (req.method === 'GET' && req.path === '/v1/models') {
      return json(res, 200, {
        object: 'list',
        data: [...models.values()].map((m) => ({ id: m.id, object: 'model', created: 1_735_689_600, owned_by: 'devnet', ...(m.pricing ? { pricing: m.pricing } : {}) })),
      });
    }
    if (req.method !== 'POST' || req.path !== '/v1/chat/completions') return json(res, 404, { detail: `no route ${req.method} ${req.path}` });
    let body: { model?: unknown; messages?: unknown; stream?: unknown; stream_options?: { include_usage?: unknown } };
    try {
      body = JSON.parse(req.body) as typeof body;
    } catch {
      return json(res, 400, { detail: 'body is not JSON' });
    }
    const model = typeof body.model === 'string' ? models.get(body.model) : undefined;
    if (!model) return json(res, 404, { detail: `model not found: ${String(body.model)}` });
    if (!Array.isArray(body.messages) || !body.messages.every((m) => typeof m?.content === 'string' && typeof m?.role === 'string')) {
      return json(res, 422, { detail: [{ loc: ['body', 'messages'], msg: 'a list of {role, content} is required', type: 'value_error' }] });
    }
    const messages = body.messages as EngineMessage[];
    const stream = body.stream === true;
    const plan = planOf(model.behaviour, counter.next(model.id), options);
    switch (plan.kind) {
      case 'rate-limited':
        return json(res, 429, { detail: 'Too many requests' }, { 'retry-after': String(plan.retryAfterSeconds) });
      case 'unavailable':
        return plan.intermittent ? json(res, 500, { detail: 'Internal server error' }) : json(res, 503, { detail: 'No instances available (yet) for this chute' });
      case 'garbage':
        if (!stream) return garbage(res);
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return void res.end('data: {"choices": [{"delta": {"content": "Hel\n\ndata: ###\n\n');
      case 'wrong-schema':
        if (!stream) return json(res, 200, { id: 'cmpl-x', object: 'chat.completion', output: answerPrompt(messages) });
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return void res.end(`data: ${JSON.stringify({ delta: 'no choices here' })}\n\ndata: [DONE]\n\n`);
      case 'good':
        await pause(plan.delayMs, gone);
        if (gone.aborted) return;
        return reply(res, model, messages, stream, body.stream_options?.include_usage === true);
    }
  }, options);
}

function reply(res: ServerResponse, { id: model, planFault }: FakeChutesModel, messages: readonly EngineMessage[], stream: boolean, includeUsage: boolean): void {
  // A planning prompt gets a plan read from the catalog in it; any other prompt the text engine's answer.
  const planning = readPlanningRequest(messages);
  const content = planning ? answerPlanningRequest(planning, planFault) : answerPrompt(messages);
  const prompt = fakeTokens(messages.map((m) => m.content).join('\n'));
  const completion = fakeTokens(content);
  const usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
  const id = `chatcmpl-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  if (!stream) {
    return json(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [{ index: 0, message: { role: 'assistant', content }, logprobs: null, finish_reason: 'stop' }],
      usage,
    });
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}): string =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices, ...extra })}\n\n`;
  res.write(chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]));
  // Pieces of about 16 characters, as a model streams tokens.
  for (const piece of content.match(/[\s\S]{1,16}/g) ?? []) res.write(chunk([{ index: 0, delta: { content: piece }, finish_reason: null }]));
  res.write(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]));
  if (includeUsage) res.write(chunk([], { usage }));
  res.end('data: [DONE]\n\n');
}
