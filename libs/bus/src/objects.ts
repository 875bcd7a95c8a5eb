import { ObjectBucketTtlMs, ObjectBuckets, ObjectRef, isObjectRef, parseUntrustedJson, readJsonPointer } from '@orchestra/contracts';
import type { MsgRequest } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { createHash, randomBytes } from 'node:crypto';
import type { Bus } from './bus';
import { ObjectRefError, PayloadTooLargeError } from './errors';

/**
 * Large JSON values by reference, in JetStream Object Store buckets (`ObjectBuckets`).
 *
 * The layout is the Object Store's own (stream `OBJ_<bucket>`, chunks on
 * `$O.<bucket>.C.<nuid>`, the latest metadata per name on `$O.<bucket>.M.<base64url(name)>`
 * kept by a subject rollup), so `nats object ls|get` reads what Orchestra wrote. It is
 * written here on the JetStream client because the `@nats-io/obj` package is not among
 * the project's dependencies; it needs only put, get and the bucket.
 */

/** Chunk size, bytes: well under any server's max_payload. */
const CHUNK_BYTES = 128 * 1024;

/** The Object Store's metadata record (the fields Orchestra writes and reads). */
interface ObjectMeta {
  name: string;
  bucket: string;
  nuid: string;
  size: number;
  chunks: number;
  digest: string;
  mtime: string;
  deleted?: boolean;
}

export function objectStreamName(bucket: string): string {
  return `OBJ_${bucket}`;
}

/** Stream settings of an Object Store bucket (for ensureTopology). */
export function objectStreamConfig(bucket: (typeof ObjectBuckets)[keyof typeof ObjectBuckets]) {
  return {
    name: objectStreamName(bucket),
    subjects: [`$O.${bucket}.C.>`, `$O.${bucket}.M.>`],
    description: `Object store ${bucket}: values too large to keep inline`,
    max_age: ObjectBucketTtlMs[bucket] * 1_000_000,
    allow_rollup_hdrs: true,
    allow_direct: true,
  };
}

function metaSubject(bucket: string, name: string): string {
  // The Object Store encodes names as padded base64url, so any name makes a valid subject token.
  const encoded = Buffer.from(name, 'utf8').toString('base64url');
  return `$O.${bucket}.M.${encoded}${'='.repeat((4 - (encoded.length % 4)) % 4)}`;
}

function sha256Digest(data: Uint8Array): string {
  return `SHA-256=${createHash('sha256').update(data).digest('base64url')}`;
}

async function readMeta(bus: Bus, bucket: string, name: string): Promise<ObjectMeta | undefined> {
  const stored = await bus.jsm.streams.getMessage(objectStreamName(bucket), { last_by_subj: metaSubject(bucket, name) }).catch(notFoundAsNull);
  if (!stored) return undefined;
  const meta = stored.json<ObjectMeta>();
  return meta.deleted ? undefined : meta;
}

/**
 * Stores `value` as JSON under `name` and returns its reference. Content-addressed in
 * effect: storing the same value under the same name again (a redelivered message) finds
 * it and writes nothing.
 */
export async function putObject(bus: Bus, bucket: string, name: string, value: unknown): Promise<ObjectRef> {
  const data = new TextEncoder().encode(JSON.stringify(value));
  const digest = sha256Digest(data);
  const ref: ObjectRef = { $object: { bucket, name, bytes: data.length, digest } };
  const existing = await readMeta(bus, bucket, name);
  if (existing?.digest === digest && existing.size === data.length) return ref;
  if (data.length > bus.limits.maxObjectBytes) throw new PayloadTooLargeError(`object ${bucket}/${name}`, data.length, bus.limits.maxObjectBytes);

  const stream = objectStreamName(bucket);
  const nuid = randomBytes(16).toString('hex');
  const chunkSize = Math.min(CHUNK_BYTES, bus.limits.maxPayloadBytes - 4_096);
  let chunks = 0;
  for (let offset = 0; offset < data.length || chunks === 0; offset += chunkSize) {
    await bus.js.publish(`$O.${bucket}.C.${nuid}`, data.subarray(offset, offset + chunkSize));
    chunks++;
    if (data.length === 0) break;
  }
  const meta: ObjectMeta = { name, bucket, nuid, size: data.length, chunks, digest, mtime: new Date().toISOString() };
  const headers = natsHeaders();
  // The rollup keeps one metadata message per name: the latest.
  headers.set('Nats-Rollup', 'sub');
  await bus.js.publish(metaSubject(bucket, name), JSON.stringify(meta), { headers });
  if (existing) await bus.jsm.streams.purge(stream, { filter: `$O.${bucket}.C.${existing.nuid}` });
  return ref;
}

/** The bytes of a stored object, checked against its size and digest. */
async function readObjectBytes(bus: Bus, ref: ObjectRef): Promise<Uint8Array> {
  const { bucket, name, digest } = ref.$object;
  const meta = await readMeta(bus, bucket, name);
  if (!meta) {
    throw new ObjectRefError(`stored object ${bucket}/${name} is gone (aged out after ${ObjectBucketTtlMs[bucket as keyof typeof ObjectBucketTtlMs] ?? 0} ms, or deleted)`, false);
  }
  if (meta.digest !== digest) throw new ObjectRefError(`stored object ${bucket}/${name} was replaced (digest ${meta.digest}, reference expects ${digest})`, false);
  const stream = objectStreamName(bucket);
  const subject = `$O.${bucket}.C.${meta.nuid}`;
  const data = new Uint8Array(meta.size);
  let length = 0;
  let seq = 1;
  for (let i = 0; i < meta.chunks; i++) {
    // The stream leader's message API (not a direct get, which a lagging follower may answer)
    // takes next_by_subj too; the client's type does not list it.
    const chunk = await bus.jsm.streams.getMessage(stream, { seq, next_by_subj: subject } as unknown as MsgRequest).catch(notFoundAsNull);
    if (!chunk) throw new ObjectRefError(`stored object ${bucket}/${name} is missing chunk ${i + 1} of ${meta.chunks}`, false);
    if (length + chunk.data.length > meta.size) throw new ObjectRefError(`stored object ${bucket}/${name} is larger than its recorded ${meta.size} bytes`, false);
    data.set(chunk.data, length);
    length += chunk.data.length;
    seq = chunk.seq + 1;
  }
  if (length !== meta.size || sha256Digest(data) !== digest) throw new ObjectRefError(`stored object ${bucket}/${name} is damaged (size or digest mismatch)`, false);
  return data;
}

/** The value a reference points at (the stored JSON, or the part its pointer selects). */
export async function getObject(bus: Bus, ref: ObjectRef): Promise<unknown> {
  const text = new TextDecoder().decode(await readObjectBytes(bus, ref));
  const value = parseUntrustedJson(text, { maxDepth: bus.limits.maxJsonDepth });
  const pointer = ref.$object.pointer;
  if (!pointer) return value;
  const found = readJsonPointer(value, pointer);
  if (!found.ok) throw new ObjectRefError(`stored object ${ref.$object.bucket}/${ref.$object.name} has nothing at ${pointer} (missing "${found.missing}")`, false);
  return found.value;
}

/**
 * `value` as is when its JSON fits `inlineOutputBytes`, else stored under `name` in the
 * outputs bucket and replaced by its reference.
 */
export async function storeIfLarge(bus: Bus, name: string, value: unknown): Promise<unknown> {
  if (value === undefined || isObjectRef(value)) return value;
  const bytes = Buffer.byteLength(JSON.stringify(value));
  return bytes > bus.limits.inlineOutputBytes ? putObject(bus, ObjectBuckets.outputs, name, value) : value;
}

/**
 * `value` with every ObjectRef in it replaced by what it refers to (each object fetched
 * once). Only for values the planner built (task inputs, outputs, results): a client's
 * data never holds references the planner did not put there, because refs are made only
 * by `storeIfLarge`.
 */
export async function resolveObjectRefs(bus: Bus, value: unknown): Promise<unknown> {
  const fetched = new Map<string, Promise<unknown>>();
  const walk = async (node: unknown): Promise<unknown> => {
    if (Array.isArray(node)) return Promise.all(node.map(walk));
    if (node === null || typeof node !== 'object') return node;
    if (isObjectRef(node)) {
      const key = JSON.stringify(node.$object);
      let got = fetched.get(key);
      if (!got) fetched.set(key, (got = getObject(bus, node)));
      return got;
    }
    const entries = await Promise.all(Object.entries(node).map(async ([k, v]) => [k, await walk(v)] as const));
    return Object.fromEntries(entries);
  };
  return walk(value);
}

/**
 * Removes a stored object (its chunks and its metadata) for good; nothing happens when no
 * object has that name. For deleting a finished job's data (DELETE /v1/jobs/:id): the
 * object is gone, not marked deleted, as a client asking for deletion expects.
 */
export async function deleteObject(bus: Bus, bucket: string, name: string): Promise<boolean> {
  const stream = objectStreamName(bucket);
  const meta = await readMeta(bus, bucket, name);
  if (meta) await bus.jsm.streams.purge(stream, { filter: `$O.${bucket}.C.${meta.nuid}` });
  // The metadata goes last: while it exists the object can still be found, and deleted again.
  const purged = await bus.jsm.streams.purge(stream, { filter: metaSubject(bucket, name) });
  return meta !== undefined || purged.purged > 0;
}

/** Every distinct ObjectRef in a value. */
export function objectRefsIn(value: unknown): ObjectRef[] {
  const found = new Map<string, ObjectRef>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node !== null && typeof node === 'object') {
      if (isObjectRef(node)) found.set(`${node.$object.bucket}/${node.$object.name}`, node);
      else Object.values(node).forEach(walk);
    }
  };
  walk(value);
  return [...found.values()];
}

/** True when a value holds an ObjectRef anywhere (so resolving it needs the bus). */
export function containsObjectRef(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(containsObjectRef);
  if (value === null || typeof value !== 'object') return false;
  return isObjectRef(value) || Object.values(value).some(containsObjectRef);
}

function notFoundAsNull(error: unknown): null {
  if (error instanceof Error && /not found|no message found|10037/i.test(`${error.message} ${(error as { code?: unknown }).code ?? ''}`)) return null;
  throw error;
}
