import { ConfigError, loadConfig } from '@orchestra/service';
import { K8S_OVERLAYS, shippedEnv } from '@orchestra/testing';
import { DEFAULT_SYNC_SETTINGS, metagraphSyncSections } from './config';

describe("metagraph-sync's config", () => {
  it('reads the chain settings, blank meaning the default', () => {
    expect(DEFAULT_SYNC_SETTINGS).toEqual({ url: 'ws://127.0.0.1:9944', netuids: undefined, minIntervalMs: 5_000 });
    const config = loadConfig(metagraphSyncSections, { ORCH_SUBTENSOR_URL: 'wss://node:443', ORCH_NETUIDS: '1, 13,62', ORCH_SYNC_MIN_INTERVAL_MS: ' ' });
    expect(config.sync).toEqual({ url: 'wss://node:443', netuids: [1, 13, 62], minIntervalMs: 5_000 });
  });

  it('refuses what used to become NaN, naming each variable with its value', () => {
    const env = { ORCH_SUBTENSOR_URL: 'node:9944', ORCH_NETUIDS: '1,thirteen', ORCH_SYNC_MIN_INTERVAL_MS: '5s', ORCH_STUCK_HANDLER_MS: 'never' };
    const attempt = () => loadConfig(metagraphSyncSections, env);
    expect(attempt).toThrow(ConfigError);
    for (const [name, value] of Object.entries(env)) {
      expect(attempt).toThrow(name);
      expect(attempt).toThrow(JSON.stringify(value));
    }
  });
  it('reads whose axon access to report: the hotkey as the dispatcher has it, or its address alone, and the thresholds', () => {
    expect(loadConfig(metagraphSyncSections, {}).access).toEqual({ hotkey: '//Alice', requiredStake: {} });
    expect(loadConfig(metagraphSyncSections, { ORCH_HOTKEY_FILE: '/run/secrets/hotkey', ORCH_HOTKEY: '//Bob' }).access.hotkey).toEqual({ file: '/run/secrets/hotkey' });
    const address = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
    expect(loadConfig(metagraphSyncSections, { ORCH_HOTKEY_ADDRESS: address, ORCH_AXON_REQUIRED_STAKE: '13=5000' }).access).toEqual({
      hotkey: { address },
      requiredStake: { 13: 5000 },
    });
    const attempt = () => loadConfig(metagraphSyncSections, { ORCH_HOTKEY_ADDRESS: 'not-an-address', ORCH_AXON_REQUIRED_STAKE: '13:5000' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/ORCH_HOTKEY_ADDRESS must be an ss58 address/);
    expect(attempt).toThrow(/ORCH_AXON_REQUIRED_STAKE: entry "13:5000" must read netuid=stake/);
    // On finney the devnet's default key would report a stranger's access: the hotkey must be given.
    expect(() => loadConfig(metagraphSyncSections, { ORCH_NETWORK: 'finney' })).toThrow(/ORCH_NETWORK=finney needs our hotkey: ORCH_HOTKEY_ADDRESS/);
    const onFinney = loadConfig(metagraphSyncSections, { ORCH_NETWORK: 'finney', ORCH_HOTKEY_ADDRESS: address });
    expect(onFinney.sync).toEqual({ url: 'wss://entrypoint-finney.opentensor.ai:443', netuids: [13, 22, 64], minIntervalMs: 5_000 });
  });
  it.each(K8S_OVERLAYS)('accepts what the %s manifests configure', (overlay) => {
    const env = shippedEnv(overlay);
    expect(env).toMatchObject({ ORCH_NATS_REPLICAS: '3', ORCH_NETUIDS: '1,13,62' });
    expect(() => loadConfig(metagraphSyncSections, env)).not.toThrow();
  });
});
