import { Controller, UseFilters } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { Consumers } from '@orchestra/contracts';
import { BusErrorFilter, InboundMessage } from '@orchestra/bus';
import { VerifierService } from './verifier.service';

/** Miner answers to judge (`orch.task.result`). */
@Controller()
@UseFilters(BusErrorFilter)
export class VerifierController {
  constructor(private readonly verifier: VerifierService) {}

  @EventPattern(Consumers.verifier.durable)
  handle(@Payload() message: InboundMessage): Promise<void> {
    return this.verifier.handle(message);
  }
}
