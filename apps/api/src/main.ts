// First: OpenTelemetry must load before anything that loads http (Nest, Fastify, NATS).
import '@orchestra/service/register';
import { Bus, busOptions } from '@orchestra/bus';
import { JsonLogger, runService } from '@orchestra/service';
import { hostname } from 'node:os';
import { ApiModule, apiAdapter, configureApi } from './app';
import { apiConfig } from './config';
import { fitApiSettings } from './settings';

/** The public HTTP API; its settings are read once by config.ts (README "Configuration"). */
async function main(): Promise<void> {
  const config = apiConfig(process.env);
  const bus = await Bus.connect(busOptions(config, `api@${hostname()}`));
  // The bus's limits follow the max_payload of the server actually connected to.
  const settings = { ...fitApiSettings(config.http, bus.limits, [], config.auth), reputation: config.reputation };
  await runService({
    name: 'api',
    module: ApiModule.forRoot(bus, settings),
    app: {
      kind: 'http',
      adapter: apiAdapter(settings),
      port: config.listener.port,
      host: config.listener.host,
      configure: (app) => configureApi(app, settings),
    },
    opsPort: 9460,
    settings: config.service,
    readiness: () => ({ ready: bus.isConnected(), checks: { nats: bus.isConnected() ? 'up' : 'down' } }),
    // A connection closed for good or stalled is not live: the supervisor (or the kubelet) restarts the API.
    liveness: () => {
      const connection = bus.connectionHealth();
      return { live: connection.live, checks: { nats: connection.detail } };
    },
  });
}

// Failures before runService takes over (NATS unreachable, limits that do not fit the server) are logged the same way.
main().catch((error: unknown) => {
  new JsonLogger({ service: 'api' }).fatal({ msg: 'api failed to start', err: error });
  process.exit(1);
});
