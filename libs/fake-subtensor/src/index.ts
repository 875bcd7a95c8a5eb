export * from './chain-state';
export * from './fake-subtensor';
export * from './generate';
export * from './arbitrary';
export * from './seeded-random';
export { BITTENSOR_SS58_FORMAT, devAddress, initDevKeys, type DevKeyRole } from './dev-keys';
export { ipToU128 } from './ip';
export { simSwapTaoForAlpha, type SimSwapResult } from './swap';
export { DEFAULT_SUBTENSOR_RUNTIME, subtensorRuntime, type SubtensorRuntime, type SubtensorRuntimeName } from './subtensor-runtime';
