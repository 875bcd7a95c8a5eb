import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_LIMITS, LimitsConfigError, sizeLimits } from '@orchestra/contracts';
import { ConfigError, loadConfig } from '@orchestra/service';
import { K8S_OVERLAYS, shippedEnv } from '@orchestra/testing';
import { apiSections } from './config';
import { estimateRecordBytes } from './record-budget';
import { DEFAULT_TENANCY } from './tenants';
import { ApiConfigError, apiSettings, fitApiSettings, httpOverrides, timeoutCheckIntervalMs } from './settings';

describe('apiSettings', () => {
  it('has safe defaults for every limit', () => {
    expect(apiSettings({})).toEqual({
      limits: DEFAULT_LIMITS,
      http: {
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        keepAliveTimeoutMs: 5_000,
        idleTimeoutMs: 60_000,
        maxHeaderBytes: 16 * 1024,
        maxReadBytes: 4 * DEFAULT_LIMITS.maxBodyBytes,
      },
      tenancy: DEFAULT_TENANCY,
    });
  });

  it('reads each setting from the environment, the read limit following the body limit', () => {
    const { limits, http } = apiSettings({ ORCH_MAX_BODY_BYTES: '1000', ORCH_HTTP_HEADERS_TIMEOUT_MS: '2000', ORCH_HTTP_MAX_HEADER_BYTES: '8192' });
    expect(limits.maxBodyBytes).toBe(1000);
    expect(http).toMatchObject({ headersTimeoutMs: 2000, maxHeaderBytes: 8192, maxReadBytes: 4000 });
    expect(apiSettings({ ORCH_HTTP_MAX_READ_BYTES: String(2 * 1024 * 1024) }).http.maxReadBytes).toBe(2 * 1024 * 1024);
  });

  it('names every bad setting at once', () => {
    const attempt = () =>
      apiSettings({
        ORCH_HTTP_REQUEST_TIMEOUT_MS: 'soon',
        ORCH_HTTP_HEADERS_TIMEOUT_MS: '40000',
        ORCH_HTTP_IDLE_TIMEOUT_MS: '1000',
        ORCH_HTTP_MAX_READ_BYTES: '10',
      });
    expect(attempt).toThrow(ApiConfigError);
    expect(attempt).toThrow(/ORCH_HTTP_REQUEST_TIMEOUT_MS must be a positive integer; got "soon"/);
    expect(attempt).toThrow(/ORCH_HTTP_HEADERS_TIMEOUT_MS=40000 exceeds ORCH_HTTP_REQUEST_TIMEOUT_MS=30000/);
    expect(attempt).toThrow(/ORCH_HTTP_IDLE_TIMEOUT_MS=1000 must exceed/);
    expect(attempt).toThrow(/ORCH_HTTP_MAX_READ_BYTES=10 is below ORCH_MAX_BODY_BYTES/);
  });

  it('passes on the shared size limits errors', () => {
    expect(() => apiSettings({ ORCH_MAX_BODY_BYTES: String(900 * 1024) })).toThrow(LimitsConfigError);
  });

  it('checks for timed-out connections often enough to cut them off near their timeout', () => {
    expect(timeoutCheckIntervalMs(apiSettings({}).http)).toBe(1_000);
    expect(timeoutCheckIntervalMs(apiSettings({ ORCH_HTTP_HEADERS_TIMEOUT_MS: '500' }).http)).toBe(125);
  });
});

describe('auth and tenancy settings', () => {
  it('reads the admin key from ORCH_API_ADMIN_KEY or its file (a mounted Secret), refusing a short one', () => {
    const key = 'k'.repeat(40);
    expect(apiSettings({ ORCH_API_ADMIN_KEY: key }).adminKey).toBe(key);
    const dir = mkdtempSync(join(tmpdir(), 'orch-admin-key-'));
    writeFileSync(join(dir, 'key'), `${key}-from-file\n`);
    expect(apiSettings({ ORCH_API_ADMIN_KEY: key, ORCH_API_ADMIN_KEY_FILE: join(dir, 'key') }).adminKey).toBe(`${key}-from-file`);
    expect(() => apiSettings({ ORCH_API_ADMIN_KEY: 'short' })).toThrow(/admin key .* must be 32-512 printable characters/);
    expect(() => apiSettings({ ORCH_API_ADMIN_KEY_FILE: join(dir, 'missing') })).toThrow(/ORCH_API_ADMIN_KEY_FILE=.*missing cannot be read/);
    expect(apiSettings({}).adminKey).toBeUndefined();
  });

  it('merges ORCH_TENANT_DEFAULTS over the built-in quotas and reads the deployment ceiling', () => {
    const { tenancy } = apiSettings({ ORCH_TENANT_DEFAULTS: '{"jobsPerMinute":5,"spendPerDay":{"tao":3}}', ORCH_SPEND_PER_DAY_TAO: '50' });
    expect(tenancy.defaults).toEqual({ ...DEFAULT_TENANCY.defaults, jobsPerMinute: 5, spendPerDay: { tao: 3 } });
    expect(tenancy.deploymentSpendPerDay).toEqual({ tao: 50 });
    expect(() => apiSettings({ ORCH_TENANT_DEFAULTS: '{"jobsPerMinute":0}' })).toThrow(/ORCH_TENANT_DEFAULTS must be JSON/);
    expect(() => apiSettings({ ORCH_SPEND_PER_DAY_TAO: '-1' })).toThrow(/ORCH_SPEND_PER_DAY_TAO must be a positive number/);
  });
});

describe('estimateRecordBytes', () => {
  const limits = { inlineOutputBytes: 1_000 };
  const entities = Array.from({ length: 1_000 }, (_, i) => `T${i}`);

  it('counts the inputs twice without a plan: a playbook may copy them into its steps', () => {
    const small = estimateRecordBytes({ goal: 'g' }, limits);
    const big = estimateRecordBytes({ goal: 'g', inputs: { entities } }, limits);
    expect(big - small).toBe(2 * (JSON.stringify({ entities }).length - 2));
  });

  it('counts an explicit plan as given, beside the inputs', () => {
    const plan = [{ id: 'a', capability: 'data.financials', input: { entities }, deps: [] }];
    const withPlan = estimateRecordBytes({ goal: 'g', inputs: {}, plan }, limits);
    expect(withPlan - estimateRecordBytes({ goal: 'g', inputs: {} }, limits)).toBe(JSON.stringify(plan).length - 2);
  });
});

describe("the API's config", () => {
  it('reads the listener (8080 on 127.0.0.1 by default) and names every bad variable at once', () => {
    expect(loadConfig(apiSections, {}).listener).toEqual({ port: 8080, host: '127.0.0.1' });
    expect(loadConfig(apiSections, { ORCHESTRA_API_PORT: '0', ORCHESTRA_API_HOST: '0.0.0.0' }).listener).toEqual({ port: 0, host: '0.0.0.0' });
    const env = { ORCHESTRA_API_PORT: '80a', ORCH_HTTP_IDLE_TIMEOUT_MS: 'long', ORCH_MAX_BODY_BYTES: '0', ORCH_NATS_USER: 'api' };
    let error: unknown;
    try {
      loadConfig(apiSections, env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const { problems } = error as ConfigError;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^ORCHESTRA_API_PORT .*"80a"/),
        expect.stringMatching(/^ORCH_HTTP_IDLE_TIMEOUT_MS .*"long"/),
        expect.stringMatching(/^ORCH_MAX_BODY_BYTES .*"0"/),
        'ORCH_NATS_USER and ORCH_NATS_PASSWORD go together',
      ]),
    );
    expect(problems).toHaveLength(4);
  });

  it('checks the HTTP limits against the size limits in force once connected', () => {
    const overrides = httpOverrides({ ORCH_HTTP_MAX_READ_BYTES: '1000' });
    expect(() => fitApiSettings(overrides, sizeLimits({}))).toThrow(/ORCH_HTTP_MAX_READ_BYTES=1000 is below ORCH_MAX_BODY_BYTES=262144/);
    expect(fitApiSettings({}, sizeLimits({})).http.maxReadBytes).toBe(4 * 262_144);
  });
});

describe("the API's config from the manifests", () => {
  it.each(K8S_OVERLAYS)('accepts what the %s manifests configure', (overlay) => {
    expect(() => loadConfig(apiSections, shippedEnv(overlay))).not.toThrow();
  });
});
