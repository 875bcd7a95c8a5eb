/**
 * The Bittensor wire protocol: hotkeys, the synapse model and body hash, the dendrite client and
 * axon server, Epistula (SN1), the SSRF address policy, the subnet adapters the dispatcher uses,
 * and the chain reader (metagraph and dTAO pools from a subtensor node).
 */
export * from './keys';
export * from './synapse';
export * from './net';
export * from './dendrite';
export * from './axon';
export * from './epistula';
export * from './adapters';
export * from './chain';
