import { Controller, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Consumers } from '@orchestra/contracts';
import { BusErrorFilter, InboundMessage } from '@orchestra/bus';
import { DispatcherService } from './dispatcher.service';

/** Tasks ready for hiring, on every subnet (`orch.task.ready.>`). */
@Controller()
@UseFilters(BusErrorFilter)
export class DispatcherController {
  constructor(private readonly dispatcher: DispatcherService) {}

  @EventPattern(Consumers.dispatcher.durable)
  handle(@Payload() message: InboundMessage): Promise<void> {
    return this.dispatcher.handle(message);
  }
}
