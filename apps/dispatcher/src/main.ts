// First: OpenTelemetry must load before anything that loads http (Nest, Fastify, NATS).
import '@orchestra/service/register';
import { Bus, runBusWorker } from '@orchestra/bus';
import { configurePythonParsers } from '@orchestra/schemas';
import { loadDispatcherConfig } from './config';
import { DispatcherController } from './dispatcher.controller';
import { DISPATCHER_CONFIG, dispatcherConfig } from './dispatcher.config';
import { DispatcherService } from './dispatcher.service';

const config = loadDispatcherConfig(process.env);
configurePythonParsers(config.python);

void runBusWorker({
  name: 'dispatcher',
  config,
  opsPort: 9462,
  controllers: [DispatcherController],
  providers: [
    // The size budgets are the connected server's (fitted to its max_payload).
    { provide: DISPATCHER_CONFIG, useFactory: (bus: Bus) => dispatcherConfig(config.dispatcher, bus.limits), inject: [Bus] },
    DispatcherService,
  ],
  // Miner calls are I/O-bound: many run at once per replica.
  concurrency: 64,
  // Each gateway's state (ok, or off and why): detail for operators, never a reason to refuse work.
  readiness: (app) => ({ ready: true, checks: app.get(DispatcherService).providerChecks() }),
});
