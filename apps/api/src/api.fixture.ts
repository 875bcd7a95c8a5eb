import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Bus } from '@orchestra/bus';
import { NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { createApiApp } from './app';
import type { ApiSettings } from './settings';

/** The API app on a free loopback port over its own real nats-server, for the API specs. */
export interface ApiUnderTest {
  readonly nats: NatsServerHandle;
  readonly bus: Bus;
  readonly app: NestFastifyApplication;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  /** POSTs JSON (a string body is sent as it is). */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

export async function startApiUnderTest(name: string, settings?: ApiSettings): Promise<ApiUnderTest> {
  const nats = await startNatsServer();
  const bus = await Bus.connect({ servers: nats.url, name, storage: { replicas: 1, storage: 'memory' } });
  const app = await createApiApp({ bus, settings, logger: false });
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return {
    nats,
    bus,
    app,
    base,
    post: (path, body, headers = {}) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      }),
    close: async () => {
      await app.close();
      await nats.dispose();
    },
  };
}
