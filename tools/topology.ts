/**
 * `npm run topology`: creates or updates every stream, consumer and KV bucket of
 * Orchestra, as an operator, for deployments whose services run with
 * `ORCH_NATS_TOPOLOGY=verify` (no management rights). Reads ORCH_NATS_URL and the
 * operator's ORCH_NATS_* credentials; stream settings from ORCH_NATS_REPLICAS etc.
 */
import { Bus } from '@orchestra/bus';
import { operatorNats } from './connection';

async function main(): Promise<void> {
  const { servers, access } = operatorNats();
  const bus = await Bus.connect({ servers, name: 'topology', access: { ...access, topology: 'ensure' } });
  await bus.close();
  console.log(`topology: every stream, consumer and bucket of Orchestra is in place on ${servers}`);
}

main().catch((error: unknown) => {
  console.error(`topology: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
