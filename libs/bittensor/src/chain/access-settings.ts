import { decodeAddress } from '@polkadot/util-crypto';
import { OrchestraError, listingProblems } from '@orchestra/contracts';
import { loadHotkey, type HotkeySource } from '../keys';
import { SUBNET_AXON_RULES, parseRequiredStakes } from './access';

type Env = Readonly<Record<string, string | undefined>>;

/** Whose axon access to compute, and against which thresholds. */
export interface AxonAccessSettings {
  /**
   * Orchestra's hotkey, configured as the dispatcher's: `ORCH_HOTKEY_ADDRESS` (its ss58 address
   * alone: reading access needs no secret), else `ORCH_HOTKEY_FILE`, else `ORCH_HOTKEY` (default //Alice).
   */
  readonly hotkey: { readonly address: string } | HotkeySource;
  /** `ORCH_AXON_REQUIRED_STAKE`: per netuid, the stake threshold replacing the subnet code's. */
  readonly requiredStake: Readonly<Record<number, number>>;
}

/** A bad access setting: a configuration error, never retryable. */
export class AxonAccessConfigError extends OrchestraError {
  override readonly name = 'AxonAccessConfigError';
  readonly retryable = false;
}

/**
 * The access section of a config (metagraph-sync's, `npm run network:check`'s):
 * ORCH_HOTKEY_ADDRESS / ORCH_HOTKEY_FILE / ORCH_HOTKEY and ORCH_AXON_REQUIRED_STAKE. Throws
 * AxonAccessConfigError listing every bad variable (never a secret's value).
 */
export function axonAccessSettings(env: Env): AxonAccessSettings {
  const problems: string[] = [];
  const set = (name: string) => (env[name]?.trim() ? env[name]?.trim() : undefined);
  let requiredStake: Record<number, number> = {};
  const rawStakes = set('ORCH_AXON_REQUIRED_STAKE');
  if (rawStakes) {
    try {
      requiredStake = parseRequiredStakes(rawStakes);
    } catch (error) {
      problems.push(`ORCH_AXON_REQUIRED_STAKE: ${(error as Error).message}`);
    }
  }
  const address = set('ORCH_HOTKEY_ADDRESS');
  if (address !== undefined) {
    try {
      decodeAddress(address);
    } catch {
      problems.push(`ORCH_HOTKEY_ADDRESS must be an ss58 address (e.g. 5GrwvaEF…); got ${JSON.stringify(address)}`);
    }
  }
  const file = set('ORCH_HOTKEY_FILE');
  // //Alice, the default, is the devnet's key: on finney it would report the access of a stranger.
  if (set('ORCH_NETWORK') === 'finney' && address === undefined && file === undefined && set('ORCH_HOTKEY') === undefined) {
    problems.push('ORCH_NETWORK=finney needs our hotkey: ORCH_HOTKEY_ADDRESS (its ss58 address), ORCH_HOTKEY_FILE or ORCH_HOTKEY');
  }
  if (problems.length > 0) throw listingProblems(new AxonAccessConfigError(`invalid access settings: ${problems.join('; ')}`), problems);
  const hotkey = address !== undefined ? { address } : file ? { file } : (set('ORCH_HOTKEY') ?? '//Alice');
  return { hotkey, requiredStake };
}

/** The ss58 address of the configured hotkey (loading the key only when no address is given). */
export async function hotkeyAddress(hotkey: AxonAccessSettings['hotkey']): Promise<string> {
  if (typeof hotkey === 'object' && 'address' in hotkey) return hotkey.address;
  return (await loadHotkey(hotkey)).address;
}

/** Subnets whose access is worth pricing and reporting: the ones with a known blacklist, and the configured ones. */
export function axonSubnets(settings: Pick<AxonAccessSettings, 'requiredStake'>): number[] {
  return [...new Set([...Object.keys(SUBNET_AXON_RULES), ...Object.keys(settings.requiredStake)].map(Number))].sort((a, b) => a - b);
}
