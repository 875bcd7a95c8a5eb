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
import { Capability, CAPABILITY_DEFINITIONS, FinancialRow, standardize } from '@orchestra/schemas';
import { BehaviourName, startSimulatedMiner, SimulatedMiner } from './index';
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

async function miner(netuid: number, behaviour: BehaviourName): Promise<MinerTarget> {
  const m = await startSimulatedMiner({
    netuid,
    uid: running.length,
    hotkey: minerKey,
    behaviour,
    slowMs: 2000,
    blacklist: (hotkey) => (hotkey === orchestra.address ? undefined : 'Signer not in metagraph'),
  });
  running.push(m);
  return { netuid, uid: m.uid, hotkey: m.hotkey, ip: m.host, port: m.port };
}

const FIN_INPUT = { entities: ['AAPL', 'MSFT', 'NVDA'], periods: ['FY2019', 'FY2020', 'FY2021', 'FY2022', 'FY2023'], metrics: ['revenue', 'net_income'] };
const rowsFor = (entities: string[]): FinancialRow[] => FINANCIAL_ROWS.filter((r) => entities.includes(r.entity));
const INPUTS: Record<Capability, unknown> = {
  'data.financials': FIN_INPUT,
  'text.analysis': { question: 'How did revenue and profit develop?', rows: rowsFor(['AAPL', 'NVDA']) },
  'code.python': { task: 'Plot revenue and net income per company over the years', rows: rowsFor(['AAPL', 'MSFT']) },
};

const hire = async (capability: Capability, behaviour: BehaviourName, timeoutMs = 1000) => {
  const netuid = DEFAULT_CAPABILITY_NETUIDS[capability];
  return resolve(netuid).hire(await miner(netuid, behaviour), { capability, input: INPUTS[capability], timeoutMs });
};

const schemaOf = (c: Capability) => CAPABILITY_DEFINITIONS[c].outputSchemaId;

describe('default tables', () => {
  it('route each capability to its subnet and protocol', () => {
    expect(DEFAULT_SUBNET_PROTOCOLS).toEqual({ 1: 'epistula', 13: 'synapse', 62: 'synapse' });
    expect(DEFAULT_CAPABILITY_NETUIDS).toEqual({ 'data.financials': 13, 'text.analysis': 1, 'code.python': 62 });
    expect(() => createSubnetAdapter('platform', { hotkey: orchestra, addressPolicy: loopback })).toThrow('platform');
  });
});

describe.each(Object.keys(INPUTS) as Capability[])('%s end to end through its adapter', (capability) => {
  it('good → output that passes the capability output schema', async () => {
    const reply = await hire(capability, 'good');
    expect(reply).toMatchObject({ ok: true, statusCode: 200 });
    const verdict = standardize(schemaOf(capability), reply.raw as string);
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

describe('real content', () => {
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
    await expect(resolve(13).hire(await miner(13, 'good'), { capability: 'data.financials', input: { entities: [] }, timeoutMs: 1000 })).rejects.toThrow('input for data.financials is invalid');
  });
});
