import fc from 'fast-check';
import { ChainReader } from './chain-reader';
import { Metagraph, Neuron, Reputation, ReputationObservation, decayReputation, observeReputation } from '@orchestra/contracts';
import { chainStateArbitrary, FakeSubtensor, generateChainState, initDevKeys } from '@orchestra/fake-subtensor';
import { decayedQuality, isValidator, rankCandidates, reputationQuality } from './ranking';

/** A miner as today's chain shows one: inactive, LastUpdate at registration, no permit or dividends. */
const neuron = (uid: number, overrides: Partial<Neuron> = {}): Neuron => ({
  uid,
  hotkey: `hk${uid}`,
  coldkey: `ck${uid}`,
  alphaStakeRao: '1000000000',
  totalStakeRao: '1000000000',
  emissionRao: '0',
  incentive: 0.5,
  consensus: 0.5,
  dividends: 0,
  validatorPermit: false,
  active: false,
  lastUpdate: 3,
  axon: { ip: '203.0.113.7', port: 8091, ipType: 4, protocol: 4, version: 1 },
  ...overrides,
});

const metagraph = (neurons: Neuron[]): Metagraph => ({
  netuid: 13,
  block: 100,
  syncedAt: '2026-01-01T00:00:00.000Z',
  pool: { netuid: 13, taoReserveRao: '1', alphaReserveRao: '1', price: 1 },
  neurons,
});

const allowPublic = (ip: string) => !ip.startsWith('10.');

describe('rankCandidates', () => {
  it('ranks by incentive; ties go to the lower UID', () => {
    const ranked = rankCandidates(metagraph([neuron(1, { incentive: 0.2 }), neuron(2, { incentive: 0.4 }), neuron(3, { incentive: 0.2 }), neuron(4, { incentive: 0.2 })]), {
      excludeUids: [],
      addressAllowed: allowPublic,
    });
    expect(ranked.candidates.map((c) => c.neuron.uid)).toEqual([2, 1, 3, 4]);
  });

  it('compares incentive within the subnet: the best miner scores 1 however many miners share the subnet', () => {
    const many = Array.from({ length: 200 }, (_, i) => neuron(i, { incentive: i === 7 ? 0.02 : 0.98 / 199 }));
    const [top, second] = rankCandidates(metagraph(many), { excludeUids: [], addressAllowed: allowPublic }).candidates;
    expect(top.neuron.uid).toBe(7);
    expect(top.chainScore).toBe(1);
    expect(second.chainScore).toBeCloseTo(0.98 / 199 / 0.02);
  });

  it('ignores signals that no longer say anything about a miner: active, lastUpdate, consensus, stake', () => {
    const ranked = rankCandidates(
      metagraph([neuron(1, { incentive: 0.3, active: true, lastUpdate: 100, consensus: 1, totalStakeRao: '9000000000000' }), neuron(2, { incentive: 0.6 })]),
      { excludeUids: [], addressAllowed: allowPublic },
    );
    expect(ranked.candidates.map((c) => c.neuron.uid)).toEqual([2, 1]);
  });

  it('never hires a validator: a UID with a permit or dividends is left out even with a served axon and incentive', () => {
    const ranked = rankCandidates(
      metagraph([
        neuron(0, { validatorPermit: true, dividends: 0.6, totalStakeRao: '500000000000000', incentive: 0 }),
        neuron(1, { validatorPermit: true, incentive: 0.9 }),
        neuron(2, { dividends: 0.4, incentive: 0.9 }),
        neuron(3, { incentive: 0.1 }),
      ]),
      { excludeUids: [], addressAllowed: allowPublic },
    );
    expect(ranked.candidates.map((c) => c.neuron.uid)).toEqual([3]);
    expect(ranked.candidates[0].chainScore).toBe(1);
    expect(ranked.excluded.validator).toBe(3);
  });

  it('leaves out tried UIDs, validators, neurons without an axon, refused addresses and our own hotkey, and counts each', () => {
    const ranked = rankCandidates(
      metagraph([
        neuron(0, { hotkey: 'me', axon: null, validatorPermit: true }),
        neuron(1),
        neuron(2, { axon: null }),
        neuron(3, { axon: { ip: '10.0.0.5', port: 1, ipType: 4, protocol: 4, version: 1 } }),
        neuron(4),
        neuron(5, { validatorPermit: true, dividends: 0.5 }),
      ]),
      { excludeUids: [1], selfHotkey: 'me', addressAllowed: allowPublic },
    );
    expect(ranked.candidates.map((c) => c.neuron.uid)).toEqual([4]);
    expect(ranked.excluded).toEqual({ alreadyTried: 1, validator: 1, noAxon: 1, refusedAddress: 1, self: 1 });
  });
});

/** The ranking over metagraphs read by the real ChainReader from a fake subtensor node. */
describe('rankCandidates on metagraphs read from the chain', () => {
  let fake: FakeSubtensor;
  let reader: ChainReader;

  beforeAll(async () => {
    await initDevKeys();
    fake = await FakeSubtensor.start({ state: { subnets: [] }, blockTimeMs: 0 });
    reader = await ChainReader.connect(fake.url);
  });

  afterAll(async () => {
    await reader.close();
    await fake.stop();
  });

  const anyAddress = () => true;

  it('on a realistic finney-like chain, picks the served miner with the most incentive and never a validator', async () => {
    const state = await generateChainState({ subnets: 3, neuronsPerSubnet: 256, seed: 7 });
    fake.setState(state);
    for (const subnet of state.subnets) {
      const metagraph = await reader.readMetagraph(subnet.netuid);
      const validators = metagraph.neurons.filter(isValidator);
      // The generated subnet looks like finney: validators hold the stake, miners the incentive.
      expect(validators.length).toBeGreaterThan(20);
      const stakeOf = (n: Neuron) => BigInt(n.totalStakeRao);
      const maxMinerStake = metagraph.neurons.filter((n) => !isValidator(n)).reduce((m, n) => (stakeOf(n) > m ? stakeOf(n) : m), 0n);
      expect(validators.every((v) => stakeOf(v) > maxMinerStake)).toBe(true);
      expect(validators.some((v) => v.axon !== null)).toBe(true);

      const { candidates } = rankCandidates(metagraph, { excludeUids: [], addressAllowed: anyAddress });
      expect(candidates.length).toBeGreaterThan(100);
      expect(candidates.some((c) => isValidator(c.neuron))).toBe(false);
      const served = subnet.neurons.filter((n) => !n.validatorPermit && n.axon && n.axon.ip !== '0.0.0.0');
      const best = served.reduce((a, b) => (b.incentive > a.incentive || (b.incentive === a.incentive && b.uid < a.uid) ? b : a));
      expect(candidates[0].neuron.uid).toBe(best.uid);
    }
    // Three 256-UID subnets through a real node and reader: generous on a shared, loaded machine.
  }, 120_000);

  it('never picks a UID with a permit or dividends on any chain state, however incoherent', async () => {
    await fc.assert(
      fc.asyncProperty(chainStateArbitrary({ maxSubnets: 2, maxNeuronsPerSubnet: 8 }), async (state) => {
        fake.setState(state);
        for (const subnet of state.subnets) {
          const metagraph = await reader.readMetagraph(subnet.netuid);
          const { candidates } = rankCandidates(metagraph, { excludeUids: [], addressAllowed: anyAddress });
          for (const { neuron: n } of candidates) {
            const onChain = subnet.neurons.find((s) => s.uid === n.uid);
            expect(onChain?.validatorPermit).toBe(false);
            expect(onChain?.dividends).toBe(0);
          }
        }
      }),
      { numRuns: 15 },
    );
  });
});

const HOUR = 3_600_000;
const t0 = new Date('2026-01-01T00:00:00.000Z');
/** A reputation built from observations at t0. */
const seen = (...observations: ReputationObservation[]): Reputation =>
  observations.reduce<Reputation | undefined>((rep, obs) => observeReputation(rep, obs, t0, HOUR), undefined) as Reputation;
const good = (latencyMs = 10): ReputationObservation[] => [
  { kind: 'call', answered: true, latencyMs },
  { kind: 'verdict', verdict: 'accepted' },
];
const failed: ReputationObservation = { kind: 'call', answered: false, latencyMs: 50 };

describe('reputationQuality', () => {
  it('is optimistic about a UID never tried (exploration) and about one success', () => {
    const none: Reputation = { calls: 0, answered: 0, judged: 0, conforming: 0, accepted: 0, latencyMs: null, updatedAt: t0.toISOString() };
    expect(reputationQuality(none)).toBe(1);
    expect(reputationQuality(seen(...good(0)))).toBe(1);
  });

  it('halves per failure-to-answer and penalises rejected answers and slowness', () => {
    expect(reputationQuality(seen(failed))).toBeCloseTo(0.5 * (0.5 + 0.5 * (1000 / 1050)));
    const rejected = seen({ kind: 'call', answered: true, latencyMs: 0 }, { kind: 'verdict', verdict: 'schema' });
    expect(reputationQuality(rejected)).toBeCloseTo(0.5);
    expect(reputationQuality(seen(...good(1_000)))).toBeCloseTo(0.75);
  });

  it('of an entry as it stands later is the quality of the decayed entry, computed without building it', () => {
    const entry = seen(failed, failed, { kind: 'call', answered: true, latencyMs: 300 }, { kind: 'verdict', verdict: 'semantics' });
    for (const laterMs of [0, 60_000, 3_600_000, 86_400_000]) {
      const later = new Date(t0.getTime() + laterMs);
      // Twice: the second reads the entry's parsed timestamp from the cache.
      for (let i = 0; i < 2; i++) expect(decayedQuality(entry, later, 3_600_000)).toBeCloseTo(reputationQuality(decayReputation(entry, later, 3_600_000)), 12);
    }
  });
});

describe('rankCandidates with reputation', () => {
  const chain = metagraph([neuron(1, { incentive: 0.45 }), neuron(2, { incentive: 0.25 }), neuron(3, { incentive: 0.2 })]);
  const rank = (reps: Record<number, Reputation>, now = t0, weight = 0.5) =>
    rankCandidates(chain, { excludeUids: [], addressAllowed: allowPublic, reputation: { of: (uid) => reps[uid], weight, halfLifeMs: HOUR, now } });

  it('blends: score = (1 − w)·chain + w·quality', () => {
    const [top] = rank({}).candidates;
    expect(top.quality).toBe(1);
    expect(top.score).toBeCloseTo(0.5 * top.chainScore + 0.5);
  });

  it('demotes a chain favourite that keeps failing below untried and proven UIDs', () => {
    const ranked = rank({ 1: seen(failed, failed, failed), 2: seen(...good(), ...good()) });
    expect(ranked.candidates.map((c) => c.neuron.uid)).toEqual([2, 3, 1]);
  });

  it('lets a failed miner earn its way back as the evidence decays', () => {
    const reps = { 1: seen(failed, failed, failed) };
    expect(rank(reps).candidates[0].neuron.uid).toBe(2);
    expect(rank(reps, new Date(t0.getTime() + 6 * HOUR)).candidates[0].neuron.uid).toBe(1);
  });

  it('keeps the chain order with weight 0', () => {
    expect(rank({ 1: seen(failed, failed) }, t0, 0).candidates.map((c) => c.neuron.uid)).toEqual([1, 2, 3]);
  });
  it('spreads a burst: calls already running at a miner lower its score', () => {
    const neurons = [neuron(1, { incentive: 0.9 }), neuron(2, { incentive: 0.8 })];
    const idle = rankCandidates(metagraph(neurons), { excludeUids: [], addressAllowed: allowPublic });
    expect(idle.candidates[0].neuron.uid).toBe(1);
    const busy = rankCandidates(metagraph(neurons), { excludeUids: [], addressAllowed: allowPublic, load: (uid) => (uid === 1 ? 2 : 0) });
    expect(busy.candidates.map((c) => c.neuron.uid)).toEqual([2, 1]);
  });
  it('puts a preferred UID (a re-ask of the same miner) first when it is eligible', () => {
    const neurons = [neuron(1, { incentive: 0.9 }), neuron(2, { incentive: 0.5 }), neuron(3, { incentive: 0.1 })];
    const rank = (preferUid: number, excludeUids: number[] = []) =>
      rankCandidates(metagraph(neurons), { excludeUids, addressAllowed: allowPublic, preferUid }).candidates.map((c) => c.neuron.uid);
    expect(rank(3)).toEqual([3, 1, 2]);
    expect(rank(3, [3])).toEqual([1, 2]);
  });
});
