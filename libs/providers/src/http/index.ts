export * from './gateway-http';
export * from './retry-after';
export * from './sse';
