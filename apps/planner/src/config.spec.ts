import { spawn } from 'node:child_process';
import { loadConfig } from '@orchestra/service';
import { K8S_OVERLAYS, NatsServerHandle, serviceMain, shippedEnv, startNatsServer } from '@orchestra/testing';
import { plannerSections } from './config';

/**
 * The built planner, started as a real process with several bad variables beside a
 * reachable nats-server: it must exit non-zero before connecting, and its one fatal line
 * must name every bad variable and no secret.
 */
describe('planner started with a bad environment', () => {
  let nats: NatsServerHandle;

  beforeAll(async () => {
    nats = await startNatsServer();
  });
  afterAll(() => nats.dispose());

  it('exits at once, its fatal line naming every bad variable and showing no secret', async () => {
    const password = 'planner-password-do-not-print';
    const hotkey = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';
    const bad = {
      ORCH_ACK_WAIT_MS: 'abc',
      ORCH_MAX_BODY_BYTES: '-1',
      OPS_PORT: '99999',
      ORCH_NATS_TOPOLOGY: 'create',
      ORCH_NATS_REPLICAS: 'three',
      ORCH_REPUTATION_HALF_LIFE_MS: 'an hour',
    };
    const { command, args } = serviceMain('planner');
    const child = spawn(command, args, {
      env: { ...process.env, ...bad, ORCH_NATS_URL: nats.url, ORCH_NATS_USER: 'planner', ORCH_NATS_PASSWORD: password, ORCH_HOTKEY: hotkey, OPS_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));

    expect(code).toBe(1);
    const lines = output
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: string; msg: string; err?: { name: string; message: string; problems?: string[] } });
    // The only line: nothing started, connected or listened before the configuration was refused.
    expect(lines).toHaveLength(1);
    const [fatal] = lines;
    expect(fatal).toMatchObject({ level: 'error', msg: 'invalid configuration', err: { name: 'ConfigError' } });
    for (const [name, value] of Object.entries(bad)) {
      expect(fatal.err?.message).toContain(name);
      expect(fatal.err?.message).toContain(JSON.stringify(value));
    }
    expect(output).not.toContain(password);
    expect(output).not.toContain('bottom drive');
  }, 120_000);
});

describe("the planner's config", () => {
  it.each(K8S_OVERLAYS)('accepts what the %s manifests configure', (overlay) => {
    expect(() => loadConfig(plannerSections, shippedEnv(overlay))).not.toThrow();
  });
});
