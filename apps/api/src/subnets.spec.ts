import { Buckets, metagraphKey, reputationKey, sourceReputationKey, type Metagraph, type Neuron, type Reputation } from '@orchestra/contracts';
import { ApiUnderTest, startApiUnderTest } from './api.fixture';
import { specValidator } from './openapi/openapi.fixture';
import type { SubnetsView } from './subnets';

const neuron = (uid: number, incentive: number, extra: Partial<Neuron> = {}): Neuron => ({
  uid,
  hotkey: `hk${uid}`,
  coldkey: `ck${uid}`,
  alphaStakeRao: '0',
  totalStakeRao: '0',
  emissionRao: '0',
  incentive,
  consensus: 0,
  dividends: 0,
  validatorPermit: false,
  active: false,
  lastUpdate: 1,
  axon: { ip: '10.0.0.1', port: 8091, ipType: 4, protocol: 4, version: 1 },
  ...extra,
});

const reputation = (calls: number, answered: number, accepted: number): Reputation => ({
  calls,
  answered,
  judged: answered,
  conforming: answered,
  accepted,
  latencyMs: 500,
  updatedAt: new Date().toISOString(),
});

describe('GET /v1/subnets', () => {
  let api: ApiUnderTest;
  beforeAll(async () => {
    api = await startApiUnderTest('subnets-spec');
    const metagraph: Metagraph = {
      netuid: 13,
      block: 4242,
      syncedAt: new Date().toISOString(),
      pool: { netuid: 13, taoReserveRao: '1', alphaReserveRao: '1', price: 1 },
      neurons: [neuron(0, 0, { validatorPermit: true, dividends: 0.5 }), neuron(1, 0.1), neuron(2, 0.4), neuron(3, 0.9, { axon: null }), neuron(4, 0.2)],
      access: { hotkey: 'me', uid: 0, validatorPermit: true, stakeAlpha: 1, stakeTao: 0, requiredStake: 0, eligible: true, reason: 'ok' },
    };
    await (await api.bus.kv(Buckets.metagraph)).put(metagraphKey(13), JSON.stringify(metagraph));
    const reputations = await api.bus.kv(Buckets.reputation);
    await reputations.put(reputationKey(13, 1, 'data.social'), JSON.stringify(reputation(4, 4, 3)));
    await reputations.put(sourceReputationKey('chutes', 'deepseek-ai/DeepSeek-V3', 'text.analysis'), JSON.stringify(reputation(5, 5, 5)));
    await reputations.put(sourceReputationKey('chutes', 'flaky/Model:free', 'text.analysis'), JSON.stringify(reputation(5, 1, 1)));
  });
  afterAll(() => api?.close());

  it("lists each capability's providers in order, a subnet's miners by incentive and a gateway's sources by their record", async () => {
    const res = await api.fetch(`${api.base}/v1/subnets`);
    expect(res.status).toBe(200);
    const view = (await res.json()) as SubnetsView;
    // As the OpenAPI document says.
    const validate = specValidator((await (await fetch(`${api.base}/openapi.json`)).json()) as object);
    expect(validate('GET /v1/subnets', 200, 'application/json', view)).toBeUndefined();
    const social = view.capabilities.find((c) => c.capability === 'data.social');
    const axon = social?.providers.find((p) => p.provider === 'axon');
    expect(social?.providers.map((p) => p.provider)).toEqual(['constellation', 'desearch', 'axon']);
    expect(axon).toMatchObject({ netuid: 13, block: 4242, access: { eligible: true, reason: 'ok' } });
    // The validator and the miner without an axon are left out; the rest by incentive against the best miner's.
    expect(axon?.sources.map((s) => [s.source, s.incentiveShare])).toEqual([
      ['uid2', 1],
      ['uid4', 0.5],
      ['uid1', 0.25],
    ]);
    expect(axon?.sources.find((s) => s.source === 'uid1')?.observed).toMatchObject({ accepted: expect.closeTo(3, 1), answered: expect.closeTo(4, 1) });

    const chutes = view.capabilities.find((c) => c.capability === 'text.analysis')?.providers.find((p) => p.provider === 'chutes');
    expect(chutes?.netuid).toBe(64);
    expect(chutes?.sources.map((s) => s.source)).toEqual(['deepseek-ai/DeepSeek-V3', 'flaky/Model:free']);
  });

  it('answers with empty sources when metagraph-sync has written nothing', async () => {
    const view = (await (await api.fetch(`${api.base}/v1/subnets`)).json()) as SubnetsView;
    const code = view.capabilities.find((c) => c.capability === 'code.python')?.providers.find((p) => p.provider === 'axon');
    expect(code).toEqual({ provider: 'axon', netuid: 62, sources: [] });
  });
});
