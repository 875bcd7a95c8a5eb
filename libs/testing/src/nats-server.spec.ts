import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startNatsServer } from './nats-server';

describe('startNatsServer', () => {
  it('starts a JetStream server that survives a restart with its store', async () => {
    const server = await startNatsServer();
    try {
      let nc = await connect({ servers: server.url });
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: 'KEEP', subjects: ['keep.>'] });
      await nc.close();

      await server.restart();
      nc = await connect({ servers: server.url });
      const info = await (await jetstreamManager(nc)).streams.info('KEEP');
      expect(info.config.subjects).toEqual(['keep.>']);
      await nc.close();
    } finally {
      await server.dispose();
    }
  });

  it('says how to install nats-server when the binary is missing', async () => {
    await expect(startNatsServer({ binary: '/nonexistent/nats-server' })).rejects.toThrow(/apt-get install nats-server/);
  });
});
