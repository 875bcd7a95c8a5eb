/** Test harness: real infrastructure for tests (a nats-server per suite), never mocks. */
export * from './nats-server';
