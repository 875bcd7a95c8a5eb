import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Bus } from '@orchestra/bus';
import { NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { createApiApp } from './app';
import type { Scope } from './keys';
import { apiSettings, type ApiSettings } from './settings';

/** The admin key the API under test starts with (ORCH_API_ADMIN_KEY). */
export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdefghijklmnopqrstuvwxyz';

/** A key the API issued, with what it was issued for. */
export interface IssuedKey {
  readonly id: string;
  readonly key: string;
  readonly tenant: string;
  readonly scopes: Scope[];
}

/** The API app on a free loopback port over its own real nats-server, for the API specs. */
export interface ApiUnderTest {
  readonly nats: NatsServerHandle;
  readonly bus: Bus;
  readonly app: NestFastifyApplication;
  /** `http://127.0.0.1:<port>` */
  readonly base: string;
  /** A key of tenant `default` with the submit, read and cancel scopes, sent by `post` and `fetch` unless the request has its own Authorization. */
  readonly key: IssuedKey;
  /** Issues a key through `POST /v1/keys` with the admin key. */
  issueKey(tenant: string, scopes?: Scope[], expiresAt?: string): Promise<IssuedKey>;
  /** fetch with `Authorization: Bearer <key>` (the default tenant's key unless `init.headers` has one). */
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** POSTs JSON (a string body is sent as it is), with the default key unless `headers` has an Authorization. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  close(): Promise<void>;
}

/** `Authorization` for a key. */
export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

export async function startApiUnderTest(name: string, settings?: ApiSettings): Promise<ApiUnderTest> {
  const nats = await startNatsServer();
  const bus = await Bus.connect({ servers: nats.url, name, storage: { replicas: 1, storage: 'memory' } });
  const withAdmin = { ...(settings ?? apiSettings({}, bus.nc.info?.max_payload)), adminKey: TEST_ADMIN_KEY };
  const app = await createApiApp({ bus, settings: withAdmin, logger: false });
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const issueKey = async (tenant: string, scopes: Scope[] = ['submit', 'read', 'cancel'], expiresAt?: string): Promise<IssuedKey> => {
    const res = await fetch(`${base}/v1/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(TEST_ADMIN_KEY) },
      body: JSON.stringify({ tenant, scopes, ...(expiresAt ? { expiresAt } : {}) }),
    });
    if (res.status !== 201) throw new Error(`POST /v1/keys: ${res.status} ${await res.text()}`);
    return (await res.json()) as IssuedKey;
  };
  const key = await issueKey('default');
  const authed = (init: RequestInit = {}): RequestInit => {
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${key.key}`);
    return { ...init, headers };
  };
  return {
    nats,
    bus,
    app,
    base,
    key,
    issueKey,
    fetch: (url, init) => fetch(url, authed(init)),
    post: (path, body, headers = {}) =>
      fetch(
        `${base}${path}`,
        authed({
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        }),
      ),
    close: async () => {
      await app.close();
      await nats.dispose();
    },
  };
}
