import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError } from './errors';

/** Where the API is and which key to send. */
export interface Connection {
  readonly url: string;
  readonly key: string;
}

/** The devnet's connection file, relative to the working directory (`npm run devnet` writes it). */
export const DEVNET_CONNECTION_PATH = join('tmp', 'devnet', 'connection.json');

export interface ConnectionOptions {
  readonly url?: string;
  readonly key?: string;
  /** Use the connection file's admin key rather than the dev tenant's. */
  readonly admin?: boolean;
  /** Default: `ORCHESTRA_CONNECTION_FILE`, else `tmp/devnet/connection.json` under the working directory. */
  readonly connectionFile?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

/**
 * The connection, each part from the first place that has it: the options, the
 * environment (`ORCHESTRA_URL`, `ORCHESTRA_API_KEY`), then the devnet's connection file
 * when it exists (its `api.url`, and `api.key` or, with `admin`, `api.adminKey`).
 */
export function resolveConnection(options: ConnectionOptions = {}): Connection {
  const env = options.env ?? process.env;
  let url = options.url ?? env.ORCHESTRA_URL;
  let key = options.key ?? env.ORCHESTRA_API_KEY;
  const file = options.connectionFile ?? env.ORCHESTRA_CONNECTION_FILE ?? join(options.cwd ?? process.cwd(), DEVNET_CONNECTION_PATH);
  if ((url === undefined || key === undefined) && existsSync(file)) {
    let api: { url?: unknown; key?: unknown; adminKey?: unknown } | undefined;
    try {
      api = (JSON.parse(readFileSync(file, 'utf8')) as { api?: typeof api }).api;
    } catch (error) {
      throw new ConfigurationError(`${file} is not a devnet connection file (${(error as Error).message}); restart the devnet, or set ORCHESTRA_URL and ORCHESTRA_API_KEY.`);
    }
    const fileKey = options.admin ? api?.adminKey : api?.key;
    url ??= typeof api?.url === 'string' ? api.url : undefined;
    key ??= typeof fileKey === 'string' ? fileKey : undefined;
  }
  if (url === undefined || url === '')
    throw new ConfigurationError(`No API URL: pass { url }, set ORCHESTRA_URL, or start the devnet (npm run devnet writes ${DEVNET_CONNECTION_PATH}).`);
  if (key === undefined || key === '') throw new ConfigurationError('No API key: pass { key }, set ORCHESTRA_API_KEY, or start the devnet (its connection file holds a key).');
  return { url: url.replace(/\/+$/, ''), key };
}
