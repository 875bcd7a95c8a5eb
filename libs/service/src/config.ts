import { OrchestraError, problemsOf, type SettingProblems } from '@orchestra/contracts';
import type { ZodType } from 'zod';
import { JsonLogger, parseLogLevel, type LogLevel } from './logger';
import { resolveEnvironment } from './network';

/**
 * Configuration from the environment, read once at start.
 *
 * Each service has one config module (apps/<svc>/src/config.ts) that hands `process.env` to
 * {@link loadConfig} with the sections it needs; every library that is configured exports
 * its section as a plain parser next to what it configures (the NATS section in libs/bus,
 * the limits in libs/contracts, the ops/log section here, the Python section in
 * libs/schemas) and otherwise takes typed settings as arguments, never reading the
 * environment itself. All sections run, so an operator sees every bad variable in one
 * start instead of one per restart.
 */

/** The environment (or any variable → value map a test hands in). */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * One section: a parser of the variables it owns, which throws an OrchestraError (not
 * retryable) naming every bad one (one by one with `listingProblems`), or a zod schema of those variables (an object schema
 * whose keys are the variable names).
 */
export type ConfigSection<T> = ((env: Env) => T) | ZodType<T>;

/** What a section yields. */
export type SectionValue<S> = S extends ZodType<infer T> ? T : S extends (env: Env) => infer T ? T : never;

/** The typed config of a set of sections. */
export type ConfigOf<S extends Record<string, ConfigSection<unknown>>> = { readonly [K in keyof S]: SectionValue<S[K]> };

/**
 * One or more environment variables have values a service cannot start with. Not
 * retryable: the same environment fails the same way; `problems` lists each one.
 */
export class ConfigError extends OrchestraError implements SettingProblems {
  override readonly name = 'ConfigError';
  readonly retryable = false;
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration, ${problems.length} problem${problems.length === 1 ? '' : 's'}; fix these environment variables and start again: ${problems.join(' | ')}`);
  }
}

/**
 * Variables whose values are secrets: never shown in a config error, even quoted inside
 * a section's own message (a mnemonic, a password, an API key, a token).
 */
const SECRET_NAME = /PASSWORD|SECRET|TOKEN|API_KEY|HOTKEY|MNEMONIC|SEED|CREDS/i;

/** Longest value quoted in a config problem, characters. */
const SHOWN_VALUE_CHARS = 80;

/** How a value is quoted in a problem: JSON-quoted and cut short, or `[redacted]` for a secret's. */
export function shownValue(name: string, raw: string | undefined): string {
  if (raw === undefined) return 'unset';
  if (SECRET_NAME.test(name)) return '[redacted]';
  return JSON.stringify(raw.length > SHOWN_VALUE_CHARS ? `${raw.slice(0, SHOWN_VALUE_CHARS)}…` : raw);
}

/**
 * Runs every section over `env` — with `ORCH_NETWORK`'s profile and the `<SECRET>_FILE` files
 * applied first (resolveEnvironment) — and returns their values by name, or throws one
 * {@link ConfigError} listing the problems of all sections. A section that throws
 * something other than a non-retryable OrchestraError has a bug, and that is rethrown.
 */
export function loadConfig<S extends Record<string, ConfigSection<unknown>>>(sections: S, given: Env): ConfigOf<S> {
  const resolved = resolveEnvironment(given);
  const env: Env = resolved.env;
  const problems: string[] = [...resolved.problems];
  const config: Record<string, unknown> = {};
  for (const [key, section] of Object.entries(sections)) {
    if (typeof section === 'function') {
      try {
        config[key] = section(env);
      } catch (error) {
        if (!(error instanceof OrchestraError) || error.retryable) throw error;
        // A section that lists several bad variables in one error is split into one problem each.
        problems.push(...(problemsOf(error) ?? [error.message]));
      }
      continue;
    }
    const parsed = section.safeParse(env);
    if (parsed.success) config[key] = parsed.data;
    else {
      for (const issue of parsed.error.issues) {
        const name = String(issue.path[0] ?? key);
        problems.push(`${name}: ${issue.message}; got ${shownValue(name, env[name])}`);
      }
    }
  }
  // Two sections may check the same variable (one setting, two readers): name it once.
  if (problems.length > 0) throw new ConfigError([...new Set(problems)].map((problem) => withoutSecrets(problem, env)));
  return config as ConfigOf<S>;
}

/**
 * {@link loadConfig} for a service's `main`: on a ConfigError, writes one fatal JSON line
 * (`invalid configuration`, every problem in `err.problems`) and exits 1 at once, before
 * anything connects or listens; a supervisor's restart would fail the same way, which the
 * log says.
 */
export function loadServiceConfig<S extends Record<string, ConfigSection<unknown>>>(service: string, sections: S, env: Env): ConfigOf<S> {
  try {
    return loadConfig(sections, env);
  } catch (error) {
    new JsonLogger({ service }).fatal({ msg: 'invalid configuration', err: error });
    process.exit(1);
  }
}

/** `text` with the value of every secret variable replaced, should a section have quoted one. */
function withoutSecrets(text: string, env: Env): string {
  let safe = text;
  for (const [name, value] of Object.entries(env)) {
    // Very short values would blank out unrelated text; no real secret is that short.
    if (value !== undefined && value.length >= 4 && SECRET_NAME.test(name)) safe = safe.split(value).join('[redacted]');
  }
  return safe;
}

/** What every service process is run with (README "Configuration"): ops server, log level, shutdown bound. */
export interface ServiceSettings {
  /** `OPS_PORT`: replaces the service's default ops port; 0 = any free port. */
  readonly opsPort?: number;
  /** `OPS_HOST`: the ops server's interface. */
  readonly opsHost?: string;
  /** `SHUTDOWN_GRACE_MS`: bound on a graceful shutdown. */
  readonly shutdownGraceMs?: number;
  /** `LOG_LEVEL`: least severe level written. */
  readonly logLevel?: LogLevel;
}

/** The {@link ServiceSettings} section: `OPS_PORT`, `OPS_HOST`, `SHUTDOWN_GRACE_MS`, `LOG_LEVEL`. */
export function serviceSettings(env: Env): ServiceSettings {
  const problems: string[] = [];
  const opsPort = integerSetting(env, 'OPS_PORT', 0, 65_535, problems);
  const shutdownGraceMs = integerSetting(env, 'SHUTDOWN_GRACE_MS', 1, Number.MAX_SAFE_INTEGER, problems);
  const rawLevel = set(env, 'LOG_LEVEL');
  const logLevel = parseLogLevel(rawLevel);
  if (rawLevel !== undefined && logLevel === undefined) problems.push(`LOG_LEVEL must be debug, info, warn or error; got ${shownValue('LOG_LEVEL', rawLevel)}`);
  if (problems.length > 0) throw new ConfigError(problems);
  return { opsPort, opsHost: set(env, 'OPS_HOST'), shutdownGraceMs, logLevel };
}

/** The value of `name`, or undefined when unset or blank (a blank variable means "the default"). */
function set(env: Env, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw;
}

/** An integer setting in [min, max], undefined when unset; a bad value is added to `problems`. */
function integerSetting(env: Env, name: string, min: number, max: number, problems: string[]): number | undefined {
  const raw = set(env, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (Number.isInteger(value) && value >= min && value <= max) return value;
  problems.push(`${name} must be an integer from ${min} to ${max}; got ${shownValue(name, raw)}`);
  return undefined;
}
