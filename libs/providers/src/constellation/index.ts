export * from './constellation';
export * from './sn13-proto';
export * from './struct';
