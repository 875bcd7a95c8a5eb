// First: OpenTelemetry must load before anything that loads http (Nest, Fastify, NATS).
import '@orchestra/service/register';
import { runBusWorker } from '@orchestra/bus';
import { DispatcherController } from './dispatcher.controller';
import { DispatcherService } from './dispatcher.service';

// Miner calls are I/O-bound: many run at once per replica.
void runBusWorker({ name: 'dispatcher', opsPort: 9462, controllers: [DispatcherController], providers: [DispatcherService], concurrency: 64 });
