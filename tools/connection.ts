import { existsSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { NatsAccess, natsAccessFromEnv, natsUrlFromEnv } from '@orchestra/bus';
import { REPO_ROOT } from '@orchestra/testing';

/** Where `npm run devnet` says how to reach it: written at start (owner-only), removed at stop. */
export const DEVNET_CONNECTION_FILE = join(REPO_ROOT, 'tmp', 'devnet', 'connection.json');

/** The devnet's connection file: its API with the dev tenant's key and the admin key, and its NATS with the operator's credentials. */
export interface DevnetConnection {
  readonly api: { readonly url: string; readonly key: string; readonly adminKey: string };
  readonly nats: { readonly servers: string; readonly user?: string; readonly pass?: string };
}

export function writeDevnetConnection(connection: DevnetConnection): void {
  mkdirSync(dirname(DEVNET_CONNECTION_FILE), { recursive: true });
  writeFileSync(DEVNET_CONNECTION_FILE, `${JSON.stringify(connection, null, 2)}\n`, { mode: 0o600 });
}

export function removeDevnetConnection(): void {
  rmSync(DEVNET_CONNECTION_FILE, { force: true });
}

/**
 * Where an operator tool (dlq, topology) connects: `ORCH_NATS_URL` with the `ORCH_NATS_*`
 * credentials when set, else the running devnet's connection file, else a local server
 * without authentication.
 */
export function operatorNats(env: NodeJS.ProcessEnv = process.env): { servers: string; access: NatsAccess } {
  if (!env.ORCH_NATS_URL && existsSync(DEVNET_CONNECTION_FILE)) {
    const { nats } = JSON.parse(readFileSync(DEVNET_CONNECTION_FILE, 'utf8')) as DevnetConnection;
    return { servers: nats.servers, access: { user: nats.user, pass: nats.pass } };
  }
  return { servers: natsUrlFromEnv(env), access: natsAccessFromEnv(env) };
}
