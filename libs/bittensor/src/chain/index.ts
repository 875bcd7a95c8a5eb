export { ChainReader, SUBTENSOR_SIGNED_EXTENSIONS, reserveRatioPool, type SwapQuote, type ChainBlock, type ChainReaderOptions, type ReadAtOptions } from './chain-reader';
export * from './errors';
export { axonIpToString } from './ip';
export * from './access';
export * from './access-settings';
export * from './chain-settings';
export * from './ranking';
