import { Consumers } from '@orchestra/contracts';
import { BusConfigError } from './errors';
import { Bus, consumersFromEnv, redeliveryHorizonMs, storageFromEnv } from './bus';
import { natsUrlFromEnv } from './config';

describe('consumersFromEnv', () => {
  it('keeps the contracts’ ack wait unless ORCH_ACK_WAIT_MS is set', () => {
    expect(consumersFromEnv({})).toEqual(Object.values(Consumers));
    const short = consumersFromEnv({ ORCH_ACK_WAIT_MS: '4000' });
    expect(short.map((c) => c.ackWaitMs)).toEqual(Object.values(Consumers).map(() => 4000));
    expect(short.map((c) => c.maxDeliver)).toEqual(Object.values(Consumers).map((c) => c.maxDeliver));
  });

  it('refuses an ack wait the heartbeat could not keep', () => {
    expect(() => consumersFromEnv({ ORCH_ACK_WAIT_MS: '500' })).toThrow(BusConfigError);
    expect(() => consumersFromEnv({ ORCH_ACK_WAIT_MS: 'soon' })).toThrow(/ORCH_ACK_WAIT_MS/);
  });
});

describe('storageFromEnv and the stream settings check', () => {
  it('reads replicas, storage and the stream overrides', () => {
    expect(storageFromEnv({})).toEqual({ replicas: 1, storage: 'file', maxAgeMs: undefined, duplicateWindowMs: undefined });
    expect(storageFromEnv({ ORCH_NATS_REPLICAS: '3', ORCH_STREAM_MAX_AGE_MS: '86400000', ORCH_STREAM_DUPLICATE_WINDOW_MS: '7200000' })).toEqual({
      replicas: 3,
      storage: 'file',
      maxAgeMs: 86_400_000,
      duplicateWindowMs: 7_200_000,
    });
    expect(() => storageFromEnv({ ORCH_STREAM_MAX_AGE_MS: 'a week' })).toThrow(/ORCH_STREAM_MAX_AGE_MS must be a positive number/);
  });

  it('refuses a replica count or storage kind that is not one (a typo used to become NaN replicas, or file storage), naming both', () => {
    const attempt = () => storageFromEnv({ ORCH_NATS_REPLICAS: 'three', ORCH_NATS_STORAGE: 'disk' });
    expect(attempt).toThrow(BusConfigError);
    expect(attempt).toThrow(/ORCH_NATS_REPLICAS must be an integer from 1 to 5; got "three"; ORCH_NATS_STORAGE must be "file" or "memory"; got "disk"/);
    expect(() => storageFromEnv({ ORCH_NATS_REPLICAS: '7' })).toThrow(/ORCH_NATS_REPLICAS/);
  });

  it('knows the redelivery horizon a duplicate window must cover', () => {
    // planner: 8 deliveries × (30 s ack wait + 15 s longest backoff)
    expect(redeliveryHorizonMs(Object.values(Consumers))).toBe(360_000);
  });

  it('refuses a duplicate window shorter than that horizon, before connecting', async () => {
    await expect(
      Bus.connect({ servers: 'nats://127.0.0.1:1', name: 'never', storage: { replicas: 1, storage: 'file', duplicateWindowMs: 60_000 }, connectTimeoutMs: 500 }),
    ).rejects.toThrow(/ORCH_STREAM_DUPLICATE_WINDOW_MS=60000 is shorter than the consumers' redelivery horizon of 360000 ms/);
  });
});

describe('natsUrlFromEnv', () => {
  it('takes one server or a comma-separated cluster, the default when unset', () => {
    expect(natsUrlFromEnv({})).toBe('nats://127.0.0.1:4222');
    expect(natsUrlFromEnv({ ORCH_NATS_URL: ' nats://nats-0:4222, nats://nats-1:4222 ' })).toBe('nats://nats-0:4222, nats://nats-1:4222');
    expect(natsUrlFromEnv({ ORCH_NATS_URL: 'tls://nats.example:4443,127.0.0.1:4222,localhost' })).toBe('tls://nats.example:4443,127.0.0.1:4222,localhost');
  });

  it('refuses what is not a server address, naming the entry but never its credentials', () => {
    const attempt = () => natsUrlFromEnv({ ORCH_NATS_URL: 'nats://ok:4222,nats//typo:4222,nats://svc:secret-pass@host name:4222' });
    expect(attempt).toThrow(BusConfigError);
    expect(attempt).toThrow('"nats//typo:4222", "nats://[redacted]@host name:4222" is not one');
    expect(attempt).not.toThrow(/secret-pass/);
  });
});
