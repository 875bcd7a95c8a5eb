// First: OpenTelemetry must load before anything that loads http (Nest, Fastify, NATS).
import '@orchestra/service/register';
import { Bus } from '@orchestra/bus';
import { JsonLogger, runService } from '@orchestra/service';
import { hostname } from 'node:os';
import { ApiModule, apiAdapter, configureApi } from './app';
import { apiSettings } from './settings';

/**
 * The public HTTP API. Environment: `ORCH_NATS_URL` (default nats://127.0.0.1:4222),
 * `ORCHESTRA_API_PORT` (8080), `ORCHESTRA_API_HOST` (127.0.0.1), `OPS_PORT` (9460), and
 * the limits of README "Limits" (settings.ts).
 */
async function main(): Promise<void> {
  const port = readPort('ORCHESTRA_API_PORT', 8080);
  const bus = await Bus.connect({ servers: process.env.ORCH_NATS_URL ?? 'nats://127.0.0.1:4222', name: `api@${hostname()}` });
  // The record budget follows the max_payload of the server actually connected to.
  const settings = apiSettings(process.env, bus.nc.info?.max_payload);
  await runService({
    name: 'api',
    module: ApiModule.forRoot(bus, settings),
    app: {
      kind: 'http',
      adapter: apiAdapter(settings),
      port,
      host: process.env.ORCHESTRA_API_HOST || '127.0.0.1',
      configure: (app) => configureApi(app, settings),
    },
    opsPort: 9460,
    readiness: () => ({ ready: bus.isConnected(), checks: { nats: bus.isConnected() ? 'up' : 'down' } }),
    // A connection closed for good or stalled is not live: the supervisor (or the kubelet) restarts the API.
    liveness: () => {
      const connection = bus.connectionHealth();
      return { live: connection.live, checks: { nats: connection.detail } };
    },
  });
}

/** A TCP port from the environment, or the default when unset. */
function readPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`${name} must be a TCP port (0-65535), got ${JSON.stringify(raw)}`);
  return port;
}

// Failures before runService takes over (bad config, NATS unreachable) are logged the same way.
main().catch((error: unknown) => {
  new JsonLogger({ service: 'api' }).fatal({ msg: 'api failed to start', err: error });
  process.exit(1);
});
