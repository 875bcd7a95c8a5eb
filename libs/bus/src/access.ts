import { readFileSync } from 'node:fs';
import { inboxPrefixOf, listingProblems } from '@orchestra/contracts';
import { AuthorizationError, credsAuthenticator, type NodeConnectionOptions } from '@nats-io/transport-node';
import { BusConfigError } from './errors';

/**
 * How a service proves who it is to NATS, and whether it may manage the topology.
 * Every field is optional: a server without authentication needs none of them.
 */
export interface NatsAccess {
  /** User and password (the devnet's users, or `authorization.users` in the Helm values). */
  readonly user?: string;
  readonly pass?: string;
  /** A `.creds` file (a user JWT and its nkey seed, for operator/account deployments). */
  readonly credsFile?: string;
  /** TLS: the CA that signed the server's certificate, and a client certificate and key for mutual TLS. */
  readonly tls?: { readonly caFile?: string; readonly certFile?: string; readonly keyFile?: string };
  /**
   * `ensure` (default): create or update every stream, consumer and bucket at start.
   * `verify`: only check they exist, and fail listing what is missing — for deployments
   * where NACK or an operator owns the topology and services get no management rights.
   */
  readonly topology?: 'ensure' | 'verify';
}

/**
 * NATS access from the environment: `ORCH_NATS_USER` + `ORCH_NATS_PASSWORD`, or
 * `ORCH_NATS_CREDS` (path of a .creds file); `ORCH_NATS_TLS_CA`, `ORCH_NATS_TLS_CERT`,
 * `ORCH_NATS_TLS_KEY`; `ORCH_NATS_TOPOLOGY` (`ensure` or `verify`). Throws BusConfigError
 * naming every inconsistent setting.
 */
export function natsAccessFromEnv(env: Readonly<Record<string, string | undefined>>): NatsAccess {
  const value = (name: string) => (env[name]?.trim() ? env[name] : undefined);
  const errors: string[] = [];
  const user = value('ORCH_NATS_USER');
  const pass = value('ORCH_NATS_PASSWORD');
  const credsFile = value('ORCH_NATS_CREDS');
  if ((user === undefined) !== (pass === undefined)) errors.push('ORCH_NATS_USER and ORCH_NATS_PASSWORD go together');
  if (credsFile && user) errors.push('set either ORCH_NATS_CREDS or ORCH_NATS_USER/ORCH_NATS_PASSWORD, not both');
  const certFile = value('ORCH_NATS_TLS_CERT');
  const keyFile = value('ORCH_NATS_TLS_KEY');
  if ((certFile === undefined) !== (keyFile === undefined)) errors.push('ORCH_NATS_TLS_CERT and ORCH_NATS_TLS_KEY go together');
  const caFile = value('ORCH_NATS_TLS_CA');
  const topology = value('ORCH_NATS_TOPOLOGY') ?? 'ensure';
  if (topology !== 'ensure' && topology !== 'verify') errors.push(`ORCH_NATS_TOPOLOGY must be "ensure" or "verify"; got ${JSON.stringify(topology)}`);
  if (errors.length > 0) throw listingProblems(new BusConfigError(`invalid NATS access settings: ${errors.join('; ')}`), errors);
  const tls = caFile || certFile ? { caFile, certFile, keyFile } : undefined;
  return { user, pass, credsFile, tls, topology: topology as NatsAccess['topology'] };
}

/**
 * The connection options for `access`. An authenticated service gets an inbox prefix of
 * its own (`_INBOX_<user>`), so its subscribe permission covers its own replies and not
 * another service's.
 */
export function connectionOptions(access: NatsAccess): Partial<NodeConnectionOptions> {
  const options: Partial<NodeConnectionOptions> = {};
  if (access.user !== undefined) {
    options.user = access.user;
    options.pass = access.pass;
    options.inboxPrefix = inboxPrefixOf(access.user);
  }
  if (access.credsFile !== undefined) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(access.credsFile);
    } catch (error) {
      throw new BusConfigError(`cannot read the NATS credentials file ORCH_NATS_CREDS=${access.credsFile}: ${(error as Error).message}`, { cause: error });
    }
    options.authenticator = credsAuthenticator(creds);
  }
  if (access.tls) options.tls = { ...access.tls };
  return options;
}

/** True when NATS refused the connection's credentials (as opposed to being unreachable). */
export function isAuthorizationFailure(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof AuthorizationError) return true;
  }
  return false;
}
