import { ObjectBuckets, ObjectRef, isObjectRef } from '@orchestra/contracts';
import { NatsServerHandle, startNatsServer } from '@orchestra/testing';
import { Bus } from './bus';
import { ObjectRefError } from './errors';
import { containsObjectRef, deleteObject, getObject, objectRefsIn, objectStreamName, putObject, resolveObjectRefs, storeIfLarge } from './objects';

/** Object store round trips against a real nats-server. */
describe('object store', () => {
  let server: NatsServerHandle;
  let bus: Bus;

  beforeAll(async () => {
    server = await startNatsServer();
    bus = await Bus.connect({ servers: server.url, name: 'objects-spec' });
  });
  afterAll(async () => {
    await bus.close();
    await server.dispose();
  });

  /** ~1.2 MB of rows: more than one chunk, more than max_payload. */
  const bigRows = Array.from({ length: 12_000 }, (_, i) => ({ entity: `E${i}`, period: 'FY2023', metric: 'revenue', value: i * 1.5, note: 'x'.repeat(60) }));

  it('is created by ensureTopology with its TTL, and brought back up to date', async () => {
    const name = objectStreamName(ObjectBuckets.outputs);
    const day = 24 * 3_600_000 * 1_000_000;
    expect((await bus.jsm.streams.info(name)).config).toMatchObject({ max_age: 7 * day, allow_rollup_hdrs: true, subjects: ['$O.orch_outputs.C.>', '$O.orch_outputs.M.>'] });
    await bus.jsm.streams.update(name, { ...(await bus.jsm.streams.info(name)).config, max_age: day });
    await bus.ensureTopology();
    expect((await bus.jsm.streams.info(name)).config.max_age).toBe(7 * day);
  });

  it('stores a value larger than max_payload and reads it back whole, or the part a pointer selects', async () => {
    const value = { rows: bigRows, source: 'spec' };
    const ref = await putObject(bus, ObjectBuckets.outputs, 'job_1/steps/data/1/output', value);
    expect(ref.$object.bytes).toBeGreaterThan(bus.limits.maxPayloadBytes);
    expect(ref.$object.digest).toMatch(/^SHA-256=/);
    expect(await getObject(bus, ref)).toEqual(value);
    expect(await getObject(bus, { $object: { ...ref.$object, pointer: '/rows/11999/entity' } })).toBe('E11999');
    await expect(getObject(bus, { $object: { ...ref.$object, pointer: '/nope' } })).rejects.toThrow(/has nothing at \/nope/);
  });

  it('deletes a stored object for good, chunks and metadata, and finds every reference in a value', async () => {
    const stream = objectStreamName(ObjectBuckets.outputs);
    const before = (await bus.jsm.streams.info(stream)).state.messages;
    const ref = await putObject(bus, ObjectBuckets.outputs, 'job_del/steps/data/1/output', { rows: bigRows });
    expect((await bus.jsm.streams.info(stream)).state.messages).toBeGreaterThan(before + 1);
    expect(objectRefsIn({ a: [ref, { b: ref }], c: 'x' })).toEqual([ref]);
    await expect(deleteObject(bus, ObjectBuckets.outputs, ref.$object.name)).resolves.toBe(true);
    expect((await bus.jsm.streams.info(stream)).state.messages).toBe(before);
    await expect(getObject(bus, ref)).rejects.toThrow(/is gone/);
    await expect(deleteObject(bus, ObjectBuckets.outputs, ref.$object.name)).resolves.toBe(false);
  });

  it('writes nothing when the same value is stored under the same name again (a redelivery)', async () => {
    const name = 'job_2/steps/data/1/output';
    await putObject(bus, ObjectBuckets.outputs, name, { rows: bigRows });
    const before = (await bus.jsm.streams.info(objectStreamName(ObjectBuckets.outputs))).state.last_seq;
    const again = await putObject(bus, ObjectBuckets.outputs, name, { rows: bigRows });
    expect((await bus.jsm.streams.info(objectStreamName(ObjectBuckets.outputs))).state.last_seq).toBe(before);
    expect(await getObject(bus, again)).toEqual({ rows: bigRows });
  });

  it('replaces a value under the same name, and an old reference then says it was replaced', async () => {
    const name = 'job_3/steps/data/input';
    const old = await putObject(bus, ObjectBuckets.outputs, name, { v: 1 });
    const fresh = await putObject(bus, ObjectBuckets.outputs, name, { v: 2 });
    expect(await getObject(bus, fresh)).toEqual({ v: 2 });
    await expect(getObject(bus, old)).rejects.toThrow(ObjectRefError);
    await expect(getObject(bus, old)).rejects.toThrow(/was replaced/);
  });

  it('says plainly when a referenced object is gone', async () => {
    const missing: ObjectRef = { $object: { bucket: ObjectBuckets.outputs, name: 'never/stored', bytes: 2, digest: 'SHA-256=x' } };
    await expect(getObject(bus, missing)).rejects.toThrow(/stored object orch_outputs\/never\/stored is gone/);
  });

  it('keeps small values inline and stores large ones by reference; resolving gives the value back', async () => {
    expect(await storeIfLarge(bus, 'job_4/small', { rows: [1, 2, 3] })).toEqual({ rows: [1, 2, 3] });
    const stored = await storeIfLarge(bus, 'job_4/steps/data/1/output', { rows: bigRows });
    expect(isObjectRef(stored)).toBe(true);
    const input = { question: 'q', rows: { $object: { ...(stored as ObjectRef).$object, pointer: '/rows' } }, again: stored };
    expect(containsObjectRef(input)).toBe(true);
    const resolved = (await resolveObjectRefs(bus, input)) as { question: string; rows: unknown[]; again: { rows: unknown[] } };
    expect(resolved.question).toBe('q');
    expect(resolved.rows).toHaveLength(bigRows.length);
    expect(resolved.again.rows).toEqual(bigRows);
    expect(containsObjectRef(resolved)).toBe(false);
  });
});
