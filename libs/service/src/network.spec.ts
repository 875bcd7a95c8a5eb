import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, loadConfig } from './config';
import { NETWORK_PROFILES, resolveEnvironment } from './network';

describe('ORCH_NETWORK and secret files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-network-'));
  const file = (name: string, content: string) => {
    const path = join(dir, name);
    writeFileSync(path, content);
    return path;
  };

  it("fills finney's endpoints and subnets where nothing is set, and lets explicit settings win", () => {
    const { env, network, problems } = resolveEnvironment({ ORCH_NETWORK: 'finney', ORCH_NETUIDS: '13', ORCH_DESEARCH_URL: ' ' });
    expect(problems).toEqual([]);
    expect(network).toBe('finney');
    expect(env).toMatchObject({
      ORCH_SUBTENSOR_URL: 'wss://entrypoint-finney.opentensor.ai:443',
      ORCH_NETUIDS: '13',
      ORCH_CHUTES_URL: 'https://llm.chutes.ai',
      ORCH_DESEARCH_URL: 'https://api.desearch.ai',
      ORCH_CONSTELLATION_TARGET: 'constellation.api.cloud.macrocosmos.ai:443',
    });
    expect(resolveEnvironment({}).env).toEqual({});
    expect(resolveEnvironment({ ORCH_NETWORK: 'devnet' }).env).toMatchObject(NETWORK_PROFILES.devnet);
  });

  it('names an unknown network, and refuses a development key on finney', () => {
    expect(resolveEnvironment({ ORCH_NETWORK: 'mainnet' }).problems).toEqual(['ORCH_NETWORK must be one of finney, devnet; got "mainnet"']);
    expect(resolveEnvironment({ ORCH_NETWORK: 'finney', ORCH_HOTKEY: '//Alice' }).problems[0]).toMatch(/ORCH_HOTKEY is a development key URI .* holds nothing on finney/);
    expect(resolveEnvironment({ ORCH_NETWORK: 'devnet', ORCH_HOTKEY: '//Alice' }).problems).toEqual([]);
  });

  it('reads <SECRET>_FILE into the secret without its trailing newline; names the variable, never the content, when it cannot', () => {
    const key = file('chutes', 'cpk_secret-value\n');
    expect(resolveEnvironment({ ORCH_CHUTES_API_KEY_FILE: key }).env.ORCH_CHUTES_API_KEY).toBe('cpk_secret-value');
    const { problems } = resolveEnvironment({
      ORCH_DESEARCH_API_KEY_FILE: join(dir, 'missing'),
      ORCH_CONSTELLATION_API_KEY: 'inline',
      ORCH_CONSTELLATION_API_KEY_FILE: key,
      ORCH_NATS_PASSWORD_FILE: file('huge', 'x'.repeat(20_000)),
    });
    expect(problems).toEqual([
      expect.stringMatching(/^ORCH_DESEARCH_API_KEY_FILE: cannot read ".*missing": ENOENT/),
      'ORCH_CONSTELLATION_API_KEY and ORCH_CONSTELLATION_API_KEY_FILE are both set: keep one',
      expect.stringMatching(/^ORCH_NATS_PASSWORD_FILE: cannot read .*: it holds 20000 bytes, more than a secret/),
    ]);
    expect(resolveEnvironment({ ORCH_CHUTES_API_KEY_FILE: file('empty', '\n') }).problems[0]).toMatch(/it is empty/);
  });

  it("is what every service's loadConfig reads, its problems listed with the sections'", () => {
    const section = z.object({ ORCH_SUBTENSOR_URL: z.string(), ORCH_CHUTES_API_KEY: z.string() });
    expect(loadConfig({ s: section }, { ORCH_NETWORK: 'finney', ORCH_CHUTES_API_KEY_FILE: file('k', 'k3y') }).s).toEqual({
      ORCH_SUBTENSOR_URL: 'wss://entrypoint-finney.opentensor.ai:443',
      ORCH_CHUTES_API_KEY: 'k3y',
    });
    const attempt = () => loadConfig({ s: section }, { ORCH_NETWORK: 'testnet' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/ORCH_NETWORK must be one of finney, devnet.*ORCH_SUBTENSOR_URL/);
  });
});
