import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { startNatsCluster } from './nats-cluster';

describe('startNatsCluster', () => {
  it('serves an R3 stream that keeps accepting writes with a node down and catches the node up', async () => {
    const cluster = await startNatsCluster(3);
    const nc = await connect({ servers: [...cluster.urls], maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    try {
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'R3', subjects: ['r3.>'], num_replicas: 3 });
      const js = jetstream(nc);
      await js.publish('r3.a', 'one');

      await cluster.nodes[0].kill();
      await cluster.waitForJetStream();
      // A leader may have been on the killed node: the publish retries through the election.
      await expect(publishEventually(() => js.publish('r3.b', 'two'))).resolves.toBeDefined();

      await cluster.nodes[0].restart();
      const info = await jsm.streams.info('R3');
      expect(info.state.messages).toBe(2);
      expect(info.cluster?.replicas?.length).toBe(2);
    } finally {
      await nc.close();
      await cluster.dispose();
    }
  }, 60_000);
});

async function publishEventually<T>(publish: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await publish();
    } catch (error) {
      if (i >= 40) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
