import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

type Env = Readonly<Record<string, string | undefined>>;

/** The networks `ORCH_NETWORK` names. */
export type NetworkName = 'finney' | 'devnet';

/**
 * What `ORCH_NETWORK` selects: the defaults of every endpoint and the subnets to watch. A
 * variable set explicitly always wins over its profile's value, so moving from the devnet to
 * finney is one setting plus the secrets (hotkey, API keys).
 * - `finney`: the public entrypoint, the gateways' production endpoints (libs/providers'
 *   defaults) and the subnets Orchestra buys from: SN13 (data), SN22 (search), SN64 (LLMs).
 * - `devnet`: the embedded devnet on its documented ports (`npm run devnet`).
 */
export const NETWORK_PROFILES: Readonly<Record<NetworkName, Readonly<Record<string, string>>>> = {
  finney: {
    ORCH_SUBTENSOR_URL: 'wss://entrypoint-finney.opentensor.ai:443',
    ORCH_NETUIDS: '13,22,64',
    ORCH_CHUTES_URL: 'https://llm.chutes.ai',
    ORCH_DESEARCH_URL: 'https://api.desearch.ai',
    ORCH_CONSTELLATION_TARGET: 'constellation.api.cloud.macrocosmos.ai:443',
  },
  devnet: {
    ORCH_SUBTENSOR_URL: 'ws://127.0.0.1:9944',
    ORCH_ALLOW_ADDRESSES: 'loopback',
  },
};

/**
 * Secrets that may be given as a file instead (`<NAME>_FILE`, e.g. a mounted Kubernetes Secret),
 * read once at start. `ORCH_HOTKEY_FILE` is not one of them: it names a Bittensor wallet
 * keyfile (JSON), which the key loader reads itself.
 */
export const SECRET_FILE_SETTINGS = ['ORCH_CHUTES_API_KEY', 'ORCH_DESEARCH_API_KEY', 'ORCH_CONSTELLATION_API_KEY', 'ORCH_NATS_PASSWORD'] as const;

/** Largest secret file read: API keys and passwords are short; anything bigger is the wrong file. */
const MAX_SECRET_FILE_BYTES = 16 * 1024;

/** The environment with the network profile's defaults and the secret files applied, and what was wrong with them. */
export interface ResolvedEnvironment {
  readonly env: Record<string, string | undefined>;
  readonly network?: NetworkName;
  readonly problems: string[];
}

/**
 * Applies `ORCH_NETWORK`'s profile (filling only unset variables) and reads `<SECRET>_FILE`
 * variables into their secret. Every service's loadConfig runs its sections on the result, so
 * each reads one environment, whatever the network. Problems name the variable, never a
 * secret's value.
 */
export function resolveEnvironment(env: Env): ResolvedEnvironment {
  const problems: string[] = [];
  const resolved: Record<string, string | undefined> = { ...env };
  const rawNetwork = env.ORCH_NETWORK?.trim();
  let network: NetworkName | undefined;
  if (rawNetwork) {
    if (rawNetwork in NETWORK_PROFILES) network = rawNetwork as NetworkName;
    else problems.push(`ORCH_NETWORK must be one of ${Object.keys(NETWORK_PROFILES).join(', ')}; got ${JSON.stringify(rawNetwork.slice(0, 40))}`);
  }
  for (const [name, value] of Object.entries(network ? NETWORK_PROFILES[network] : {})) {
    if (!resolved[name]?.trim()) resolved[name] = value;
  }
  if (network === 'finney' && /^\s*\/\//.test(env.ORCH_HOTKEY ?? '') && !env.ORCH_HOTKEY_FILE?.trim()) {
    problems.push('ORCH_HOTKEY is a development key URI (such as //Alice), which holds nothing on finney: give your validator hotkey (ORCH_HOTKEY or ORCH_HOTKEY_FILE)');
  }
  for (const name of SECRET_FILE_SETTINGS) {
    const file = env[`${name}_FILE`]?.trim();
    if (!file) continue;
    if (env[name]?.trim()) {
      problems.push(`${name} and ${name}_FILE are both set: keep one`);
      continue;
    }
    try {
      resolved[name] = readSecretFile(file);
    } catch (error) {
      problems.push(`${name}_FILE: cannot read ${JSON.stringify(file)}: ${(error as Error).message}`);
    }
  }
  return { env: resolved, network, problems };
}

/** A secret file's content without the trailing newline editors and `echo` add; refuses empty and oversized files. */
function readSecretFile(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const { size } = fstatSync(fd);
    if (size > MAX_SECRET_FILE_BYTES) throw new Error(`it holds ${size} bytes, more than a secret (${MAX_SECRET_FILE_BYTES} at most)`);
    const buffer = Buffer.alloc(size);
    const read = readSync(fd, buffer, 0, size, 0);
    const secret = buffer
      .subarray(0, read)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (!secret.trim()) throw new Error('it is empty');
    return secret;
  } finally {
    closeSync(fd);
  }
}
