export * from './chutes';
