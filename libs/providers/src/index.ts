/**
 * Gateway providers: where Orchestra buys work besides miner axons. A Provider lists its sources
 * (models, endpoints, platforms) with their prices and calls one of them with a capability's
 * input, returning the raw answer with its usage and cost, or a ProviderError that says whose
 * fault it was and whether to retry. Clients: Chutes (SN64), Desearch (SN22), Constellation (SN13).
 */
export * from './answer';
export * from './chutes';
export * from './config';
export * from './constellation';
export * from './desearch';
export * from './errors';
export * from './http';
export * from './retry';
export * from './traced';
export * from './types';
