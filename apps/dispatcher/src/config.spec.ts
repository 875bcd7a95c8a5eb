import { Consumers } from '@orchestra/contracts';
import { ConfigError, loadConfig } from '@orchestra/service';
import { K8S_OVERLAYS, shippedEnv } from '@orchestra/testing';
import { dispatcherSections } from './config';

describe("the dispatcher's config", () => {
  it('is every documented default when nothing is set', () => {
    const config = loadConfig(dispatcherSections, {});
    expect(config).toMatchObject({
      natsUrl: 'nats://127.0.0.1:4222',
      natsAccess: { topology: 'ensure' },
      storage: { replicas: 1, storage: 'file' },
      consumers: Object.values(Consumers),
      natsStallMs: 30_000,
      stuckHandlerMs: 300_000,
      limits: {},
      reputation: { halfLifeMs: 3_600_000 },
      service: {},
      python: { python: 'python3', parsers: 2 },
      dispatcher: {
        hotkey: '//Alice',
        allowAddresses: [],
        timeoutMs: 12_000,
        hirePriceAlpha: 0.01,
        hedge: { modes: {}, minDelayMs: 100, maxDelayMs: 3_000, defaultDelayMs: 1_000, quantile: 0.9, maxExtraCalls: 1 },
        reputation: { halfLifeMs: 3_600_000, weight: 0.5, cacheMs: 2_000 },
      },
    });
  });

  it('names every bad variable of every section at once, the shared half-life once, and never the hotkey', () => {
    const hotkey = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';
    const env = {
      ORCH_HOTKEY: hotkey,
      ORCH_HEDGE: 'code.python:maybe',
      ORCH_HEDGE_QUANTILE: '90',
      ORCH_MINER_TIMEOUT_MS: '12s',
      ORCH_SUBNET_PROTOCOLS: '{"13": "carrier-pigeon"}',
      ORCH_ALLOW_ADDRESSES: 'loopback,lan',
      ORCH_REPUTATION_HALF_LIFE_MS: 'an hour',
      ORCH_PYTHON_PARSERS: '0',
      ORCH_NATS_STORAGE: 'disk',
      ORCH_NATS_STALL_MS: '500',
    };
    let error: unknown;
    try {
      loadConfig(dispatcherSections, env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems } = error as ConfigError;
    for (const name of Object.keys(env).filter((n) => n !== 'ORCH_HOTKEY')) {
      expect(problems.filter((p) => p.startsWith(`${name} `) || p.startsWith(`${name}:`) || p.startsWith(`${name}=`))).toHaveLength(1);
    }
    expect(problems).toHaveLength(Object.keys(env).length - 1);
    expect(JSON.stringify(problems)).not.toContain('bottom drive');
  });
  it.each(K8S_OVERLAYS)('accepts what the %s manifests configure', (overlay) => {
    const env = shippedEnv(overlay);
    expect(env).toMatchObject({ ORCH_NATS_REPLICAS: '3', ORCH_NETUIDS: '1,13,62' });
    expect(() => loadConfig(dispatcherSections, env)).not.toThrow();
  });
});
