/**
 * The devnet's provider twins: a fake Chutes (SN64), a fake Desearch (SN22) and a fake
 * Constellation (SN13 gRPC), each on a loopback port, speaking the real paths, headers, auth and
 * payloads, with a source per behaviour (good, garbage, wrong-schema, slow, down, intermittent,
 * rate-limited) and 401 for unknown keys.
 */
export * from './behaviours';
export * from './corpus';
export * from './fake-chutes';
export * from './fake-constellation';
export * from './fake-desearch';
export * from './http-fake';
export * from './plan-engine';
export * from './text-engine';
export * from './structured-answers';
export * from './example-filings';
export * from './twins';
