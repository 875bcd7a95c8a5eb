import { limitOverrides } from '@orchestra/contracts';
import { serviceSettings, type ConfigOf, type Env } from '@orchestra/service';
import { natsAccessFromEnv } from './access';
import { BusConfigError } from './errors';
import { BusOptions, consumersFromEnv, natsStallMsFromEnv, storageFromEnv } from './bus';
import { reputationSettings } from './reputation-ledger';
import { stuckHandlerMsFromEnv } from './transport';

/** Where a service connects when `ORCH_NATS_URL` is not set. */
export const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';

/** One server as the NATS client takes it: `nats://host:port` (or tls, ws, wss), or `host[:port]`. */
const NATS_SERVER = /^(?:(?:nats|tls|ws|wss):\/\/[^\s/]+(?:\/\S*)?|[^\s:/]+(?::\d{1,5})?)$/;

/**
 * `ORCH_NATS_URL`: one NATS URL or several, comma-separated (a cluster's nodes). Throws
 * BusConfigError when an entry is not a server address, which would otherwise only show
 * as a connection that never succeeds.
 */
export function natsUrlFromEnv(env: Env): string {
  const raw = env.ORCH_NATS_URL?.trim();
  if (!raw) return DEFAULT_NATS_URL;
  const bad = raw
    .split(',')
    .map((s) => s.trim())
    .filter((server) => !NATS_SERVER.test(server));
  if (bad.length > 0) {
    // The URL may carry a user and password (nats://user:pass@host): quote only what is wrong, without credentials.
    const shown = bad.map((server) => JSON.stringify(server.replace(/\/\/[^@/]*@/, '//[redacted]@').slice(0, 80))).join(', ');
    throw new BusConfigError(`ORCH_NATS_URL must be NATS server URLs, comma-separated (e.g. nats://nats-0:4222,nats://nats-1:4222); ${shown} is not one`);
  }
  return raw;
}

/**
 * The config sections of a service's NATS connection (README "Configuration"): each a
 * parser of its own variables, for a service's config module to hand to `loadConfig`.
 */
export const busSections = {
  natsUrl: natsUrlFromEnv,
  natsAccess: natsAccessFromEnv,
  storage: storageFromEnv,
  consumers: consumersFromEnv,
  natsStallMs: natsStallMsFromEnv,
  limits: limitOverrides,
};

/** A service's NATS connection settings. */
export type BusConfig = ConfigOf<typeof busSections>;

/** The {@link Bus.connect} options of a service connecting as `name` with `config`. */
export function busOptions(config: BusConfig, name: string): BusOptions {
  return {
    servers: config.natsUrl,
    name,
    access: config.natsAccess,
    storage: config.storage,
    consumers: config.consumers,
    stallMs: config.natsStallMs,
    limits: config.limits,
  };
}

/**
 * Everything `runBusWorker` is configured with: the connection, the consumers' stuck-handler
 * bound, the reputation half-life every writer of reputation decays by, and the service
 * runtime's own settings (ops server, log level, shutdown bound).
 */
export const workerSections = {
  ...busSections,
  stuckHandlerMs: stuckHandlerMsFromEnv,
  reputation: reputationSettings,
  service: serviceSettings,
};

/** The settings of a bus-driven service. */
export type WorkerConfig = ConfigOf<typeof workerSections>;
