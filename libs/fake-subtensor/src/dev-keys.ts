import { blake2AsU8a, cryptoWaitReady, encodeAddress, sr25519PairFromSeed } from '@polkadot/util-crypto';

/** Substrate's generic ss58 prefix, which Bittensor uses. */
export const BITTENSOR_SS58_FORMAT = 42;

/** Which family of deterministic dev keys: hotkeys and coldkeys never collide. */
export type DevKeyRole = 'hotkey' | 'coldkey';

const addresses = new Map<string, string>();

/** Loads the sr25519 WASM that {@link devAddress} needs; call once before generating states. */
export async function initDevKeys(): Promise<void> {
  await cryptoWaitReady();
}

/**
 * The ss58 (format 42) address of a real sr25519 key pair derived from (role, index), so
 * generated states are reproducible and every address is a valid on-curve public key.
 * Requires {@link initDevKeys} to have completed.
 */
export function devAddress(role: DevKeyRole, index: number): string {
  const name = `${role}/${index}`;
  let address = addresses.get(name);
  if (address === undefined) {
    const { publicKey } = sr25519PairFromSeed(blake2AsU8a(`orchestra-devnet/${name}`, 256));
    address = encodeAddress(publicKey, BITTENSOR_SS58_FORMAT);
    addresses.set(name, address);
  }
  return address;
}
