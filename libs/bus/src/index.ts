/**
 * Orchestra's JetStream layer: a connected Bus (publish envelopes with deterministic
 * message ids, KV buckets, topology), the Nest transport over durable pull consumers,
 * compare-and-set on KV entries, and the errors handlers use to steer redelivery.
 */
export * from './access';
export * from './errors';
export * from './bus';
export * from './bus.module';
export * from './inbound';
export * from './kv';
export * from './transport';
export * from './worker';
export * from './dead-letters';
export * from './reputation-ledger';
export * from './objects';
export * from './config';
