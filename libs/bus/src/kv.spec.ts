import { NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { z } from 'zod';
import { Bus } from './bus';
import { ParsedJsonCache } from './kv';

describe('ParsedJsonCache', () => {
  let server: NatsServerHandle;
  let bus: Bus;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await Bus.connect({ servers: server.url, name: 'kv-spec', storage: { replicas: 1, storage: 'memory' } });
  });
  afterAll(async () => {
    await bus.close();
    await server.dispose();
  });

  it('parses a key once per revision, sees every new revision at once, and shares a frozen value', async () => {
    const kv = await bus.kv('kv_spec');
    const Schema = z.object({ n: z.number(), items: z.array(z.string()) });
    let parses = 0;
    const counting = Schema.transform((v) => (parses++, v));
    const cache = new ParsedJsonCache(kv, counting);

    expect(await cache.read('k')).toBeUndefined();
    await kv.put('k', JSON.stringify({ n: 1, items: ['a'] }));
    const first = await cache.read('k');
    expect(first).toEqual({ n: 1, items: ['a'] });
    expect(await cache.read('k')).toBe(first);
    expect(parses).toBe(1);
    expect(Object.isFrozen(first?.items)).toBe(true);

    await kv.put('k', JSON.stringify({ n: 2, items: [] }));
    expect(await cache.read('k')).toEqual({ n: 2, items: [] });
    expect(parses).toBe(2);

    await kv.delete('k');
    expect(await cache.read('k')).toBeUndefined();
    await kv.put('k', JSON.stringify({ n: 'not a number' }));
    await expect(cache.read('k')).rejects.toThrow();
  });
});
