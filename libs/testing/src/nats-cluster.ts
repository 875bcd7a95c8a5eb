import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, launchNatsServer, NatsServerHandle, NatsServerStartError } from './nats-server';

/** A JetStream cluster of nats-server processes on loopback, for replicated (R3) streams. */
export interface NatsClusterHandle {
  /** Every node's client URL: give all of them to clients, so they fail over. */
  readonly urls: readonly string[];
  /** The nodes, in start order; each can be killed and restarted with its own store. */
  readonly nodes: readonly NatsServerHandle[];
  /** Waits until JetStream answers through the cluster (a meta leader is elected). */
  waitForJetStream(timeoutMs?: number): Promise<void>;
  /** Stops every node and deletes the stores. */
  dispose(): Promise<void>;
}

/**
 * Starts `size` nats-server processes (default 3) with JetStream, each with its own
 * client port, cluster port, server name and store directory, routed to one another,
 * and waits until JetStream is usable. `nodes[i].kill()` then `nodes[i].restart()`
 * rehearses a node crash: it comes back on the same ports and store and catches up.
 */
export async function startNatsCluster(size = 3, opts: { binary?: string } = {}): Promise<NatsClusterHandle> {
  const clusterName = `orch-test-${process.pid}`;
  const ports = await Promise.all(Array.from({ length: size }, async () => ({ client: await freePort(), route: await freePort() })));
  const routes = ports.map((p) => `nats://127.0.0.1:${p.route}`).join(',');
  const nodes: NatsServerHandle[] = [];
  const dispose = async () => {
    await Promise.all(nodes.map((n) => n.dispose()));
  };
  try {
    // In parallel: a node waits for its peers only for JetStream, not to report ready.
    const started = await Promise.all(
      ports.map((p, i) =>
        launchNatsServer({
          binary: opts.binary,
          port: p.client,
          storeDir: mkdtempSync(join(tmpdir(), `orchestra-nats-n${i + 1}-`)),
          args: ['--server_name', `n${i + 1}`, '--cluster_name', clusterName, '--cluster', `nats://127.0.0.1:${p.route}`, '--routes', routes],
        }),
      ),
    );
    nodes.push(...started);
    const cluster: NatsClusterHandle = {
      urls: nodes.map((n) => n.url),
      nodes,
      waitForJetStream: (timeoutMs = 30_000) =>
        waitForJetStream(
          nodes.map((n) => n.url),
          timeoutMs,
        ),
      dispose,
    };
    await cluster.waitForJetStream();
    return cluster;
  } catch (error) {
    await dispose();
    throw error;
  }
}

async function waitForJetStream(servers: string[], timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const nc = await connect({ servers, timeout: 2_000 });
      try {
        await (await jetstreamManager(nc, { timeout: 2_000 })).getAccountInfo();
        return;
      } finally {
        await nc.close();
      }
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new NatsServerStartError(`the NATS cluster ${servers.join(',')} did not serve JetStream within ${timeoutMs} ms`, { cause: last });
}
