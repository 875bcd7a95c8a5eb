import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConnection } from './connection';
import { Orchestra } from './client';
import { ApiError, ConfigurationError, ConnectionError, NotFoundError, ProtocolError, RateLimitedError, ServerError, ValidationError, apiError } from './errors';
import { sseFrames } from './sse';

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield new TextEncoder().encode(part);
}

async function frames(body: AsyncIterable<Uint8Array>, max = 1024) {
  const out = [];
  for await (const frame of sseFrames(body, max)) out.push(frame);
  return out;
}

describe('sseFrames', () => {
  it('reads events split anywhere across chunks, skipping comments and keep-alives, with CRLF or LF', async () => {
    const got = await frames(chunks(': keep-alive\n\nid: 4\nev', 'ent: job.accepted\ndata: {"a":', '1}\n\n', 'id: 5\r\nevent: job.failed\r\ndata: x\r\ndata: y\r\n\r\n'));
    expect(got).toEqual([
      { id: '4', event: 'job.accepted', data: '{"a":1}' },
      { id: '5', event: 'job.failed', data: 'x\ny' },
    ]);
  });

  it('refuses a frame past the bound instead of buffering an endless line', async () => {
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) yield new TextEncoder().encode('data: ' + 'x'.repeat(512));
    }
    await expect(frames(endless(), 4096)).rejects.toBeInstanceOf(ProtocolError);
  });
});

describe('resolveConnection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sdk-conn-'));
  const file = join(dir, 'connection.json');
  writeFileSync(file, JSON.stringify({ api: { url: 'http://127.0.0.1:9/', key: 'dev-key', adminKey: 'admin-key' } }));

  it('takes each part from the options, then the environment, then the devnet connection file', () => {
    expect(resolveConnection({ connectionFile: file, env: {} })).toEqual({ url: 'http://127.0.0.1:9', key: 'dev-key' });
    expect(resolveConnection({ connectionFile: file, env: {}, admin: true }).key).toBe('admin-key');
    expect(resolveConnection({ connectionFile: file, env: { ORCHESTRA_API_KEY: 'env-key' } })).toEqual({ url: 'http://127.0.0.1:9', key: 'env-key' });
    expect(resolveConnection({ url: 'http://x', key: 'k', connectionFile: file, env: { ORCHESTRA_API_KEY: 'env-key' } })).toEqual({ url: 'http://x', key: 'k' });
    // The working directory's tmp/devnet/connection.json by default.
    const repo = mkdtempSync(join(tmpdir(), 'sdk-repo-'));
    mkdirSync(join(repo, 'tmp', 'devnet'), { recursive: true });
    writeFileSync(join(repo, 'tmp', 'devnet', 'connection.json'), JSON.stringify({ api: { url: 'http://devnet:8080', key: 'k2' } }));
    expect(resolveConnection({ env: {}, cwd: repo })).toEqual({ url: 'http://devnet:8080', key: 'k2' });
  });

  it('says where to find the API when nothing does', () => {
    expect(() => resolveConnection({ env: {}, cwd: dir })).toThrow(ConfigurationError);
    expect(() => resolveConnection({ env: {}, cwd: dir })).toThrow(/ORCHESTRA_URL/);
    writeFileSync(join(dir, 'broken.json'), '{');
    expect(() => resolveConnection({ env: {}, connectionFile: join(dir, 'broken.json') })).toThrow(/not a devnet connection file/);
  });
});

describe('apiError', () => {
  const problem = (status: number, kind: string) => ({ type: `https://orchestra.dev/problems/${kind}`, title: 'T', status, detail: 'D' });

  it('has one class per condition, with the problem kind and whether a retry can help', () => {
    expect(apiError(404, problem(404, 'job-not-found'), null)).toBeInstanceOf(NotFoundError);
    expect(apiError(415, problem(415, 'unsupported-media-type'), null)).toBeInstanceOf(ValidationError);
    const limited = apiError(429, problem(429, 'rate-limited'), '7') as RateLimitedError;
    expect(limited).toBeInstanceOf(RateLimitedError);
    expect(limited).toMatchObject({ kind: 'rate-limited', retryAfterMs: 7000, retryable: true });
    expect(apiError(503, problem(503, 'x'), null)).toBeInstanceOf(ServerError);
    const odd = apiError(418, problem(418, 'teapot'), null);
    expect(odd).toBeInstanceOf(ApiError);
    expect(odd.retryable).toBe(false);
  });
});

describe('Orchestra.events over real HTTP', () => {
  /** An API stand-in: answers the event stream with `answers` in turn (status and body), recording each Last-Event-ID. */
  async function server(answers: Array<{ status: number; body?: string; type?: string }>) {
    const seen: Array<string | undefined> = [];
    const http = createServer((req, res) => {
      seen.push(req.headers['last-event-id'] as string | undefined);
      const answer = answers.shift() ?? { status: 204 };
      res.writeHead(answer.status, { 'content-type': answer.type ?? 'text/event-stream' });
      res.end(answer.body);
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, seen, close: () => new Promise((r) => http.close(r)) };
  }
  const frame = (id: number, event: string) => `id: ${id}\nevent: ${event}\ndata: {"payload":{"message":"${event}"}}\n\n`;
  const problem = (status: number, kind: string) => JSON.stringify({ type: `https://orchestra.dev/problems/${kind}`, title: 'T', status, detail: 'D' });

  it('reconnects after a stream that ends early and after a 5xx, resuming after the last event; stops at the final event', async () => {
    const api = await server([
      { status: 200, body: frame(1, 'job.accepted') },
      { status: 503, body: problem(503, 'unavailable'), type: 'application/problem+json' },
      { status: 200, body: frame(2, 'step.verified') + frame(3, 'job.succeeded') },
    ]);
    try {
      const client = new Orchestra({ url: api.url, key: 'k', env: {}, reconnectDelayMs: 1 });
      const events = [];
      for await (const event of client.events('job_1')) events.push([event.id, event.type, event.message]);
      expect(events).toEqual([
        ['1', 'job.accepted', 'job.accepted'],
        ['2', 'step.verified', 'step.verified'],
        ['3', 'job.succeeded', 'job.succeeded'],
      ]);
      expect(api.seen).toEqual([undefined, '1', '1']);
    } finally {
      await api.close();
    }
  });

  it("does not retry the request's own fault, and gives up on a stream that keeps closing empty", async () => {
    const notFound = await server([{ status: 404, body: problem(404, 'job-not-found'), type: 'application/problem+json' }]);
    const empty = await server([
      { status: 200, body: '' },
      { status: 200, body: ': keep-alive\n\n' },
      { status: 200, body: '' },
    ]);
    try {
      const events = (url: string) => new Orchestra({ url, key: 'k', env: {}, reconnectDelayMs: 1, maxReconnects: 2 }).events('job_1');
      await expect(events(notFound.url).next()).rejects.toBeInstanceOf(NotFoundError);
      await expect(events(empty.url).next()).rejects.toBeInstanceOf(ConnectionError);
    } finally {
      await Promise.all([notFound.close(), empty.close()]);
    }
  });
});
