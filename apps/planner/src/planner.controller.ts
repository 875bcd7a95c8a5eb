import { Controller, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Consumers } from '@orchestra/contracts';
import { BusErrorFilter, InboundMessage } from '@orchestra/bus';
import { PlannerService } from './planner.service';

/** The planner's inbox: job submissions, cancellations and step outcomes (`orch.job.>`). */
@Controller()
@UseFilters(BusErrorFilter)
export class PlannerController {
  constructor(private readonly planner: PlannerService) {}

  @EventPattern(Consumers.planner.durable)
  handle(@Payload() message: InboundMessage): Promise<void> {
    return this.planner.handle(message);
  }
}
