/**
 * The devnet's simulated miners: real servers speaking SN1 (Epistula chat completions), SN13
 * (data-universe synapses, and the legacy OnDemandRequest), SN22 (Desearch synapses) and SN62 (CodeGeneration axon), each with a configurable behaviour.
 */
export * from './behaviours';
export * from './blacklists';
export * from './data-miners';
export * from './social-content';
export * from './content';
export * from './dataset';
export * from './miner';
export * from './share-args';
