import http from 'node:http';
import { AddressInfo } from 'node:net';
import { TRUNCATION_MARKER } from '@orchestra/contracts';
import { gatewayFetch, parseRetryAfter, statusError } from '.';
import { ProviderError } from '../errors';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-12-01T00:00:00Z');
  it('reads delay-seconds and HTTP-dates, clamped to the maximum', () => {
    expect(parseRetryAfter('2', now, 60_000)).toBe(2_000);
    expect(parseRetryAfter('Tue, 01 Dec 2026 00:00:05 GMT', now, 60_000)).toBe(5_000);
    expect(parseRetryAfter('Mon, 30 Nov 2026 23:00:00 GMT', now, 60_000)).toBe(0);
    expect(parseRetryAfter('99999999', now, 60_000)).toBe(60_000);
  });
  it('ignores what it cannot read', () => {
    for (const v of [undefined, null, '', 'soon', '-1', '1.5']) expect(parseRetryAfter(v, now, 60_000)).toBeUndefined();
  });
});

describe('statusError', () => {
  const req = { provider: 'desearch' as const, method: 'GET' as const, url: new URL('https://api.desearch.ai/web') };
  it('maps statuses to blame and retryability', () => {
    const cases: Array<[number, string, string, boolean]> = [
      [401, 'auth', 'config', false],
      [403, 'auth', 'config', false],
      [402, 'payment', 'config', false],
      [429, 'rate_limited', 'source', true],
      [400, 'rejected', 'ours', false],
      [422, 'rejected', 'ours', false],
      [500, 'unavailable', 'source', true],
      [503, 'unavailable', 'source', true],
    ];
    for (const [status, fault, blame, retryable] of cases) {
      expect(statusError(req, status, new Headers(), '')).toMatchObject({ status, fault, blame, retryable });
    }
  });
  it('defaults a 429 without Retry-After to a short wait, and passes on a 503 that says when', () => {
    expect(statusError(req, 429, new Headers(), '').retryAfterMs).toBe(1_000);
    expect(statusError(req, 503, new Headers({ 'retry-after': '7' }), '').retryAfterMs).toBe(7_000);
    expect(statusError(req, 503, new Headers(), '').retryAfterMs).toBeUndefined();
  });
  it("keeps the gateway's words, cut short", () => {
    const error = statusError(req, 500, new Headers(), JSON.stringify({ detail: 'x'.repeat(5_000) }));
    expect(error.message).toContain(TRUNCATION_MARKER);
    expect(error.message.length).toBeLessThan(500);
  });
});

describe('gatewayFetch against hostile answers', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/redirect') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' });
        return res.end();
      }
      if (req.url === '/endless') {
        // A body that never ends, in small pieces: the byte cap must stop it.
        res.writeHead(200, { 'content-type': 'application/json' });
        const timer = setInterval(() => res.write('['.repeat(1024)), 1);
        res.on('close', () => clearInterval(timer));
        return;
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );

  const fetchPath = (path: string) =>
    gatewayFetch({ provider: 'chutes', url: new URL(path, base), method: 'GET', headers: { authorization: 'Bearer secret' }, timeoutMs: 5_000, maxResponseBytes: 64 * 1024 });

  it('never follows a redirect', async () => {
    await expect(fetchPath('/redirect')).rejects.toMatchObject({ fault: 'redirect', blame: 'source' });
  });
  it('stops reading at the byte cap', async () => {
    await expect(fetchPath('/endless')).rejects.toMatchObject({ fault: 'too_large' });
  });
  it('reports a refused connection as a retryable network fault of the source', async () => {
    // A port that was free a moment ago: nothing listens there now.
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const error = await gatewayFetch({
      provider: 'chutes',
      url: new URL(`http://127.0.0.1:${port}/v1/models`),
      method: 'GET',
      headers: {},
      timeoutMs: 2_000,
      maxResponseBytes: 1024,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ fault: 'network', blame: 'source', retryable: true });
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });
});
