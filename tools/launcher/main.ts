import { parseShare, withShareDefaults } from '@orchestra/devnet-miners';
import { startDevnetStack, DevnetStack, REPO_ROOT } from '@orchestra/testing';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { exampleInputs } from '@orchestra/devnet-providers';
import { EXAMPLE_GOAL, runGoal } from './example';
import { DEVNET_CONNECTION_FILE, removeDevnetConnection, writeDevnetConnection } from '../connection';

/**
 * `npm start` (--example): start the devnet stack on free ports, run the example goal
 * end to end with live progress, print the verified report, stop everything; exit 0
 * only if the job succeeded.
 * `npm run devnet`: start the stack on the documented ports and serve until Ctrl-C.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    args: withShareDefaults(process.argv.slice(2)),
    options: {
      example: { type: 'boolean', default: false },
      goal: { type: 'string' },
      faulty: { type: 'string' },
      hostile: { type: 'string' },
      seed: { type: 'string' },
      'gateway-only': { type: 'boolean', default: false },
      logs: { type: 'string' },
    },
  });
  const logDir = values.logs ?? join(REPO_ROOT, 'tmp', 'devnet-logs');
  const faulty = values.faulty ?? process.env.ORCH_DEVNET_FAULTY;
  const hostile = values.hostile ?? process.env.ORCH_DEVNET_HOSTILE;
  const say = (line: string) => console.log(line);
  say(`orchestra: starting nats-server, the devnet and five services (logs in ${logDir})…`);
  const started = Date.now();
  let stack: DevnetStack;
  try {
    stack = await startDevnetStack({
      ports: values.example ? 'auto' : 'default',
      logDir,
      faulty: faulty === undefined ? undefined : parseShare(values.faulty ? '--faulty' : 'ORCH_DEVNET_FAULTY', faulty),
      hostile: hostile === undefined ? undefined : parseShare(values.hostile ? '--hostile' : 'ORCH_DEVNET_HOSTILE', hostile),
      seed: values.seed === undefined ? undefined : Number(values.seed),
      gatewayOnly: values['gateway-only'],
      // Text and code are bought from the fake Chutes (then, should it fail, from SN1/SN62 miners).
      gateways: true,
      onEvent: (message) => say(`supervisor: ${message}`),
    });
  } catch (error) {
    console.error(`orchestra: could not start the devnet: ${(error as Error).message}`);
    return 1;
  }
  say(`orchestra: ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  say(`  API              ${stack.api.url}  (POST /v1/jobs, GET /v1/jobs/:id, GET /v1/jobs/:id/events; Authorization: Bearer <key>)`);
  say(`  NATS             ${stack.natsUrl}  (authentication on: one user per service)`);
  say(`  subtensor (fake) ${stack.subtensorUrl}`);
  for (const [name, port] of Object.entries(stack.opsPorts)) say(`  ${name.padEnd(16)} http://127.0.0.1:${port}/metrics /healthz /readyz`);
  const bySubnet = new Map<number, string[]>();
  for (const m of stack.devnet.miners) bySubnet.set(m.netuid, [...(bySubnet.get(m.netuid) ?? []), `uid ${m.uid} ${m.behaviour} @${m.address}`]);
  for (const [netuid, miners] of bySubnet) say(`  SN${String(netuid).padEnd(14)} ${miners.join(', ')}`);
  const { providers } = stack.devnet;
  if (providers) say(`  Chutes (fake)    ${providers.chutes}  Desearch (fake) ${providers.desearch}  Constellation (fake) ${providers.constellation}`);

  if (values.example) {
    let code = 1;
    try {
      // The example goal comes with its filings (fixtures/filings) as the client's inputs; a --goal of your own comes alone.
      const job = await runGoal(stack.api, values.goal ?? EXAMPLE_GOAL, say, values.goal ? {} : exampleInputs());
      code = job.status === 'succeeded' ? 0 : 1;
    } catch (error) {
      console.error(`orchestra: the example failed: ${(error as Error).message} (logs in ${logDir})`);
    }
    await stack.stop();
    return code;
  }

  writeDevnetConnection({ api: stack.api, nats: { servers: stack.natsUrl, user: stack.natsAccess.user, pass: stack.natsAccess.pass } });
  say(`orchestra: serving; press Ctrl-C to stop. How to connect (the dev tenant's API key, the admin key, NATS; the orchestra CLI and SDK use it): ${DEVNET_CONNECTION_FILE}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  say('orchestra: stopping…');
  removeDevnetConnection();
  const codes = await stack.stop();
  say(
    `orchestra: stopped (${Object.entries(codes)
      .map(([n, c]) => `${n} ${c}`)
      .join(', ')})`,
  );
  return 0;
}

void main().then((code) => process.exit(code));
