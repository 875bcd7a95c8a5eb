import { Metagraph, Neuron } from '@orchestra/contracts';
import { rankCandidates } from './ranking';

const neuron = (uid: number, overrides: Partial<Neuron> = {}): Neuron => ({
  uid,
  hotkey: `hk${uid}`,
  coldkey: `ck${uid}`,
  stakeRao: '1000000000000',
  emissionRao: '0',
  incentive: 0.5,
  trust: 0.5,
  consensus: 0.5,
  dividends: 0,
  validatorTrust: 0,
  validatorPermit: false,
  active: true,
  lastUpdate: 100,
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
  it('ranks by incentive first, then the other chain signals; ties go to the lower UID', () => {
    const ranked = rankCandidates(metagraph([neuron(1, { incentive: 0.2 }), neuron(2, { incentive: 0.9 }), neuron(3), neuron(4)]), {
      excludeUids: [],
      addressAllowed: allowPublic,
    });
    expect(ranked.candidates.map((c) => c.neuron.uid)).toEqual([2, 3, 4, 1]);
  });

  it('prefers recently active neurons', () => {
    const ranked = rankCandidates(metagraph([neuron(1, { lastUpdate: 0, active: false }), neuron(2)]), { excludeUids: [], addressAllowed: allowPublic });
    expect(ranked.candidates[0].neuron.uid).toBe(2);
  });

  it('leaves out tried UIDs, neurons without an axon, refused addresses and our own hotkey, and counts each', () => {
    const ranked = rankCandidates(
      metagraph([
        neuron(0, { hotkey: 'me', axon: null, validatorPermit: true }),
        neuron(1),
        neuron(2, { axon: null }),
        neuron(3, { axon: { ip: '10.0.0.5', port: 1, ipType: 4, protocol: 4, version: 1 } }),
        neuron(4),
      ]),
      { excludeUids: [1], selfHotkey: 'me', addressAllowed: allowPublic },
    );
    expect(ranked.candidates.map((c) => c.neuron.uid)).toEqual([4]);
    expect(ranked.excluded).toEqual({ alreadyTried: 1, noAxon: 1, refusedAddress: 1, self: 1 });
  });
});
