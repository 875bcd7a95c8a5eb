import { Bus } from '@orchestra/bus';
import { Buckets, Streams } from '@orchestra/contracts';
import { NatsServerHandle, REPO_ROOT, SupervisedProcess, freePort, rawHttpExchange, serviceMain, startNatsServer } from '@orchestra/testing';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The findings of "Hostile input never stalls Orchestra" against the real API process
 * (apps/api/src/main.ts, configured by its environment) over a real nats-server: every
 * attack is refused as application/problem+json, publishes nothing, and a good
 * submission right after it is accepted.
 */
/** The operators' key the process starts with (ORCH_API_ADMIN_KEY): it may submit too. */
const ADMIN_KEY = 'e2e-admin-key-0123456789abcdefghijklmnopqrstuvwxyz';

describe('api process under hostile input', () => {
  let nats: NatsServerHandle;
  let bus: Bus;
  let api: SupervisedProcess;
  let apiPort: number;
  let apiUrl: string;
  let opsPort: number;

  beforeAll(async () => {
    nats = await startNatsServer();
    apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    opsPort = await freePort();
    api = new SupervisedProcess(
      {
        name: 'api',
        ...serviceMain('api'),
        env: {
          ...process.env,
          ORCH_NATS_URL: nats.url,
          ORCHESTRA_API_PORT: String(apiPort),
          OPS_PORT: String(opsPort),
          OPS_HOST: '127.0.0.1',
          ORCH_API_ADMIN_KEY: ADMIN_KEY,
          // Short enough for a test to watch a trickling client being cut off.
          ORCH_HTTP_HEADERS_TIMEOUT_MS: '500',
          ORCH_HTTP_REQUEST_TIMEOUT_MS: '1000',
        },
        cwd: REPO_ROOT,
        logFile: join(mkdtempSync(join(tmpdir(), 'orchestra-api-hostile-')), 'api.log'),
      },
      () => undefined,
    );
    const started = api.waitForLine((line) => line.includes('"service started"'), 60_000);
    api.start();
    await started;
    bus = await Bus.connect({ servers: nats.url, name: 'api-hostile-e2e' });
  }, 90_000);

  afterAll(async () => {
    await bus?.close();
    await api?.stop(10_000);
    await nats?.dispose();
  }, 30_000);

  const post = (body: string) => fetch(`${apiUrl}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` }, body });
  const published = async () => ({
    jobs: (await bus.jsm.streams.info(Streams.jobs.name)).state.messages,
    events: (await bus.jsm.streams.info(Streams.events.name)).state.messages,
    submissions: (await (await bus.kv(Buckets.submissions)).status()).values,
  });
  const problemOf = async (res: Response, status: number) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    return (await res.json()) as { type: string; detail: string; errors?: Array<{ pointer?: string }> };
  };
  const goodSubmission = async () => {
    const res = await post(JSON.stringify({ goal: 'Analyze these financial filings', inputs: { entities: ['MSFT'] } }));
    expect(res.status).toBe(202);
  };

  it('refuses what stalled it, publishing nothing, and keeps accepting good jobs', async () => {
    const before = await published();

    // Finding 1: ~690 KB of inputs.entities.
    const entities = Array.from({ length: 60_000 }, (_, i) => `TICKER${i}`);
    const tooLarge = await problemOf(await post(JSON.stringify({ goal: 'Analyze these financial filings', inputs: { entities } })), 413);
    expect(tooLarge.errors?.[0].pointer).toBe('/inputs/entities');

    // Finding 5: nesting 2500 deep, a __proto__ key, an undecodable path, oversized headers.
    const deep = `{"goal":"g","inputs":{"x":${'['.repeat(2_500)}${']'.repeat(2_500)}}}`;
    expect((await problemOf(await post(deep), 400)).type).toMatch(/json-too-deep$/);
    expect((await problemOf(await post('{"goal":"g","inputs":{"__proto__":{"a":1}}}'), 400)).type).toMatch(/forbidden-key$/);
    expect((await problemOf(await fetch(`${apiUrl}/v1/jobs/%E0%A4%A`), 400)).type).toMatch(/bad-url$/);
    const headers = await rawHttpExchange(apiPort, `GET /v1/schemas HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect([headers.response.status, headers.response.headers['content-type']]).toEqual([431, 'application/problem+json; charset=utf-8']);

    expect(await published()).toEqual(before);
    await goodSubmission();
  });

  it('cuts off a client trickling its headers (ORCH_HTTP_HEADERS_TIMEOUT_MS) while serving others', async () => {
    const trickling = rawHttpExchange(apiPort, 'POST /v1/jobs HTTP/1.1\r\nHost: x\r\n', { everyMs: 100, next: (i) => `X-Slow-${i}: 1\r\n` });
    await goodSubmission();
    const { response, trickled } = await trickling;
    expect(trickled).toBeGreaterThan(0);
    expect([response.status, response.headers['content-type']]).toEqual([408, 'application/problem+json; charset=utf-8']);
    await goodSubmission();
    // Refusals no route sees are still counted, for operators to see an attack.
    const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
    expect(metrics).toMatch(/orchestra_api_connection_errors_total\{status="408"[^}]*\} 1\b/);
    expect(metrics).toMatch(/orchestra_api_connection_errors_total\{status="431"[^}]*\} 1\b/);
  });
});
