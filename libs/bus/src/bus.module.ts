import { DynamicModule, Global, Injectable, Module, OnApplicationShutdown } from '@nestjs/common';
import { Bus } from './bus';

/** Drains the bus when the application shuts down, after the transport has finished its in-flight handlers. */
@Injectable()
class BusShutdown implements OnApplicationShutdown {
  constructor(private readonly bus: Bus) {}

  async onApplicationShutdown(): Promise<void> {
    await this.bus.close();
  }
}

/** Makes a connected Bus injectable everywhere in a service. */
@Global()
@Module({})
export class BusModule {
  static forRoot(bus: Bus): DynamicModule {
    return { module: BusModule, providers: [{ provide: Bus, useValue: bus }, BusShutdown], exports: [Bus] };
  }
}
