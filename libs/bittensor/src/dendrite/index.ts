export * from './dendrite';
