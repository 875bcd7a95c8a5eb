// First: OpenTelemetry must load before anything that loads http (Nest, Fastify, NATS).
import '@orchestra/service/register';
import { runBusWorker } from '@orchestra/bus';
import { plannerConfig } from './config';
import { PlannerController } from './planner.controller';
import { PlannerService } from './planner.service';

void runBusWorker({ name: 'planner', config: plannerConfig(process.env), opsPort: 9461, controllers: [PlannerController], providers: [PlannerService] });
