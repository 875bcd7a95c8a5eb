import { withShareDefaults } from '@orchestra/devnet-miners';
import { startProviderTwins } from '@orchestra/devnet-providers';
import { JsonLogger } from '@orchestra/service';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { devnetConfig } from './config';
import { loadDevnetConfig, withFaultyShare, withHostileShare } from './devnet-config';
import { startDevnet } from './devnet';

/**
 * The devnet process: a fake subtensor node on ws://127.0.0.1:9944, the simulated
 * miners registered on it, and the gateway providers' twins (fake Chutes, Desearch and
 * Constellation on free loopback ports). Prints one JSON line `{"msg":"devnet ready",…}`
 * with every address, then serves until SIGTERM/SIGINT.
 *
 *   --config <file>   devnet config (default apps/devnet/devnet.config.json)
 *   --faulty [share]  make this share (default 0.3) of each subnet's miners faulty (env ORCH_DEVNET_FAULTY)
 *   --hostile [share] make this share (default 0.3) of each subnet's miners hostile, after
 *                     --faulty (env ORCH_DEVNET_HOSTILE)
 *   --seed <n>        seed of both draws (env ORCH_DEVNET_SEED)
 *   --gateway-only    //Alice unstaked and without permits: no axon answers Orchestra
 *                     (env ORCH_DEVNET_GATEWAY_ONLY=1)
 *   --no-gateways     do not start the gateway twins (for scenarios that hire miner axons only)
 */
async function main(): Promise<void> {
  const logger = new JsonLogger({ service: 'devnet' });
  const { values } = parseArgs({
    args: withShareDefaults(process.argv.slice(2)),
    options: {
      config: { type: 'string' },
      faulty: { type: 'string' },
      hostile: { type: 'string' },
      seed: { type: 'string' },
      'gateway-only': { type: 'boolean' },
      'no-gateways': { type: 'boolean' },
    },
  });
  const { seed, faulty, hostile, chainPort, gatewayOnly } = devnetConfig(process.env, values).devnet;
  let config = loadDevnetConfig(values.config ?? join(__dirname, '..', 'devnet.config.json'));
  if (faulty !== undefined) config = withFaultyShare(config, faulty, seed);
  if (hostile !== undefined) config = withHostileShare(config, hostile, seed);
  const devnet = await startDevnet(config, { chainPort, gatewayOnly });
  const twins = values['no-gateways'] ? undefined : await startProviderTwins();
  logger.log({
    msg: 'devnet ready',
    subtensor: devnet.chain.url,
    axonAccess: gatewayOnly ? 'none: //Alice is unstaked (gateway-only)' : '//Alice is a staked validator on every subnet',
    ...(twins ? { providers: twins.addresses } : {}),
    miners: devnet.miners.map((m) => ({ netuid: m.netuid, uid: m.uid, behaviour: m.behaviour, address: `${m.host}:${m.port}`, hotkey: m.hotkey })),
  });
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      void Promise.all([devnet.stop(), twins?.stop()]).then(() => {
        logger.log({ msg: 'devnet stopped' });
        process.exit(0);
      });
    });
  }
}

main().catch((error) => {
  new JsonLogger({ service: 'devnet' }).fatal({ msg: 'devnet failed to start', err: error });
  process.exit(1);
});
