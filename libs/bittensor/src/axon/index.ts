export * from './axon-server';
export * from './priority-gate';
