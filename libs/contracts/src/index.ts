/**
 * The contracts between Orchestra's services: subjects, streams, consumers and KV
 * buckets (topology), message envelopes and their payload schemas (messages), the job
 * record (job) and the chain view (metagraph). Every service validates what it reads
 * against these schemas.
 */
export * from './envelope';
export * from './job';
export * from './messages';
export * from './topology';
export * from './metagraph';
export * from './reputation';
export * from './sources';
export * from './limits';
export * from './untrusted';
export * from './permissions';
export * from './json-parts';
export * from './objects';
export * from './errors';
export * from './tenant-accounts';
