// First: OpenTelemetry must load before anything that loads http (Nest, Fastify, NATS).
import '@orchestra/service/register';
import { runBusWorker } from '@orchestra/bus';
import { MetagraphSyncService } from './metagraph-sync.service';

void runBusWorker({
  name: 'metagraph-sync',
  opsPort: 9464,
  providers: [MetagraphSyncService],
  readiness: (app) => {
    const synced = app.get(MetagraphSyncService).synced;
    return { ready: synced, checks: { chain: synced ? 'synced' : 'not yet synced' } };
  },
});
