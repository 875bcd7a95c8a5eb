import type { Neuron } from '@orchestra/contracts';
import http, { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import {
  AxonHandler,
  AxonServer,
  ChatMessage,
  chatChunkEvent,
  CODE_GENERATION,
  EpistulaVerificationError,
  EPISTULA_CHAT_PATH,
  ON_DEMAND_REQUEST,
  OnDemandQuery,
  RawReply,
  readBody,
  SSE_DONE,
  SynapseDefinition,
  taskInputOf,
  verifyEpistulaRequest,
  type KeyringPair,
} from '@orchestra/bittensor';
import { AnalysisRequestSchema, CodeRequestSchema } from '@orchestra/schemas';
import { AnswerKind, Behaviour, BEHAVIOURS, BehaviourName, BehaviourOptions, BehaviourPlan, sleep } from './behaviours';
import { analyse, colluded, onDemandEntities, plotScript, wrongSchemaEntities } from './content';
import { FINANCIAL_ROWS } from './dataset';
import type { Blacklist } from './blacklists';
import { DATA_UNIVERSE_ROUTES, DESEARCH_ROUTES, SynapseAnswer } from './data-miners';
import { OrchestraError } from '@orchestra/contracts';

/** How to start one simulated miner. */
export interface SimulatedMinerOptions extends BehaviourOptions {
  /** 1 (epistula chat completions), 13 (OnDemandRequest axon) or 62 (CodeGeneration axon). */
  readonly netuid: number;
  readonly uid: number;
  readonly hotkey: KeyringPair;
  readonly behaviour: BehaviourName;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
  /**
   * A reason to refuse a caller (e.g. not a validator in the fake metagraph), or undefined;
   * given the synapse and the caller's IP on axons (the subnets' blacklists: blacklists.ts).
   */
  readonly blacklist?: Blacklist;
  /** The clock of the data miners' stored posts and search windows (default Date.now). */
  readonly now?: () => number;
  /** Caller priority (stake) for the axon's queue. */
  readonly priority?: (hotkey: string) => number;
}

/** A running simulated miner. */
export interface SimulatedMiner {
  readonly netuid: number;
  readonly uid: number;
  readonly hotkey: string;
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** The netuid has no simulated protocol. */
export class UnknownSimulatedSubnetError extends OrchestraError {
  override readonly name = 'UnknownSimulatedSubnetError';
  readonly retryable = false;
  constructor(readonly netuid: number) {
    super(`no simulated miner for netuid ${netuid}; known: 1, 13, 22, 62`);
  }
}

/** Starts a simulated miner speaking its subnet's protocol with the chosen behaviour. */
export async function startSimulatedMiner(options: SimulatedMinerOptions): Promise<SimulatedMiner> {
  const host = options.host ?? '127.0.0.1';
  const behaviour: Behaviour = BEHAVIOURS[options.behaviour];
  const identity = { netuid: options.netuid, uid: options.uid, hotkey: options.hotkey.address, host };
  if (!(options.netuid in SYNAPSE_MINERS) && options.netuid !== 1) throw new UnknownSimulatedSubnetError(options.netuid);
  if (behaviour.down) return { ...identity, port: await closedPort(host, options.port ?? 0), stop: async () => undefined };

  let requests = 0;
  const plan = (): BehaviourPlan => behaviour.plan(options, requests++);
  if (options.netuid === 1) {
    const render = replaying(chatAnswer);
    const server = http.createServer((req, res) => void serveEpistula(req, res, options, plan, render));
    const port = await listen(server, host, options.port ?? 0);
    return { ...identity, port, stop: () => closeServer(server) };
  }
  const now = options.now ?? Date.now;
  const routes = SYNAPSE_MINERS[options.netuid].map(({ definition, answer }) => {
    // Each synapse remembers its own first answer for `replay`.
    const render = replaying((kind, values: Readonly<Record<string, unknown>>) => (kind === 'garbage' ? new RawReply(garbageReply) : answer(kind, values, now())));
    const handler: AxonHandler = async (request) => {
      const p = plan();
      if ('raw' in p) return new RawReply(p.raw);
      await sleep(p.delayMs ?? 0, request.signal);
      return render(p.answer, request.values);
    };
    return { definition, handler };
  });
  const axon = new AxonServer({ hotkey: options.hotkey, routes, blacklist: options.blacklist, priority: options.priority });
  const port = await axon.listen(options.port ?? 0, host);
  return { ...identity, port, stop: () => axon.close() };
}

/** An answer kind a protocol renders itself; `replay` is memory, kept by `replaying`. */
type RenderedKind = Exclude<AnswerKind, 'replay'>;

/**
 * Wraps a protocol's renderer with the memory `replay` needs: the first `replay` request is
 * answered well and remembered, and every later one gets that same answer, whatever it asks.
 */
function replaying<A, R>(render: (kind: RenderedKind, request: A) => R): (kind: AnswerKind, request: A) => R {
  let first: { answer: R } | undefined;
  return (kind, request) => (kind === 'replay' ? (first ??= { answer: render('good', request) }).answer : render(kind, request));
}

/** Synapse-protocol subnets: the synapses served, each with its answer per kind. */
const SYNAPSE_MINERS: Readonly<Record<number, ReadonlyArray<{ definition: SynapseDefinition; answer: SynapseAnswer }>>> = {
  13: [
    {
      // Legacy: data-universe axons no longer serve it, but the devnet's e2e suites still hire it (data.financials).
      definition: ON_DEMAND_REQUEST,
      answer: (kind, values) => {
        const query = values as Partial<OnDemandQuery>;
        if (kind === 'wrong-schema') return { data: wrongSchemaEntities(query) };
        return { data: onDemandEntities(query, kind === 'colluding' ? colluded(FINANCIAL_ROWS) : FINANCIAL_ROWS) };
      },
    },
    ...DATA_UNIVERSE_ROUTES,
  ],
  22: DESEARCH_ROUTES,
  62: [
    {
      definition: CODE_GENERATION,
      answer: (kind, values) => {
        const request = CodeRequestSchema.safeParse({ task: values.task, rows: values.rows });
        if (kind === 'good' && request.success) return { ...plotScript(request.data) };
        if (kind === 'colluding' && request.success) return { ...plotScript({ ...request.data, rows: colluded(request.data.rows) }) };
        // Valid JSON of the wrong shape: a JavaScript "script" with dependencies as a string.
        return { language: 'javascript', code: 'console.log("plot")', dependencies: 'matplotlib', entrypoint: '' };
      },
    },
  ],
};

/** A 200 whose body is not JSON. */
function garbageReply(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('Sorry!! our data pipeline is warming up, try again later :)');
}

/** SN1: an Epistula-verified OpenAI chat-completions endpoint streaming SSE chunks. */
async function serveEpistula(
  req: IncomingMessage,
  res: ServerResponse,
  options: SimulatedMinerOptions,
  plan: () => BehaviourPlan,
  render: (kind: AnswerKind, messages: readonly ChatMessage[]) => string,
): Promise<void> {
  try {
    if (req.method !== 'POST' || req.url !== EPISTULA_CHAT_PATH) return json(res, 404, { detail: 'Not Found' });
    const body = Buffer.from(await readBody(req, 1024 * 1024), 'utf8');
    try {
      verifyEpistulaRequest({ headers: req.headers, body, ownHotkey: options.hotkey.address, refuseSigner: options.blacklist });
    } catch (err) {
      if (err instanceof EpistulaVerificationError) return json(res, err.statusCode, { detail: err.message });
      throw err;
    }
    const p = plan();
    if ('raw' in p) return p.raw(res);
    const aborted = new AbortController();
    res.once('close', () => aborted.abort());
    await sleep(p.delayMs ?? 0, aborted.signal);
    const { messages } = JSON.parse(body.toString('utf8')) as { messages: ChatMessage[] };
    streamChat(res, render(p.answer, messages));
  } catch {
    json(res, 500, { detail: 'Internal Server Error' });
  }
}

/** The assistant's text: a chatty sentence around a ```json fence (exercises the tolerant parser). */
function chatAnswer(kind: RenderedKind, messages: readonly ChatMessage[]): string {
  if (kind === 'garbage') return 'Great question! Revenue generally went up and to the right for most of these companies, though it depends on how you look at it.';
  const input = AnalysisRequestSchema.safeParse(taskInputOf(messages));
  const value =
    !input.success || kind === 'wrong-schema'
      ? { answer: 'Revenue grew.', confidence: 0.9 }
      : analyse(kind === 'colluding' ? { ...input.data, rows: colluded(input.data.rows) } : input.data);
  return `Sure — here is the analysis you asked for:\n\n\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\`\n\nLet me know if you want more detail.`;
}

/** Writes the text as OpenAI chat.completion.chunk SSE events of ~40 characters, then [DONE]. */
function streamChat(res: ServerResponse, text: string): void {
  const id = `chatcmpl-${randomUUID()}`;
  const model = 'devnet-analyst';
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const piece of text.match(/[\s\S]{1,40}/g) ?? []) res.write(chatChunkEvent(id, model, piece));
  res.write(chatChunkEvent(id, model, '', 'stop'));
  res.end(SSE_DONE);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function listen(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A port nothing listens on: bind a free one (or the requested one) and release it. */
async function closedPort(host: string, port: number): Promise<number> {
  if (port !== 0) return port;
  const server = http.createServer();
  const free = await listen(server, host, 0);
  await closeServer(server);
  return free;
}

/**
 * The metagraph view of a simulated miner with the given incentive (and equal consensus),
 * as today's chain shows a miner (no permit or dividends, inactive, LastUpdate at its
 * registration), for specs and benchmarks that write a metagraph directly instead of
 * running the chain.
 */
export function neuronOf(miner: SimulatedMiner, incentive: number): Neuron {
  return {
    uid: miner.uid,
    hotkey: miner.hotkey,
    coldkey: miner.hotkey,
    alphaStakeRao: '1000000000',
    totalStakeRao: '1000000000',
    emissionRao: '0',
    incentive,
    consensus: incentive,
    dividends: 0,
    validatorPermit: false,
    active: false,
    lastUpdate: 1,
    axon: { ip: miner.host, port: miner.port, ipType: 4, protocol: 4, version: 1 },
  };
}
