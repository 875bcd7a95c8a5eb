import http, { IncomingMessage, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/** One request a fake received, for tests to check what the client sent and when. */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** Date.now() when it arrived. */
  readonly at: number;
}

/** A fake provider listening on loopback. */
export interface FakeServer {
  readonly url: string;
  readonly port: number;
  /** Every request so far, in arrival order. */
  readonly requests: readonly RecordedRequest[];
  stop(): Promise<void>;
}

/** Largest request body a fake reads, bytes. */
const MAX_REQUEST_BYTES = 1024 * 1024;

export type FakeHandler = (req: RecordedRequest, res: ServerResponse, gone: AbortSignal) => Promise<void> | void;

/** Starts an HTTP server on loopback that records each request and hands it on with a signal fired when the client disconnects. */
export async function startHttpFake(handler: FakeHandler, options: { host?: string; port?: number } = {}): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
      if (bytes > MAX_REQUEST_BYTES) {
        json(res, 413, { detail: `request body exceeds ${MAX_REQUEST_BYTES} bytes` });
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      requests.push(recorded);
      const gone = new AbortController();
      res.on('close', () => gone.abort());
      Promise.resolve(handler(recorded, res, gone.signal)).catch((error: unknown) => {
        if (!res.headersSent) json(res, 500, { detail: `fake provider error: ${String(error)}` });
        else res.destroy();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host}:${port}`,
    port,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes a JSON reply. */
export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The garbage a broken gateway sends with a 200: an HTML error page. */
export function garbage(res: ServerResponse): void {
  const text = '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>';
  res.writeHead(200, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
