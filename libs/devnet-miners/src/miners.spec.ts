import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { KeyringPair } from '@polkadot/keyring/types';
import {
  AddressPolicy,
  createSubnetAdapter,
  DEFAULT_CAPABILITY_NETUIDS,
  DEFAULT_SUBNET_PROTOCOLS,
  epistulaHeaders,
  EPISTULA_CHAT_PATH,
  httpExchange,
  MinerTarget,
  subnetAdapterResolver,
  SubnetAdapter,
} from '@orchestra/bittensor';
import { Capability, definitionFor, FinancialRow, standardize, verifyOutput } from '@orchestra/schemas';
import { BEHAVIOURS, BehaviourName, BehaviourOptions, COLLUSION_FACTOR, startSimulatedMiner, SimulatedMiner } from './index';
import { FINANCIAL_ROWS } from './dataset';

const loopback = new AddressPolicy({ allow: ['loopback'] });
let orchestra: KeyringPair;
let minerKey: KeyringPair;
let stranger: KeyringPair;
let resolve: (netuid: number) => SubnetAdapter;
const running: SimulatedMiner[] = [];

beforeAll(async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  orchestra = keyring.addFromUri('//Alice');
  minerKey = keyring.addFromUri('//Bob');
  stranger = keyring.addFromUri('//Mallory');
  resolve = subnetAdapterResolver({ hotkey: orchestra, addressPolicy: loopback, maxResponseBytes: 1 << 20 });
});

afterAll(() => Promise.all(running.map((m) => m.stop())));

async function miner(netuid: number, behaviour: BehaviourName, options: BehaviourOptions = {}): Promise<MinerTarget> {
  const m = await startSimulatedMiner({
    netuid,
    uid: running.length,
    hotkey: minerKey,
    behaviour,
    slowMs: 2000,
    ...options,
    blacklist: (hotkey) => (hotkey === orchestra.address ? undefined : 'Signer not in metagraph'),
  });
  running.push(m);
  return { netuid, uid: m.uid, hotkey: m.hotkey, ip: m.host, port: m.port };
}

const FIN_INPUT = { entities: ['AAPL', 'MSFT', 'NVDA'], periods: ['FY2019', 'FY2020', 'FY2021', 'FY2022', 'FY2023'], metrics: ['revenue', 'net_income'] };
const rowsFor = (entities: string[]): FinancialRow[] => FINANCIAL_ROWS.filter((r) => entities.includes(r.entity));
/** The capabilities the simulated axon miners serve (the catalog's others are bought from gateways). */
type MinerCapability = Extract<Capability, 'data.financials' | 'text.analysis' | 'code.python'>;
const INPUTS: Record<MinerCapability, unknown> = {
  'data.financials': FIN_INPUT,
  'text.analysis': { question: 'How did revenue and profit develop?', rows: rowsFor(['AAPL', 'NVDA']) },
  'code.python': { task: 'Plot revenue and net income per company over the years', rows: rowsFor(['AAPL', 'MSFT']) },
};

const hire = async (capability: MinerCapability, behaviour: BehaviourName, timeoutMs = 1000) => {
  const netuid = DEFAULT_CAPABILITY_NETUIDS[capability];
  return resolve(netuid).hire(await miner(netuid, behaviour), { capability, input: INPUTS[capability], timeoutMs });
};

const schemaOf = (c: MinerCapability) => definitionFor(c, INPUTS[c]).outputSchemaId;

describe('default tables', () => {
  it('route each capability to its subnet and protocol', () => {
    expect(DEFAULT_SUBNET_PROTOCOLS).toEqual({ 1: 'epistula', 13: 'synapse', 22: 'synapse', 62: 'synapse' });
    expect(DEFAULT_CAPABILITY_NETUIDS).toEqual({
      'data.financials': 13,
      'text.analysis': 1,
      'code.python': 62,
      'web.search': 22,
      'data.social': 13,
      'text.report': 1,
      'data.extract': 64,
    });
    expect(() => createSubnetAdapter('platform', { hotkey: orchestra, addressPolicy: loopback })).toThrow('platform');
  });
});

describe.each(Object.keys(INPUTS) as MinerCapability[])('%s end to end through its adapter', (capability) => {
  it('good → output that passes the capability output schema and its semantic checks', async () => {
    const reply = await hire(capability, 'good');
    expect(reply).toMatchObject({ ok: true, statusCode: 200 });
    const verdict = await verifyOutput(schemaOf(capability), reply.raw as string, INPUTS[capability]);
    expect(verdict).toMatchObject({ ok: true });
    expect(reply.latencyMs).toBeGreaterThan(0);
    expect(reply.responseBytes).toBeGreaterThan(0);
  });

  it('slow → 408 after the timeout', async () => {
    const reply = await hire(capability, 'slow', 300);
    expect(reply).toMatchObject({ ok: false, statusCode: 408, fault: 'timeout', statusMessage: 'Timedout after 0.3 seconds.' });
  });

  it('down → 503 connection refused', async () => {
    const reply = await hire(capability, 'down');
    expect(reply).toMatchObject({ ok: false, statusCode: 503, fault: 'unreachable' });
  });

  it('huge → abandoned at the byte cap', async () => {
    const reply = await hire(capability, 'huge', 5000);
    expect(reply).toMatchObject({ ok: false, fault: 'too_large' });
  });

  it('redirect → not followed', async () => {
    const reply = await hire(capability, 'redirect');
    expect(reply).toMatchObject({ ok: false, statusCode: 302, fault: 'redirect' });
    expect(reply.statusMessage).toContain('169.254.169.254');
  });

  it('wrong-schema → a raw text that fails schema validation', async () => {
    const reply = await hire(capability, 'wrong-schema');
    expect(reply.ok).toBe(true);
    expect(standardize(schemaOf(capability), reply.raw as string)).toMatchObject({ ok: false, kind: 'schema' });
  });

  it('garbage → refused (422 for a synapse body that is not JSON) or a raw text that is not JSON', async () => {
    const reply = await hire(capability, 'garbage');
    if (reply.ok) expect(standardize(schemaOf(capability), reply.raw as string)).toMatchObject({ ok: false, kind: 'not_json' });
    else expect(reply).toMatchObject({ statusCode: 422, fault: 'bad_response' });
  });
});

/** Another question of the same capability, for `replay`: fewer companies, so the first answer no longer fits. */
const OTHER_INPUTS: Record<MinerCapability, unknown> = {
  'data.financials': { entities: ['GOOGL'], periods: ['FY2023'], metrics: ['revenue'] },
  'text.analysis': { question: 'How did NVIDIA do?', rows: rowsFor(['NVDA']) },
  'code.python': { task: 'Plot Amazon', rows: rowsFor(['AMZN']) },
};

describe.each(Object.keys(INPUTS) as MinerCapability[])('%s: hostile behaviours through the adapter', (capability) => {
  const netuid = DEFAULT_CAPABILITY_NETUIDS[capability];
  const call = (target: MinerTarget, input = INPUTS[capability]) => resolve(netuid).hire(target, { capability, input, timeoutMs: 2000 });

  it('intermittent → every k-th call fails: a 500, then a dropped connection', async () => {
    const target = await miner(netuid, 'intermittent', { failEvery: 2 });
    const replies = [];
    for (let i = 0; i < 5; i++) replies.push(await call(target));
    expect(replies.map((r) => r.ok)).toEqual([true, false, true, false, true]);
    expect(replies[1]).toMatchObject({ statusCode: 500 });
    expect(replies[3]).toMatchObject({ statusCode: 503, fault: 'disconnected' });
  });

  it('slow-tail → the 20th call takes 10× the normal latency', async () => {
    const target = await miner(netuid, 'slow-tail', { latencyMs: 25 });
    const latencies = [];
    for (let i = 0; i < 20; i++) {
      const reply = await call(target);
      expect(reply.ok).toBe(true);
      latencies.push(reply.latencyMs);
    }
    // Lower bounds only: a busy machine can make any call slower, never faster.
    expect(Math.min(...latencies)).toBeGreaterThanOrEqual(25);
    expect(latencies[19]).toBeGreaterThanOrEqual(250);
    // Which calls are slow is the behaviour's plan, checked without a clock.
    const delays = Array.from({ length: 40 }, (_, i) => (BEHAVIOURS['slow-tail'].plan({ latencyMs: 25 }, i) as { delayMs?: number }).delayMs);
    expect(delays.filter((d) => d === 250).length).toBe(2);
    expect(delays[19]).toBe(250);
    expect(delays[39]).toBe(250);
  });

  it('replay → the first answer again, whatever is asked', async () => {
    const target = await miner(netuid, 'replay');
    const first = await call(target);
    expect(await verifyOutput(schemaOf(capability), first.raw as string, INPUTS[capability])).toMatchObject({ ok: true });
    const again = await call(target, OTHER_INPUTS[capability]);
    expect(again).toMatchObject({ ok: true, raw: first.raw });
    const verdict = await verifyOutput(schemaOf(capability), again.raw as string, OTHER_INPUTS[capability]);
    // The code check can only say the replayed script parses; the data and analysis checks see the wrong question.
    expect(verdict).toMatchObject(capability === 'code.python' ? { ok: true } : { ok: false, kind: 'semantic' });
  });

  it('colluding → two UIDs agree on the same scaled figures, which pass every check', async () => {
    const [a, b, honest] = await Promise.all([call(await miner(netuid, 'colluding')), call(await miner(netuid, 'colluding')), call(await miner(netuid, 'good'))]);
    expect(a.ok && b.ok && honest.ok).toBe(true);
    expect(b.raw).toBe(a.raw);
    expect(a.raw).not.toBe(honest.raw);
    expect(await verifyOutput(schemaOf(capability), a.raw as string, INPUTS[capability])).toMatchObject({ ok: true });
  });
});

describe('real content', () => {
  it('colluding SN13 miners scale every figure by the shared factor', async () => {
    const [colluding, honest] = await Promise.all([hire('data.financials', 'colluding'), hire('data.financials', 'good')]);
    const rows = (raw: unknown) => (JSON.parse(raw as string) as { rows: FinancialRow[] }).rows;
    expect(rows(colluding.raw)).toEqual(rows(honest.raw).map((r) => ({ ...r, value: Math.round(r.value * COLLUSION_FACTOR) })));
  });

  it('SN13 serves exactly the requested rows of the data set, batching more than 5 tickers', async () => {
    const input = { entities: ['AAPL', 'MSFT', 'GOOGL', 'AMZN', 'NVDA', 'META'], periods: ['FY2022', 'FY2023'], metrics: ['revenue'] };
    const reply = await resolve(13).hire(await miner(13, 'good'), { capability: 'data.financials', input, timeoutMs: 2000 });
    const verdict = standardize<{ rows: FinancialRow[] }>('data.financials@1', reply.raw as string);
    if (!verdict.ok) throw new Error(verdict.errors.join('\n'));
    expect(verdict.value.rows).toEqual(FINANCIAL_ROWS.filter((r) => r.metric === 'revenue' && ['FY2022', 'FY2023'].includes(r.period)));
  });

  it('SN1 analysis cites the rows its numbers come from, wrapped in chat prose', async () => {
    const reply = await hire('text.analysis', 'good');
    expect(reply.raw).toMatch(/^Sure[\s\S]*```json[\s\S]*```[\s\S]*detail\.$/);
    const verdict = standardize<{ findings: { statement: string; citations: number[] }[] }>('text.analysis@1', reply.raw as string);
    if (!verdict.ok) throw new Error(verdict.errors.join('\n'));
    const rows = (INPUTS['text.analysis'] as { rows: FinancialRow[] }).rows;
    const nvda = verdict.value.findings.find((f) => f.statement.startsWith('NVDA revenue'));
    expect(nvda?.citations.map((i) => `${rows[i].entity}/${rows[i].period}/${rows[i].metric}`)).toEqual(['NVDA/FY2019/revenue', 'NVDA/FY2023/revenue']);
  });

  it('SN62 writes a matplotlib script that embeds the rows', async () => {
    const reply = await hire('code.python', 'good');
    const verdict = standardize<{ code: string; dependencies: string[]; entrypoint: string }>('code.python@1', reply.raw as string);
    if (!verdict.ok) throw new Error(verdict.errors.join('\n'));
    expect(verdict.value.dependencies).toEqual(['matplotlib']);
    expect(verdict.value.entrypoint).toBe('plot_financials.py');
    expect(verdict.value.code).toContain('import matplotlib.pyplot as plt');
    expect(verdict.value.code).toContain('{"entity":"MSFT","period":"FY2023","metric":"net_income","value":72361');
  });

  it('a re-ask carries the feedback to the miner', async () => {
    const target = await miner(62, 'good');
    const reply = await resolve(62).hire(target, { capability: 'code.python', input: INPUTS['code.python'], feedback: ['code: too short'], timeoutMs: 2000 });
    expect(reply.ok).toBe(true);
  });
});

describe('protocol refusals by the simulated miners', () => {
  it('an unregistered caller is blacklisted (synapse 403, epistula 401)', async () => {
    const stranded = createSubnetAdapter('synapse', { hotkey: stranger, addressPolicy: loopback });
    const r13 = await stranded.hire(await miner(13, 'good'), { capability: 'data.financials', input: FIN_INPUT, timeoutMs: 2000 });
    expect(r13).toMatchObject({ ok: false, statusCode: 403, statusMessage: 'Forbidden. Key is blacklisted: Signer not in metagraph.' });
    const chat = createSubnetAdapter('epistula', { hotkey: stranger, addressPolicy: loopback });
    const r1 = await chat.hire(await miner(1, 'good'), { capability: 'text.analysis', input: INPUTS['text.analysis'], timeoutMs: 2000 });
    expect(r1).toMatchObject({ ok: false, statusCode: 401, statusMessage: 'Signer not in metagraph' });
  });

  it('epistula: a bad signature, a stale timestamp and a request for another miner are refused', async () => {
    const target = await miner(1, 'good');
    const body = JSON.stringify({ messages: [{ role: 'user', content: 'hi' }], stream: true });
    const post = async (headers: Record<string, string>, sent = body) => {
      const res = await httpExchange(loopback, { ip: target.ip, port: target.port, path: EPISTULA_CHAT_PATH, headers, body: sent, timeoutMs: 2000, maxResponseBytes: 1 << 16 });
      return [res.status, (JSON.parse(res.body.toString()) as { detail: string }).detail];
    };
    expect(await post(epistulaHeaders(orchestra, body, target.hotkey), body.replace('hi', 'yo'))).toEqual([400, 'Signature Mismatch']);
    expect(await post(epistulaHeaders(orchestra, body, target.hotkey, Date.now() - 9000))).toEqual([400, 'Request is too stale']);
    expect(await post(epistulaHeaders(orchestra, body, stranger.address))).toEqual([400, 'Bad Request, message is not intended for self']);
  });

  it('refuses private and metadata addresses before connecting', async () => {
    const strict = createSubnetAdapter('synapse', { hotkey: orchestra, addressPolicy: new AddressPolicy() });
    for (const ip of ['10.0.0.1', '169.254.169.254', '127.0.0.1', '::1']) {
      const reply = await strict.hire({ netuid: 13, uid: 0, hotkey: minerKey.address, ip, port: 8091 }, { capability: 'data.financials', input: FIN_INPUT, timeoutMs: 1000 });
      expect(reply).toMatchObject({ ok: false, fault: 'address_refused' });
    }
  });

  it('refuses an invalid hire input as our own error, not a miner fault', async () => {
    await expect(resolve(13).hire(await miner(13, 'good'), { capability: 'data.financials', input: { entities: [] }, timeoutMs: 1000 })).rejects.toThrow(
      'input for data.financials is invalid',
    );
  });
});
