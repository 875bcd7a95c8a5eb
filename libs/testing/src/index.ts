/**
 * Test harness: real infrastructure for tests and local runs, never mocks — a
 * nats-server per suite, and the whole devnet stack as supervised processes.
 */
export * from './nats-server';
export * from './nats-cluster';
export * from './supervisor';
export * from './devnet-stack';
export * from './raw-http';
export * from './k8s-env';
