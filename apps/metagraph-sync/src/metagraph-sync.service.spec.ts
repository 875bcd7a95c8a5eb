import { Bus } from '@orchestra/bus';
import { Buckets, MetagraphSchema, metagraphKey, type Metagraph } from '@orchestra/contracts';
import { axonAccessSettings, loadHotkey } from '@orchestra/bittensor';
import { FakeSubtensor, generateChainState, type NeuronState, type SubnetState } from '@orchestra/fake-subtensor';
import { NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { syncSettings } from './config';
import { MetagraphSyncService } from './metagraph-sync.service';

/** metagraph-sync against a real nats-server and a fake finney (spec 424) node. */
describe('MetagraphSyncService', () => {
  let server: NatsServerHandle;
  let bus: Bus;
  let fake: FakeSubtensor;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await Bus.connect({ servers: server.url, name: 'metagraph-sync-spec', storage: { replicas: 1, storage: 'memory' } });
    fake = await FakeSubtensor.start({ state: await generateChainState({ subnets: 3, neuronsPerSubnet: 32 }), blockTimeMs: 0 });
  });

  afterAll(async () => {
    await bus.close();
    await fake.stop();
    await server.dispose();
  });

  async function syncOnce(netuids?: string, accessEnv: Record<string, string> = {}): Promise<MetagraphSyncService> {
    const settings = syncSettings.parse({ ORCH_SUBTENSOR_URL: fake.url, ORCH_SYNC_MIN_INTERVAL_MS: '600000', ORCH_NETUIDS: netuids });
    const service = new MetagraphSyncService(bus, settings, axonAccessSettings(accessEnv));
    await service.onApplicationBootstrap();
    await service.onModuleDestroy();
    return service;
  }

  const stored = async (netuid: number): Promise<Metagraph | undefined> => {
    const entry = await (await bus.kv(Buckets.metagraph)).get(metagraphKey(netuid));
    return entry?.value.length ? MetagraphSchema.parse(entry.json()) : undefined;
  };

  it('writes every subnet at one finalized block, with permits, dividends, stakes and the pool price from the chain', async () => {
    const block = fake.produceBlock();
    const service = await syncOnce();
    expect(service.synced).toBe(true);
    for (const subnet of fake.state.subnets) {
      const metagraph = await stored(subnet.netuid);
      expect(metagraph?.block).toBe(block);
      expect(metagraph?.neurons.map((n) => n.hotkey)).toEqual(subnet.neurons.map((n) => n.hotkey));
      expect(metagraph?.neurons.map((n) => n.validatorPermit)).toEqual(subnet.neurons.map((n) => n.validatorPermit));
      expect(metagraph?.neurons.map((n) => n.dividends)).toEqual(subnet.neurons.map((n) => n.dividends / 65535));
      expect(metagraph?.neurons.map((n) => n.alphaStakeRao)).toEqual(subnet.neurons.map((n) => n.alphaStakeRao.toString()));
      expect(metagraph?.pool.price).toBe(Number(subnet.alphaPriceRao) / 1e9);
    }
  });

  it('keeps writing the subnets it can read when one cannot be, and is not ready until all are', async () => {
    const block = fake.produceBlock();
    const service = await syncOnce('1,999,2');
    expect(service.synced).toBe(false);
    expect((await stored(1))?.block).toBe(block);
    expect((await stored(2))?.block).toBe(block);
    expect(await stored(999)).toBeUndefined();
  });

  describe("our hotkey's access to SN13 and SN22 axons", () => {
    const RAO = 1_000_000_000n;
    let alice: string;

    beforeAll(async () => {
      alice = (await loadHotkey('//Alice')).address;
    });

    /** SN13 and SN22 as generated subnets renumbered, with //Alice as UID 1 of each when `ours` is given. */
    function subnetsWithAlice(ours: { 13?: Partial<NeuronState>; 22?: Partial<NeuronState> }): number {
      const [a, b] = fake.state.subnets.slice(1, 3);
      const place = (subnet: SubnetState, netuid: 13 | 22): SubnetState => {
        const change = ours[netuid];
        const neurons = subnet.neurons.map((n) => (n.uid === 1 && change ? { ...n, hotkey: alice, coldkey: alice, ...change } : n));
        return { ...subnet, netuid, neurons };
      };
      fake.upsertSubnet(place(a, 13));
      return fake.upsertSubnet(place(b, 22));
    }

    it('is usable with a permit and the stake each blacklist asks, and the record and /readyz detail say so', async () => {
      subnetsWithAlice({
        13: { validatorPermit: true, alphaStakeRao: 12_000n * RAO, taoStakeRao: 0n },
        22: { validatorPermit: false, alphaStakeRao: 25_000n * RAO, taoStakeRao: 0n },
      });
      const service = await syncOnce('13,22');
      const sn13 = (await stored(13))?.access;
      expect(sn13).toMatchObject({ hotkey: alice, uid: 1, validatorPermit: true, stakeAlpha: 12_000, requiredStake: 10_000, eligible: true, reason: 'ok' });
      expect(sn13?.alphaValueTao).toBeCloseTo(12_000 * ((await stored(13))?.pool.price ?? 0), 6);
      expect(sn13?.taoToReach).toBeUndefined();
      expect((await stored(22))?.access).toMatchObject({ uid: 1, validatorPermit: false, requiredStake: 20_000, eligible: true });
      expect(service.accessChecks()).toEqual({ 'axon SN13': 'usable (UID 1, stake 12000 of 10000)', 'axon SN22': 'usable (UID 1, stake 25000 of 20000)' });
    });

    it('is off without a permit or stake, or unregistered, saying why and what the missing stake would cost', async () => {
      subnetsWithAlice({ 13: { validatorPermit: false, alphaStakeRao: 0n, taoStakeRao: 0n } });
      const service = await syncOnce('13,22');
      const sn13 = (await stored(13))?.access;
      expect(sn13).toMatchObject({ uid: 1, validatorPermit: false, stakeAlpha: 0, eligible: false });
      expect(sn13?.reason).toMatch(/SN13 axons would refuse us: UID 1 holds no validator permit.*stake 0 is below the 10,000 required/);
      expect(sn13?.taoToReach).toBeGreaterThan(0);
      const sn22 = (await stored(22))?.access;
      expect(sn22).toMatchObject({ hotkey: alice, uid: null, eligible: false });
      expect(sn22?.reason).toMatch(/not registered on SN22/);
      expect(sn22?.taoToReach).toBeGreaterThan(0);
      expect(service.accessChecks()['axon SN13']).toMatch(/^off: SN13 axons would refuse us/);
      expect(service.accessChecks()['axon SN22']).toMatch(/^off: hotkey .* is not registered on SN22/);
    });

    it('reads the hotkey from its address alone, and takes the threshold from configuration', async () => {
      subnetsWithAlice({ 13: { validatorPermit: true, alphaStakeRao: 6_000n * RAO, taoStakeRao: 0n } });
      await syncOnce('13', { ORCH_HOTKEY_ADDRESS: alice, ORCH_AXON_REQUIRED_STAKE: '13=5000' });
      expect((await stored(13))?.access).toMatchObject({ hotkey: alice, requiredStake: 5_000, eligible: true });
    });
  });
});
