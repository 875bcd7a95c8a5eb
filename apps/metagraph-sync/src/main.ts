// First: OpenTelemetry must load before anything that loads http (Nest, Fastify, NATS).
import '@orchestra/service/register';
import { runBusWorker } from '@orchestra/bus';
import { SYNC_SETTINGS, metagraphSyncConfig } from './config';
import { MetagraphSyncService } from './metagraph-sync.service';

const config = metagraphSyncConfig(process.env);

void runBusWorker({
  name: 'metagraph-sync',
  config,
  opsPort: 9464,
  providers: [{ provide: SYNC_SETTINGS, useValue: config.sync }, MetagraphSyncService],
  readiness: (app) => {
    const synced = app.get(MetagraphSyncService).synced;
    return { ready: synced, checks: { chain: synced ? 'synced' : 'not yet synced' } };
  },
});
