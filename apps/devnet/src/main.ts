import { JsonLogger } from '@orchestra/service';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadDevnetConfig, withFaultyShare } from './devnet-config';
import { startDevnet } from './devnet';

/**
 * The devnet process: a fake subtensor node on ws://127.0.0.1:9944 and the simulated
 * miners registered on it. Prints one JSON line `{"msg":"devnet ready",…}` with every
 * address, then serves until SIGTERM/SIGINT.
 *
 *   --config <file>   devnet config (default apps/devnet/devnet.config.json)
 *   --faulty <share>  make this share of each subnet's miners faulty (env ORCH_DEVNET_FAULTY)
 *   --seed <n>        seed of the faulty draw (env ORCH_DEVNET_SEED)
 */
async function main(): Promise<void> {
  const logger = new JsonLogger({ service: 'devnet' });
  const { values } = parseArgs({
    options: { config: { type: 'string' }, faulty: { type: 'string' }, seed: { type: 'string' } },
  });
  let config = loadDevnetConfig(values.config ?? join(__dirname, '..', 'devnet.config.json'));
  const faulty = values.faulty ?? process.env.ORCH_DEVNET_FAULTY;
  if (faulty !== undefined) {
    const share = Number(faulty);
    if (!(share >= 0 && share <= 1)) throw new Error(`--faulty takes a share between 0 and 1, got "${faulty}"`);
    config = withFaultyShare(config, share, Number(values.seed ?? process.env.ORCH_DEVNET_SEED ?? 1));
  }
  const devnet = await startDevnet(config, { chainPort: Number(process.env.ORCH_SUBTENSOR_PORT ?? 9944) });
  logger.log({
    msg: 'devnet ready',
    subtensor: devnet.chain.url,
    miners: devnet.miners.map((m) => ({ netuid: m.netuid, uid: m.uid, behaviour: m.behaviour, address: `${m.host}:${m.port}`, hotkey: m.hotkey })),
  });
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      void devnet.stop().then(() => {
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
