import { DEFAULT_SUBNET_PROTOCOLS, SubnetProtocol } from '@orchestra/bittensor';
import { AddressClass } from '@orchestra/bittensor';

/** Dispatcher settings, from the environment. */
export interface DispatcherConfig {
  /** Orchestra's validator hotkey: a dev URI (`//Alice`), mnemonic, hex seed, or wallet file path. */
  readonly hotkey: string;
  /** Address classes miners may have anyway (the devnet allows `loopback`). */
  readonly allowAddresses: AddressClass[];
  /** Protocol per netuid. */
  readonly protocols: Readonly<Record<number, SubnetProtocol>>;
  /** Miner call timeout, ms. */
  readonly timeoutMs: number;
  /** What one answered call costs, in the subnet's alpha (converted to TAO at the pool price). */
  readonly hirePriceAlpha: number;
  /** Largest miner answer accepted, bytes (it travels in one NATS message). */
  readonly maxResponseBytes: number;
}

/** Reads ORCH_HOTKEY, ORCH_ALLOW_ADDRESSES, ORCH_SUBNET_PROTOCOLS, ORCH_MINER_TIMEOUT_MS, ORCH_HIRE_PRICE_ALPHA. */
export function dispatcherConfig(env: NodeJS.ProcessEnv = process.env): DispatcherConfig {
  return {
    hotkey: env.ORCH_HOTKEY ?? '//Alice',
    allowAddresses: (env.ORCH_ALLOW_ADDRESSES ?? '').split(',').filter(Boolean) as AddressClass[],
    protocols: { ...DEFAULT_SUBNET_PROTOCOLS, ...(env.ORCH_SUBNET_PROTOCOLS ? JSON.parse(env.ORCH_SUBNET_PROTOCOLS) : {}) },
    timeoutMs: Number(env.ORCH_MINER_TIMEOUT_MS ?? 12_000),
    hirePriceAlpha: Number(env.ORCH_HIRE_PRICE_ALPHA ?? 0.01),
    maxResponseBytes: 512 * 1024,
  };
}
