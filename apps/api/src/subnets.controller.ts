import { Controller, Get } from '@nestjs/common';
import { RequireScope } from './auth.guard';
import { SubnetsService, SubnetsView } from './subnets';

/** Who Orchestra buys each capability from: providers in order, and their best sources (subnets.ts). */
@Controller('v1/subnets')
@RequireScope('read')
export class SubnetsController {
  constructor(private readonly subnets: SubnetsService) {}

  @Get()
  list(): Promise<SubnetsView> {
    return this.subnets.view();
  }
}
