// First: OpenTelemetry must load before anything that loads http (Nest, Fastify, NATS).
import '@orchestra/service/register';
import { runBusWorker } from '@orchestra/bus';
import { ACCESS_SETTINGS, SYNC_SETTINGS, metagraphSyncConfig } from './config';
import { MetagraphSyncService } from './metagraph-sync.service';

const config = metagraphSyncConfig(process.env);

void runBusWorker({
  name: 'metagraph-sync',
  config,
  opsPort: 9464,
  providers: [{ provide: SYNC_SETTINGS, useValue: config.sync }, { provide: ACCESS_SETTINGS, useValue: config.access }, MetagraphSyncService],
  readiness: (app) => {
    const service = app.get(MetagraphSyncService);
    return { ready: service.synced, checks: { chain: service.synced ? 'synced' : 'not yet synced', ...service.accessChecks() } };
  },
});
