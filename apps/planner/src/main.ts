// First: OpenTelemetry must load before anything that loads http (Nest, Fastify, NATS).
import '@orchestra/service/register';
import { runBusWorker } from '@orchestra/bus';
import { modelPlannerFor, plannerConfig } from './config';
import { PlannerController } from './planner.controller';
import { MODEL_PLANNER, PlannerService } from './planner.service';

const config = plannerConfig(process.env);
void runBusWorker({
  name: 'planner',
  config,
  opsPort: 9461,
  controllers: [PlannerController],
  providers: [PlannerService, { provide: MODEL_PLANNER, useValue: modelPlannerFor(config.planning) ?? null }],
});
