import { DEFAULT_LIMITS, LimitsConfigError } from '@orchestra/contracts';
import { estimateRecordBytes } from './record-budget';
import { ApiConfigError, apiSettings, timeoutCheckIntervalMs } from './settings';

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
