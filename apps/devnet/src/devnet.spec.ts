import { ChainReader, loadHotkey } from '@orchestra/bittensor';
import type { Neuron } from '@orchestra/contracts';
import { Devnet, DEVNET_VALIDATOR_URI, startDevnet } from './devnet';
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
