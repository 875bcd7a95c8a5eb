import { Controller, Get, Res } from '@nestjs/common';
import { Public } from './auth.guard';
import { Bus } from '@orchestra/bus';
import type { FastifyReply } from 'fastify';

/**
 * Liveness and readiness on the API port as well as the ops port, for load balancers
 * that can only probe the port they route to.
 */
@Public()
@Controller()
export class HealthController {
  constructor(private readonly bus: Bus) {}

  /** 200 while the process serves requests. */
  @Get('healthz')
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** 200 when the bus is connected (submissions can be accepted), else 503. */
  @Get('readyz')
  ready(@Res({ passthrough: true }) reply: FastifyReply): { ready: boolean; checks: { nats: string } } {
    const ready = this.bus.isConnected();
    void reply.status(ready ? 200 : 503);
    return { ready, checks: { nats: ready ? 'up' : 'down' } };
  }
}
