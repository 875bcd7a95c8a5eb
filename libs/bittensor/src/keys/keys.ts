import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { decodePair } from '@polkadot/keyring/pair/decode';
import type { KeyringPair } from '@polkadot/keyring/types';
import { cryptoWaitReady, decodeAddress, mnemonicValidate, signatureVerify } from '@polkadot/util-crypto';
import { u8aEq, u8aToHex } from '@polkadot/util';
import { isReady as wasmReady, sr25519Sign as wasmSign, sr25519Verify as wasmVerify } from '@polkadot/wasm-crypto';
import { OrchestraError } from '@orchestra/contracts';

export type { KeyringPair } from '@polkadot/keyring/types';

/** Bittensor addresses use the generic Substrate SS58 prefix. */
export const SS58_FORMAT = 42;

/**
 * Where a hotkey comes from:
 * - a string: a BIP39 mnemonic, a dev URI such as `//Alice`, or a `0x`-prefixed 32-byte hex seed;
 * - `{ file }`: a Bittensor wallet hotkey JSON file;
 * - `{ wallet, hotkey, walletsDir? }`: the file at `<walletsDir>/<wallet>/hotkeys/<hotkey>`
 *   (walletsDir defaults to `~/.bittensor/wallets`, as in btwallet).
 */
export type HotkeySource = string | { file: string } | { wallet: string; hotkey: string; walletsDir?: string };

/** The hotkey could not be loaded; a configuration error, never retryable. */
export class HotkeyLoadError extends OrchestraError {
  override readonly name = 'HotkeyLoadError';
  readonly retryable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Fields of btwallet's unencrypted keyfile JSON (src/keyfile.rs `serialized_keypair_to_keyfile_data`). */
interface WalletKeyfile {
  secretPhrase?: string | null;
  secretSeed?: string | null;
  ss58Address?: string | null;
}

/** Loads an sr25519 hotkey (SS58 format 42). Waits for the WASM crypto to be ready. */
export async function loadHotkey(source: HotkeySource): Promise<KeyringPair> {
  await cryptoWaitReady();
  if (typeof source === 'string') return pairFromSecret(source, 'hotkey secret');
  const file = 'file' in source ? source.file : join(source.walletsDir ?? join(homedir(), '.bittensor', 'wallets'), source.wallet, 'hotkeys', source.hotkey);
  return pairFromKeyfile(file);
}

async function pairFromKeyfile(file: string): Promise<KeyringPair> {
  let data: WalletKeyfile;
  try {
    data = JSON.parse(await readFile(file, 'utf8')) as WalletKeyfile;
  } catch (cause) {
    // Encrypted keyfiles (NaCl/ansible-vault) are not JSON; hotkeys are normally stored in clear.
    throw new HotkeyLoadError(`cannot read hotkey file ${file} as an unencrypted Bittensor keyfile`, { cause });
  }
  // The seed is authoritative (a phrase plus derivation path yields the seed); fall back to the phrase.
  const secret = data.secretSeed ?? data.secretPhrase;
  if (!secret) throw new HotkeyLoadError(`hotkey file ${file} has neither secretSeed nor secretPhrase`);
  const pair = pairFromSecret(secret, `hotkey file ${file}`);
  if (data.ss58Address && data.ss58Address !== pair.address) {
    throw new HotkeyLoadError(`hotkey file ${file}: derived address ${pair.address} does not match ss58Address ${data.ss58Address}`);
  }
  return pair;
}

function pairFromSecret(secret: string, what: string): KeyringPair {
  const keyring = new Keyring({ type: 'sr25519', ss58Format: SS58_FORMAT });
  const trimmed = secret.trim();
  const isHexSeed = /^0x[0-9a-fA-F]{64}$/.test(trimmed);
  const isUri = trimmed.includes('//'); // '//Alice', or 'phrase//hard/soft'
  if (!isHexSeed && !isUri && !mnemonicValidate(trimmed)) {
    throw new HotkeyLoadError(`${what} is neither a 0x hex seed, a dev URI (//Alice) nor a valid BIP39 mnemonic`);
  }
  try {
    return keyring.addFromUri(trimmed);
  } catch (cause) {
    throw new HotkeyLoadError(`${what} could not be turned into an sr25519 keypair`, { cause });
  }
}

/**
 * Why signing and verifying go through @polkadot/wasm-crypto when it is ready: the keyring's
 * sr25519 is pure JavaScript (@scure/sr25519), ~4 ms a signature and ~10 ms a verification,
 * against ~1 ms each in WebAssembly — and every hire signs once (synapse) or four times
 * (Epistula), every axon verifies once. It was the dispatcher's largest CPU cost under load
 * (npm run bench, orchestra case, BENCH_CPU_PROF=1). Both are schnorrkel over the "substrate"
 * context, so their signatures verify with each other.
 */
const wasmKeys = new WeakMap<KeyringPair, { publicKey: Uint8Array; secretKey: Uint8Array } | null>();

/** The pair's sr25519 key bytes for WebAssembly signing, or null when only the keyring can sign with it. */
function wasmKeyOf(pair: KeyringPair): { publicKey: Uint8Array; secretKey: Uint8Array } | null {
  let keys = wasmKeys.get(pair);
  if (keys === undefined) {
    try {
      // A pair made from a secret here is unlocked; its PKCS8 form holds both keys.
      const { publicKey, secretKey } = decodePair(undefined, pair.encodePkcs8(), 'none');
      keys = pair.type === 'sr25519' && secretKey.length === 64 && u8aEq(publicKey, pair.publicKey) ? { publicKey, secretKey } : null;
    } catch {
      keys = null;
    }
    wasmKeys.set(pair, keys);
  }
  return keys;
}

/** Signs a UTF-8 message and returns `0x` + lowercase hex of the 64-byte sr25519 signature, as btwallet does. */
export function signHex(pair: KeyringPair, message: string): string {
  const bytes = Buffer.from(message, 'utf8');
  const keys = wasmReady() ? wasmKeyOf(pair) : null;
  return u8aToHex(keys ? wasmSign(keys.publicKey, keys.secretKey, bytes) : pair.sign(bytes));
}

/**
 * Verifies a `0x` hex sr25519 signature of a UTF-8 message by an SS58 address. Like btwallet's
 * `Keypair.verify`, a signature without the `0x` prefix is refused, and polkadot's verifier also
 * accepts the `<Bytes>…</Bytes>`-wrapped form. Never throws: a malformed address or signature is `false`.
 */
export function verifyHex(address: string, message: string, signature: string | undefined): boolean {
  if (!signature || !/^0x[0-9a-fA-F]{128}$/.test(signature)) return false;
  try {
    // The common case, a plain sr25519 signature, in WebAssembly; anything else (the wrapped
    // form, a bad signature) gets the keyring's full answer as before.
    if (wasmReady() && wasmVerify(Buffer.from(signature.slice(2), 'hex'), Buffer.from(message, 'utf8'), decodeAddress(address))) return true;
    return signatureVerify(Buffer.from(message, 'utf8'), signature, address).isValid;
  } catch {
    return false;
  }
}
