import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { KeyringPair } from '@polkadot/keyring/types';
import { AddressPolicy, DEFAULT_CAPABILITY_NETUIDS, MinerReply, MinerTarget, subnetAdapterResolver, SubnetAdapter, SubnetAdapterDeps } from '@orchestra/bittensor';
import { DEFAULT_LIMITS, TRUNCATION_MARKER } from '@orchestra/contracts';
import { Capability, definitionFor, verifyOutput } from '@orchestra/schemas';
import { BehaviourName, HOSTILE_BEHAVIOURS, HOSTILE_TEXT_CHARS, startSimulatedMiner, SimulatedMiner } from './index';
import { FINANCIAL_ROWS } from './dataset';

/**
 * The client side against hostile miners: real servers, real signed protocols, Orchestra's real
 * adapters. Every hostile answer must come back as a clean failed reply (or an answer the
 * verifier rejects), bounded in size, and never as a thrown error.
 */
const loopback = new AddressPolicy({ allow: ['loopback'] });
const MAX_RESPONSE_BYTES = 512 * 1024;
let orchestra: KeyringPair;
let minerKey: KeyringPair;
const running: SimulatedMiner[] = [];

beforeAll(async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  orchestra = keyring.addFromUri('//Alice');
  minerKey = keyring.addFromUri('//Bob');
});

afterAll(() => Promise.all(running.map((m) => m.stop())));

async function miner(netuid: number, behaviour: BehaviourName): Promise<MinerTarget> {
  const m = await startSimulatedMiner({ netuid, uid: running.length, hotkey: minerKey, behaviour });
  running.push(m);
  return { netuid, uid: m.uid, hotkey: m.hotkey, ip: m.host, port: m.port };
}

const rows = FINANCIAL_ROWS.filter((r) => r.entity === 'AAPL');
/** The capabilities the simulated axon miners serve (the catalog's others are bought from gateways). */
type MinerCapability = Extract<Capability, 'data.financials' | 'text.analysis' | 'code.python'>;
const INPUTS: Record<MinerCapability, unknown> = {
  'data.financials': { entities: ['AAPL'], periods: ['FY2022', 'FY2023'], metrics: ['revenue'] },
  'text.analysis': { question: 'How did revenue develop?', rows },
  'code.python': { task: 'Plot revenue per year', rows },
};

const adapters = (deps: Partial<SubnetAdapterDeps> = {}) => subnetAdapterResolver({ hotkey: orchestra, addressPolicy: loopback, maxResponseBytes: MAX_RESPONSE_BYTES, ...deps });

async function hire(capability: MinerCapability, behaviour: BehaviourName, timeoutMs = 3000, resolve: (netuid: number) => SubnetAdapter = adapters()): Promise<MinerReply> {
  const netuid = DEFAULT_CAPABILITY_NETUIDS[capability];
  return resolve(netuid).hire(await miner(netuid, behaviour), { capability, input: INPUTS[capability], timeoutMs });
}

/** What reaches the verifier is bounded, whatever the miner sent. */
function expectBounded(reply: MinerReply): void {
  expect(reply.statusMessage.length).toBeLessThanOrEqual(DEFAULT_LIMITS.textLimitChars + 40);
}

it('every hostile behaviour is in the hostile set, and the set only names known behaviours', () => {
  expect([...HOSTILE_BEHAVIOURS].sort()).toEqual(['deep-json', 'huge', 'huge-error', 'huge-headers', 'invalid-utf8', 'trickle']);
});

describe.each(Object.keys(INPUTS) as MinerCapability[])('%s: a hostile miner is refused cleanly by the client side', (capability) => {
  const synapse = capability !== 'text.analysis';
  const schemaId = definitionFor(capability, INPUTS[capability]).outputSchemaId;

  it('deep-json → refused before anything walks it (synapse: 422 bad_response; SN1: not_json at the verifier)', async () => {
    const reply = await hire(capability, 'deep-json');
    expectBounded(reply);
    if (synapse) {
      expect(reply).toMatchObject({ ok: false, statusCode: 422, fault: 'bad_response' });
      expect(reply.statusMessage).toContain(`deeper than ${DEFAULT_LIMITS.maxJsonDepth} levels`);
    } else {
      expect(reply.ok).toBe(true);
      const verdict = await verifyOutput(schemaId, reply.raw as string, INPUTS[capability]);
      expect(verdict).toMatchObject({ ok: false, kind: 'not_json' });
      expect(JSON.stringify(verdict).length).toBeLessThan(4_000);
    }
  });

  it('huge-error → the 400,000-character status message / detail is cut at the boundary, with a marker', async () => {
    const reply = await hire(capability, 'huge-error');
    expect(reply).toMatchObject({ ok: false, statusCode: 500, fault: 'error_status' });
    expectBounded(reply);
    expect(reply.statusMessage).toMatch(/^miner failure: E+/);
    expect(reply.statusMessage).toContain(`${TRUNCATION_MARKER} ${HOSTILE_TEXT_CHARS + 'miner failure: '.length - DEFAULT_LIMITS.textLimitChars} chars]`);
  });

  it('huge-headers → refused as too_large without reading them', async () => {
    const reply = await hire(capability, 'huge-headers');
    expect(reply).toMatchObject({ ok: false, fault: 'too_large' });
    expect(reply.statusMessage).toContain('response headers exceed');
    expectBounded(reply);
  });

  it('invalid-utf8 → a corrupt answer (422 bad_response), not text guessed at', async () => {
    const reply = await hire(capability, 'invalid-utf8');
    expect(reply).toMatchObject({ ok: false, statusCode: 422, fault: 'bad_response' });
    expect(reply.statusMessage).toMatch(/not valid/i);
    expectBounded(reply);
  });

  it('huge (endless body) → cut off at maxResponseBytes', async () => {
    const reply = await hire(capability, 'huge', 10_000);
    expect(reply).toMatchObject({ ok: false, statusCode: 400, fault: 'too_large' });
    expect(reply.statusMessage).toContain(`response exceeds ${MAX_RESPONSE_BYTES} bytes`);
  });

  it('trickle → cut off at the timeout', async () => {
    const reply = await hire(capability, 'trickle', 800);
    expect(reply).toMatchObject({ ok: false, statusCode: 408, fault: 'timeout' });
  });
});

describe('an exception the answer provokes in decoding', () => {
  it('is the miner’s failed reply, never a rethrow (the depth check turned off to reach the decoder)', async () => {
    // With the parse limit lifted, SN13's decoder meets the 100,000-deep value itself and
    // JSON.stringify throws RangeError: the adapter must report it, not throw it.
    const reply = await hire('data.financials', 'deep-json', 3000, adapters({ maxJsonDepth: 1_000_000 }));
    expect(reply).toMatchObject({ ok: false, statusCode: 422, fault: 'bad_response' });
    expect(reply.statusMessage).toContain('Maximum call stack size exceeded');
  });
});
