import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { metricsRegistry } from './metrics';

/**
 * What `/readyz` reports: `ready` decides 200 vs 503, `checks` says why, e.g.
 * `{ ready: false, checks: { nats: 'down' } }`.
 */
export interface ReadinessReport {
  ready: boolean;
  checks?: Record<string, string>;
}

/** A readiness probe, asked on every `/readyz` request. */
export type ReadinessCheck = () => ReadinessReport | Promise<ReadinessReport>;

/**
 * What `/healthz` reports: `live: false` means the process cannot recover by itself (a
 * consumer that stopped pulling, a NATS connection that stopped reading) and must be
 * restarted; `checks` says why.
 */
export interface LivenessReport {
  live: boolean;
  checks?: Record<string, string>;
}

/** A liveness probe, asked on every `/healthz` request. */
export type LivenessCheck = () => LivenessReport | Promise<LivenessReport>;

/** Options for {@link startOpsServer}. */
export interface OpsServerOptions {
  /** TCP port; 0 picks a free one (read it back from {@link OpsServer.port}). */
  port: number;
  /**
   * Interface to bind. Defaults to all interfaces because the kubelet probes the pod IP,
   * not loopback; pass `127.0.0.1` for local runs and tests.
   */
  host?: string;
  readiness: ReadinessCheck;
  /** Liveness beyond "the process answers"; default: always live. */
  liveness?: LivenessCheck;
  /** Registry served on `/metrics`; defaults to the process registry. */
  registry?: Registry;
}

/** A running ops server. */
export interface OpsServer {
  /** The bound port (useful when started with port 0). */
  readonly port: number;
  /**
   * Makes `/readyz` answer 503 from now on without consulting the readiness check, so the
   * load balancer stops routing here while the process drains. Irreversible.
   */
  markShuttingDown(): void;
  /** Stops listening and drops idle keep-alive connections. */
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Starts the liveness/readiness/metrics endpoint (plain `node:http`, so it works for
 * services without an HTTP framework):
 * - `GET /healthz` → 200 `{ status: 'ok' }` while the process is live (also during drain,
 *   so the kubelet does not kill a process that is shutting down cleanly), 503
 *   `{ status: 'dead', checks }` when the liveness check says it cannot recover by itself;
 * - `GET /readyz` → 200 or 503 with the {@link ReadinessReport};
 * - `GET /metrics` → Prometheus text format;
 * - anything else → 404 (or 405 for a wrong method) as `application/problem+json`.
 */
export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const registry = options.registry ?? metricsRegistry();
  let shuttingDown = false;

  const routes: Record<string, (res: ServerResponse) => Promise<void>> = {
    '/healthz': async (res) => {
      // Draining is not dying: a process shutting down cleanly must not be killed for it.
      const report = shuttingDown ? { live: true } : await liveness();
      sendJson(res, report.live ? 200 : 503, { status: report.live ? 'ok' : 'dead', ...(report.checks ? { checks: report.checks } : {}) });
    },
    '/readyz': async (res) => {
      const report = shuttingDown ? { ready: false, checks: { shutdown: 'in progress' } } : await readiness();
      sendJson(res, report.ready ? 200 : 503, report);
    },
    '/metrics': async (res) => {
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType }).end(body);
    },
  };

  async function readiness(): Promise<ReadinessReport> {
    try {
      return await options.readiness();
    } catch (error) {
      // A throwing check means "not ready", not "ops server broken".
      return { ready: false, checks: { readiness: `error: ${error instanceof Error ? error.message : String(error)}` } };
    }
  }

  async function liveness(): Promise<LivenessReport> {
    if (!options.liveness) return { live: true };
    try {
      return await options.liveness();
    } catch (error) {
      // A liveness check that throws is a bug in the check, not proof the process is dead:
      // restarting for it would turn one bug into a restart loop.
      return { live: true, checks: { liveness: `check failed: ${error instanceof Error ? error.message : String(error)}` } };
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://ops').pathname;
    const route = routes[path];
    if (!route) return sendProblem(res, 404, 'Not Found', `no ops endpoint at ${path}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendProblem(res, 405, 'Method Not Allowed', `${path} supports GET only`);
    }
    await route(res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const detail = error instanceof Error ? error.message : String(error);
      if (!res.headersSent) sendProblem(res, 500, 'Internal Server Error', detail);
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });

  let closing: Promise<void> | undefined;
  return {
    port: (server.address() as AddressInfo).port,
    markShuttingDown: () => {
      shuttingDown = true;
    },
    close: () =>
      (closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Probes and scrapers keep connections alive; without this close() waits for them.
        server.closeAllConnections();
      })),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': JSON_TYPE, 'cache-control': 'no-store' }).end(JSON.stringify(body));
}

function sendProblem(res: ServerResponse, status: number, title: string, detail: string): void {
  res.writeHead(status, { 'content-type': 'application/problem+json; charset=utf-8' }).end(JSON.stringify({ type: 'about:blank', title, status, detail }));
}
