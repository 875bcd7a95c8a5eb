import { AddressPolicy, axonAccess, ChainReader, Dendrite, GET_MINER_INDEX, loadHotkey, SUBNET_AXON_RULES, TWITTER_SEARCH_SYNAPSE } from '@orchestra/bittensor';
import type { Neuron } from '@orchestra/contracts';
import { FakeSubtensor } from '@orchestra/fake-subtensor';
import { chainState, Devnet, DEVNET_VALIDATOR_URI, startDevnet } from './devnet';
import { loadDevnetConfig } from './devnet-config';

/** The devnet's chain as a client reads it: it must look like finney, so a ranking that hires validators shows. */
describe('devnet chain', () => {
  let devnet: Devnet;
  let reader: ChainReader;

  beforeAll(async () => {
    const config = loadDevnetConfig('apps/devnet/devnet.config.json');
    devnet = await startDevnet({ ...config, blockTimeMs: 60_000 }, { chainPort: 0 });
    reader = await ChainReader.connect(devnet.chain.url);
  });

  afterAll(async () => {
    await reader.close();
    await devnet.stop();
  });

  it('registers //Alice and other validators with permits, big stakes and dividends on every subnet, miners with the incentive', async () => {
    const alice = (await loadHotkey(DEVNET_VALIDATOR_URI)).address;
    const stake = (n: Neuron) => BigInt(n.totalStakeRao);
    for (const netuid of await reader.listSubnets()) {
      const { neurons, pool } = await reader.readMetagraph(netuid);
      const validators = neurons.filter((n) => n.validatorPermit);
      const miners = neurons.filter((n) => !n.validatorPermit);
      const simulated = devnet.miners.filter((m) => m.netuid === netuid);

      expect(validators.map((v) => v.hotkey)).toContain(alice);
      expect(validators.length).toBeGreaterThanOrEqual(3);
      expect(validators.every((v) => v.dividends > 0 && v.incentive === 0)).toBe(true);
      // Validators other than //Alice serve axons, as on finney: only the ranking keeps them out.
      expect(validators.filter((v) => v.hotkey !== alice).every((v) => v.axon !== null)).toBe(true);
      const minerStake = miners.reduce((m, n) => (stake(n) > m ? stake(n) : m), 0n);
      expect(validators.every((v) => stake(v) > 50n * minerStake)).toBe(true);

      expect(miners.map((m) => m.hotkey).sort()).toEqual(simulated.map((m) => m.hotkey).sort());
      expect(miners.reduce((sum, m) => sum + m.incentive, 0)).toBeCloseTo(1, 9);
      expect(miners.every((m) => !m.active && m.dividends === 0 && m.axon !== null)).toBe(true);
      // Incentive falls in config order: the first configured miner is the chain's favourite.
      const favourite = miners.reduce((a, b) => (b.incentive > a.incentive ? b : a));
      expect(favourite.uid).toBe(1);
      expect(pool.price).toBeGreaterThan(0);
    }
  });
});

/** //Alice's access to SN13 and SN22 axons on the devnet's chain, staked and gateway-only, as a client reads it. */
describe('devnet chain: axon access of //Alice', () => {
  // The shipped config has both data subnets' miners.
  const config = loadDevnetConfig('apps/devnet/devnet.config.json');
  const others = [13, 22].flatMap((netuid) => [0, 1].map(() => ({ netuid, host: '127.0.0.1', port: 1 })));

  async function accessOnDevnet(orchestraStaked: boolean) {
    const alice = (await loadHotkey(DEVNET_VALIDATOR_URI)).address;
    const validators = await Promise.all(others.map(async (v, i) => ({ ...v, hotkey: (await loadHotkey(`//Orchestra/spec/validator${i}`)).address })));
    const fake = await FakeSubtensor.start({ state: chainState(config, alice, [], validators, { orchestraStaked }), blockTimeMs: 0 });
    const reader = await ChainReader.connect(fake.url);
    try {
      const read = async (netuid: 13 | 22) => {
        const metagraph = await reader.readMetagraph(netuid);
        const bigStakes = metagraph.neurons.filter((n) => n.hotkey !== alice).every((n) => n.validatorPermit && BigInt(n.totalStakeRao) >= 200_000n * 10n ** 9n);
        return { access: axonAccess(metagraph, alice, SUBNET_AXON_RULES[netuid]), bigStakes };
      };
      return { sn13: await read(13), sn22: await read(22) };
    } finally {
      await reader.close();
      await fake.stop();
    }
  }

  it('gives //Alice a permit and the stake both blacklists ask, beside other validators with big stakes', async () => {
    const { sn13, sn22 } = await accessOnDevnet(true);
    expect(sn13.access).toMatchObject({ uid: 0, validatorPermit: true, eligible: true, reason: 'ok' });
    expect(sn22.access).toMatchObject({ uid: 0, eligible: true });
    expect(sn13.access.stakeAlpha).toBeGreaterThanOrEqual(20_000);
    expect(sn13.bigStakes && sn22.bigStakes).toBe(true);
  });

  it('gateway-only: //Alice is registered but unstaked and without a permit, so neither subnet would answer', async () => {
    const { sn13, sn22 } = await accessOnDevnet(false);
    expect(sn13.access).toMatchObject({ uid: 0, validatorPermit: false, stakeAlpha: 0, eligible: false });
    expect(sn13.access.reason).toMatch(/no validator permit.*below the 10,000 required/);
    expect(sn22.access.reason).toMatch(/stake 0 is below the 20,000 required/);
  });
});

/** The devnet's SN13 and SN22 miners judge callers by the devnet's chain, with the subnets' own rules. */
describe('devnet data miners', () => {
  let devnet: Devnet;
  const config = {
    blockTimeMs: 60_000,
    slowMs: 15_000,
    subnets: [
      { netuid: 13, name: 'data', taoReserve: 61_000, alphaReserve: 980_000, miners: ['good' as const] },
      // A threshold above //Alice's stake (100,000 alpha): SN22's miners refuse it.
      { netuid: 22, name: 'search', taoReserve: 30_000, alphaReserve: 900_000, minValidatorStake: 1_000_000, miners: ['good' as const] },
    ],
  };

  beforeAll(async () => {
    devnet = await startDevnet(config, { chainPort: 0 });
  });

  afterAll(() => devnet.stop());

  it('admit //Alice on SN13, refuse a stranger and, past the configured threshold, //Alice on SN22', async () => {
    const policy = new AddressPolicy({ allow: ['loopback'] });
    const alice = new Dendrite({ hotkey: await loadHotkey(DEVNET_VALIDATOR_URI), addressPolicy: policy });
    const stranger = new Dendrite({ hotkey: await loadHotkey('//Mallory'), addressPolicy: policy });
    const at = (netuid: number) => {
      const m = devnet.miners.find((x) => x.netuid === netuid) as Devnet['miners'][number];
      return { ip: m.host, port: m.port, hotkey: m.hotkey };
    };
    expect((await alice.call(at(13), GET_MINER_INDEX, { version: 4 })).ok).toBe(true);
    expect(await stranger.call(at(13), GET_MINER_INDEX, { version: 4 })).toMatchObject({
      statusCode: 403,
      statusMessage: `Forbidden. Key is blacklisted: Unrecognized hotkey ${stranger.hotkey} at 127.0.0.1.`,
    });
    const refused = await alice.call(at(22), TWITTER_SEARCH_SYNAPSE, { query: 'tao' });
    expect(refused).toMatchObject({ statusCode: 403 });
    // Total stake as the chain computes it: alpha plus TaoWeight × root stake.
    expect(refused.statusMessage).toMatch(
      new RegExp(`low stake TwitterSearchSynapse request: alpha_stake=100000\\.0 < 20 or total_stake=10\\d{4}\\.\\d+ < 1000000 from ${alice.hotkey}\\.$`),
    );
  });
});
