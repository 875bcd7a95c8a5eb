/**
 * The devnet's simulated miners: real servers speaking SN1 (Epistula chat completions), SN13
 * (OnDemandRequest axon) and SN62 (CodeGeneration axon), each with a configurable behaviour.
 */
export * from './behaviours';
export * from './content';
export * from './dataset';
export * from './miner';
export * from './share-args';
