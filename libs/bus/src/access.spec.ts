import { spawn } from 'node:child_process';
import { Buckets, NATS_ROLES, Subjects } from '@orchestra/contracts';
import { NatsServerHandle, serviceMain, startNatsServer } from '@orchestra/testing';
import { natsAccessFromEnv } from './access';
import { Bus } from './bus';
import { BusConfigError, BusConnectionError, isBusFailure } from './errors';

describe('NATS access (a real nats-server with one user per role)', () => {
  let nats: NatsServerHandle;
  const opened: Bus[] = [];
  const open = async (...args: Parameters<typeof Bus.connect>) => {
    const bus = await Bus.connect(...args);
    opened.push(bus);
    return bus;
  };

  beforeAll(async () => {
    nats = await startNatsServer({ auth: { manageTopology: false } });
  });
  afterAll(async () => {
    await Promise.all(opened.map((b) => b.close()));
    await nats.dispose();
  });

  it('refuses wrong credentials with an error that names the user and is not retried', async () => {
    const attempt = Bus.connect({ servers: nats.url, name: 'spec', access: { user: 'planner', pass: 'wrong' } });
    await expect(attempt).rejects.toThrow(BusConfigError);
    await expect(Bus.connect({ servers: nats.url, name: 'spec', access: { user: 'planner', pass: 'wrong' } })).rejects.toThrow(/refused user "planner"/);
    await expect(Bus.connect({ servers: nats.url, name: 'spec', access: {} })).rejects.toThrow(/refused a connection without credentials/);
  });

  it('in verify mode lists the missing topology; the operator creates it; then every service starts', async () => {
    const users = nats.users as NonNullable<NatsServerHandle['users']>;
    await expect(Bus.connect({ servers: nats.url, name: 'spec', access: { ...users.planner, topology: 'verify' } })).rejects.toThrow(
      /topology is incomplete: stream ORCH_JOBS, .*stream ORCH_AUDIT, .*KV bucket orch_reputation, KV bucket orch_api_keys, .*object bucket orch_outputs missing/,
    );
    await open({ servers: nats.url, name: 'operator', access: users.operator });
    for (const role of NATS_ROLES.filter((r) => r !== 'operator')) {
      await expect(open({ servers: nats.url, name: role, access: { ...users[role], topology: 'verify' } })).resolves.toBeInstanceOf(Bus);
    }
  });

  it('grants each service its own subjects and nothing else', async () => {
    const users = nats.users as NonNullable<NatsServerHandle['users']>;
    const verifier = await open({ servers: nats.url, name: 'verifier', access: { ...users.verifier, topology: 'verify' } });
    const forged = await verifier.js.publish(Subjects.jobSubmitted, 'forged', { timeout: 5_000 }).catch((error: unknown) => error);
    expect(forged).toBeInstanceOf(Error);
    expect((forged as Error).message).toMatch(/Permissions Violation/);
    // Retrying cannot cure a refusal: the transport must not take it for the bus failing.
    expect(isBusFailure(forged)).toBe(false);
    const api = await open({ servers: nats.url, name: 'api', access: { ...users.api, topology: 'verify' } });
    await expect((await api.kv(Buckets.submissions)).put('job_1', '{}')).resolves.toBeGreaterThan(0);
    await expect((await api.kv(Buckets.reputation)).put('sn1.uid1.x', '{}')).rejects.toThrow(/Permissions Violation/);
    // One service cannot listen to another's replies.
    const sub = verifier.nc.subscribe('_INBOX_api.>');
    await verifier.nc.flush().catch(() => undefined);
    await expect(sub.closed).resolves.toEqual(expect.objectContaining({ message: expect.stringMatching(/Permissions Violation/) }));
  });

  it('a service started with a wrong password exits at once and says why', async () => {
    const { command, args } = serviceMain('verifier');
    const child = spawn(command, args, {
      env: { ...process.env, ORCH_NATS_URL: nats.url, ORCH_NATS_USER: 'verifier', ORCH_NATS_PASSWORD: 'wrong', ORCH_NATS_TOPOLOGY: 'verify', OPS_PORT: '0', OPS_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).not.toBe(0);
    expect(output).toMatch(/refused user \\?"verifier\\?"/);
  }, 60_000);
});

describe('isBusFailure', () => {
  it('is the bus failing, told by type: our connection error yes, a handler bug no', () => {
    expect(isBusFailure(new BusConnectionError('gone'))).toBe(true);
    expect(isBusFailure(new Error('TimeoutError'))).toBe(false);
    expect(isBusFailure('TimeoutError')).toBe(false);
  });
});

describe('natsAccessFromEnv', () => {
  it('reads credentials, TLS and the topology mode', () => {
    expect(natsAccessFromEnv({ ORCH_NATS_USER: 'api', ORCH_NATS_PASSWORD: 'p', ORCH_NATS_TLS_CA: '/ca.pem', ORCH_NATS_TOPOLOGY: 'verify' })).toEqual({
      user: 'api',
      pass: 'p',
      credsFile: undefined,
      tls: { caFile: '/ca.pem', certFile: undefined, keyFile: undefined },
      topology: 'verify',
    });
  });

  it('names every inconsistent setting at once', () => {
    const attempt = () => natsAccessFromEnv({ ORCH_NATS_USER: 'api', ORCH_NATS_CREDS: '/x.creds', ORCH_NATS_TLS_CERT: '/c.pem', ORCH_NATS_TOPOLOGY: 'create' });
    expect(attempt).toThrow(BusConfigError);
    expect(attempt).toThrow(
      /ORCH_NATS_USER and ORCH_NATS_PASSWORD go together; set either ORCH_NATS_CREDS.*; ORCH_NATS_TLS_CERT and ORCH_NATS_TLS_KEY go together; ORCH_NATS_TOPOLOGY must be/,
    );
  });
});
