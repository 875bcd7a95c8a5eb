import { LimitsConfigError, OrchestraError, limitOverrides } from '@orchestra/contracts';
import { z } from 'zod';
import { ConfigError, loadConfig, serviceSettings, shownValue } from './config';
import { ServiceConfigError } from './errors';

/** A parser section in the style of the libraries': one error listing every bad variable it owns. */
function portSection(env: Readonly<Record<string, string | undefined>>): { port: number } {
  const raw = env.PORT ?? '80';
  const port = Number(raw);
  if (!Number.isInteger(port)) throw new ServiceConfigError(`PORT must be an integer; got ${JSON.stringify(raw)}`);
  return { port };
}

const zodSection = z
  .object({ MODE: z.enum(['fast', 'safe']).default('safe'), WORKERS: z.coerce.number().int().min(1).default(2) })
  .transform((env) => ({ mode: env.MODE, workers: env.WORKERS }));

describe('loadConfig', () => {
  it('returns every section typed, by name, with defaults for what is unset', () => {
    const config = loadConfig({ net: portSection, work: zodSection, service: serviceSettings }, { PORT: '8080', WORKERS: '4', OPS_PORT: '0', LOG_LEVEL: 'warn' });
    expect(config).toEqual({
      net: { port: 8080 },
      work: { mode: 'safe', workers: 4 },
      service: { opsPort: 0, opsHost: undefined, shutdownGraceMs: undefined, logLevel: 'warn' },
    });
  });

  it('runs every section and lists every bad variable of all of them in one ConfigError', () => {
    const env = {
      PORT: 'eighty',
      MODE: 'turbo',
      WORKERS: 'many',
      OPS_PORT: '99999',
      SHUTDOWN_GRACE_MS: '-5',
      LOG_LEVEL: 'loud',
      ORCH_MAX_BODY_BYTES: '-1',
      ORCH_JSON_MAX_DEPTH: '1.5',
    };
    let error: unknown;
    try {
      loadConfig({ net: portSection, work: zodSection, service: serviceSettings, limits: limitOverrides }, env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, retryable, message } = error as ConfigError;
    expect(retryable).toBe(false);
    // One problem per bad variable, each naming it and quoting what it got.
    expect(problems).toHaveLength(8);
    for (const [name, value] of Object.entries(env)) {
      expect(problems.some((p) => p.includes(name) && p.includes(JSON.stringify(value)))).toBe(true);
      expect(message).toContain(name);
    }
    expect(message).toMatch(/^invalid configuration, 8 problems; fix these environment variables and start again: /);
  });

  it('never shows the value of a secret, even where a section quoted it', () => {
    const secret = 'correct horse battery staple';
    const quoting = (env: Readonly<Record<string, string | undefined>>) => {
      throw new ServiceConfigError(`ORCH_HOTKEY is not a mnemonic: ${JSON.stringify(env.ORCH_HOTKEY)}`);
    };
    const password = z.object({ ORCH_NATS_PASSWORD: z.string().min(40) });
    const attempt = () => loadConfig({ hotkey: quoting, password }, { ORCH_HOTKEY: secret, ORCH_NATS_PASSWORD: 'hunter2-hunter2' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/ORCH_HOTKEY is not a mnemonic: "\[redacted\]"/);
    expect(attempt).toThrow(/ORCH_NATS_PASSWORD: .*; got \[redacted\]/);
    expect(attempt).not.toThrow(/correct horse|hunter2/);
    expect(shownValue('ORCH_CHUTES_API_KEY', 'cpk_123')).toBe('[redacted]');
    expect(shownValue('ORCH_NETUIDS', 'x'.repeat(500))).toBe(JSON.stringify(`${'x'.repeat(80)}…`));
  });

  it('names a variable two sections check once', () => {
    const attempt = () => loadConfig({ a: limitOverrides, b: limitOverrides }, { ORCH_MAX_BODY_BYTES: 'big' });
    expect(attempt).toThrow(expect.objectContaining({ problems: [expect.stringContaining('ORCH_MAX_BODY_BYTES')] }));
    expect(() => limitOverrides({ ORCH_MAX_BODY_BYTES: 'big' })).toThrow(LimitsConfigError);
  });

  it('rethrows what is not a configuration problem: a section with a bug, or a retryable failure', () => {
    const buggy = (): never => {
      throw new TypeError('cannot read properties of undefined');
    };
    expect(() => loadConfig({ buggy, service: serviceSettings }, { OPS_PORT: 'x' })).toThrow(TypeError);
    class Unreachable extends OrchestraError {
      readonly retryable = true;
    }
    const fetching = (): never => {
      throw new Unreachable('the key server did not answer');
    };
    expect(() => loadConfig({ fetching }, {})).toThrow(Unreachable);
  });
});
