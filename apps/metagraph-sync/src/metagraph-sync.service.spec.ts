import { Bus } from '@orchestra/bus';
import { Buckets, MetagraphSchema, metagraphKey, type Metagraph } from '@orchestra/contracts';
import { FakeSubtensor, generateChainState } from '@orchestra/fake-subtensor';
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

  async function syncOnce(netuids?: string): Promise<MetagraphSyncService> {
    const settings = syncSettings.parse({ ORCH_SUBTENSOR_URL: fake.url, ORCH_SYNC_MIN_INTERVAL_MS: '600000', ORCH_NETUIDS: netuids });
    const service = new MetagraphSyncService(bus, settings);
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
});
