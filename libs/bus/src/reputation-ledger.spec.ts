import { Buckets, ReputationSchema, reputationKey } from '@orchestra/contracts';
import { NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { Bus } from './bus';
import { readJson } from './kv';
import { DEFAULT_REPUTATION_SETTINGS, ReputationLedger } from './reputation-ledger';

describe('ReputationLedger', () => {
  let server: NatsServerHandle;
  let bus: Bus;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await Bus.connect({ servers: server.url, name: 'ledger-spec' });
  });
  afterAll(async () => {
    await bus.close();
    await server.dispose();
  });

  it('applies every queued observation, from several writers of one hot key, without losing one', async () => {
    const errors: unknown[] = [];
    const ledgers = await Promise.all([1, 2, 3].map(() => ReputationLedger.open(bus, DEFAULT_REPUTATION_SETTINGS.halfLifeMs, (_key, error) => errors.push(error))));
    for (let i = 0; i < 50; i++) {
      for (const ledger of ledgers) ledger.record(13, 7, 'data.financials', { kind: 'call', answered: i % 2 === 0, latencyMs: 100 });
    }
    await Promise.all(ledgers.map((l) => l.close()));
    const entry = await readJson(await bus.kv(Buckets.reputation), reputationKey(13, 7, 'data.financials'), ReputationSchema);
    expect(errors).toEqual([]);
    // 150 calls and 75 answers (decay over the few milliseconds of the test is negligible).
    expect(entry?.calls).toBeCloseTo(150, 2);
    expect(entry?.answered).toBeCloseTo(75, 2);
  });
});
