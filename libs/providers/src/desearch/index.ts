export * from './desearch';
