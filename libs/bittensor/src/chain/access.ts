import type { Metagraph, SubnetAccess } from '@orchestra/contracts';
import type { ReadAtOptions, SwapQuote } from './chain-reader';

/**
 * What a subnet's miners demand of a caller before they answer its axon queries, as their
 * blacklist computes it. Stake is the metagraph's total stake `S` as the chain reports it
 * (get_metagraph total_stake: alpha + TaoWeight x root), which both subnets below compare.
 */
export interface AxonAccessRule {
  /** The caller must hold a validator permit on the subnet. */
  readonly permit: boolean;
  /** Least total stake S, in the subnet's stake units. */
  readonly minStake: number;
  /** Least alpha stake besides (SN22 asks both). */
  readonly minAlphaStake?: number;
  /** Where the rule was read, for the reason a refusal gives. */
  readonly source: string;
}

/**
 * The blacklists of the subnets Orchestra queries directly, read from their miners' code:
 * - SN13 data-universe @ 4b0620dd70da17cc9147d47cca28b14fdc7ab56a, `common/utils.py`
 *   `is_validator`: `validator_permit[uid] and metagraph.S[uid] >= vpermit_rao_limit` (default
 *   10,000, `neurons/config.py`), for every synapse (`neurons/miner.py` `default_blacklist`).
 * - SN22 desearch @ bea9712f58a5fc01c57ec441ce279499529d8bf6, `neurons/miners/miner.py`
 *   `base_blacklist`: registered, `alpha_stake >= MIN_ALPHA_STAKE` (20) and `total_stake >=
 *   MIN_TOTAL_STAKE` (20,000, `desearch/__init__.py`); no permit asked.
 */
export const SUBNET_AXON_RULES: Readonly<Record<number, AxonAccessRule>> = {
  13: { permit: true, minStake: 10_000, source: 'data-universe is_validator' },
  22: { permit: false, minStake: 20_000, minAlphaStake: 20, source: 'desearch base_blacklist' },
};

/** Subnets whose blacklist is not known here: the subnet template's, registered validators with a permit. */
export const DEFAULT_AXON_RULE: AxonAccessRule = { permit: true, minStake: 0, source: 'the subnet template blacklist' };

/** The rule of `netuid`, with the operator's stake threshold (ORCH_AXON_REQUIRED_STAKE) replacing the code's. */
export function axonAccessRule(netuid: number, requiredStake: Readonly<Record<number, number>> = {}): AxonAccessRule {
  const rule = SUBNET_AXON_RULES[netuid] ?? DEFAULT_AXON_RULE;
  const configured = requiredStake[netuid];
  return configured === undefined ? rule : { ...rule, minStake: configured, source: `${rule.source}, threshold configured` };
}

/**
 * `13=10000,22=20000`: the stake each listed subnet's miners demand, replacing the defaults of
 * {@link SUBNET_AXON_RULES}. Throws a plain Error naming the bad entry (the config section turns
 * it into a configuration problem).
 */
export function parseRequiredStakes(raw: string): Record<number, number> {
  const stakes: Record<number, number> = {};
  for (const entry of raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const m = /^(\d{1,5})\s*=\s*(\d+(?:\.\d+)?)$/.exec(entry);
    if (!m || Number(m[1]) > 65_535) throw new Error(`entry ${JSON.stringify(entry)} must read netuid=stake, e.g. 13=10000,22=20000`);
    stakes[Number(m[1])] = Number(m[2]);
  }
  return stakes;
}

const RAO_PER_UNIT = 1e9;
const fromRao = (rao: string | bigint) => Number(BigInt(rao)) / RAO_PER_UNIT;
const amount = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 2 });

/**
 * Whether `hotkey` passes the subnet's blacklist in this metagraph: registered, the permit if
 * the rule asks it, the stakes. Pure; money (what our alpha is worth, what reaching the
 * threshold would cost) is added by {@link subnetAccess}. `reason` says every unmet condition and
 * what would meet it, or `ok`.
 */
export function axonAccess(metagraph: Pick<Metagraph, 'netuid' | 'neurons'>, hotkey: string, rule: AxonAccessRule): SubnetAccess {
  const { netuid } = metagraph;
  const neuron = metagraph.neurons.find((n) => n.hotkey === hotkey);
  const requiredStake = rule.minStake;
  if (!neuron) {
    return {
      hotkey,
      uid: null,
      validatorPermit: false,
      stakeAlpha: 0,
      stakeTao: 0,
      requiredStake,
      eligible: false,
      reason: `hotkey ${hotkey} is not registered on SN${netuid}; its miners (${rule.source}) answer registered callers only: register it${requiredStake > 0 ? `, stake at least ${amount(requiredStake)}` : ''}${rule.permit ? ' and hold a validator permit' : ''}`,
    };
  }
  const stakeAlpha = fromRao(neuron.alphaStakeRao);
  const total = fromRao(neuron.totalStakeRao);
  // total_stake - alpha_stake is the root stake's weighted share; a chain answering less total than alpha is read as none.
  const stakeTao = Math.max(0, total - stakeAlpha);
  const unmet: string[] = [];
  if (rule.permit && !neuron.validatorPermit) unmet.push(`UID ${neuron.uid} holds no validator permit (permits go to the subnet's top stakes)`);
  if (total < requiredStake) unmet.push(`stake ${amount(total)} is below the ${amount(requiredStake)} required (${rule.source})`);
  if (rule.minAlphaStake !== undefined && stakeAlpha < rule.minAlphaStake) unmet.push(`alpha stake ${amount(stakeAlpha)} is below the ${amount(rule.minAlphaStake)} required`);
  return {
    hotkey,
    uid: neuron.uid,
    validatorPermit: neuron.validatorPermit,
    stakeAlpha,
    stakeTao,
    requiredStake,
    eligible: unmet.length === 0,
    reason: unmet.length === 0 ? 'ok' : `SN${netuid} axons would refuse us: ${unmet.join('; ')}`,
  };
}

/** Alpha (rao) still missing for `access` to meet `rule`'s stakes; 0 when none is. */
export function missingAlphaRao(access: SubnetAccess, rule: AxonAccessRule): bigint {
  const total = access.stakeAlpha + access.stakeTao;
  // Bought alpha counts 1:1 towards both the alpha and the total stake.
  const missing = Math.max(rule.minStake - total, (rule.minAlphaStake ?? 0) - access.stakeAlpha, 0);
  return BigInt(Math.ceil(missing * RAO_PER_UNIT));
}

/** Asks the chain what `taoRao` of TAO buys in alpha (ChainReader.quoteTaoForAlpha bound to a subnet and block). */
export type AlphaQuote = (taoRao: bigint) => Promise<Pick<SwapQuote, 'alphaRao'>>;

/** Quotes asked at most when searching the TAO that buys an amount of alpha. */
const MAX_QUOTES = 64;

/**
 * The least TAO (rao, to within 0.1% or 0.001 TAO) that buys `alphaRao` of alpha, fees and
 * slippage included, asking the chain's own swap simulation: the curve is the runtime's and
 * has changed between specs, so it is searched, never inverted by us. Starts from the spot
 * price, doubles until enough, then bisects. Undefined when the pool cannot deliver that much
 * within the quotes allowed (a shallow pool, or a quote that does not grow with its input).
 */
export async function taoForAlpha(quote: AlphaQuote, alphaRao: bigint, price: number): Promise<bigint | undefined> {
  if (alphaRao <= 0n) return 0n;
  const buys = async (tao: bigint) => BigInt((await quote(tao)).alphaRao) >= alphaRao;
  let asked = 0;
  let low = 0n;
  let high = BigInt(Math.ceil(Number(alphaRao) * Math.max(price, 1e-9))) + 1n;
  while (!(await buys(high))) {
    if (++asked >= MAX_QUOTES) return undefined;
    low = high;
    high *= 2n;
  }
  while (high - low > 1_000_000n && (high - low) * 1000n > high && asked < MAX_QUOTES) {
    const mid = (low + high) / 2n;
    if (await buys(mid)) high = mid;
    else low = mid;
    asked += 1;
  }
  return high;
}

/**
 * {@link axonAccess} with the money: our alpha's worth at the pool's price and, when stake is
 * missing and a `quote` is given, the TAO that would buy it. A failed quote (a runtime without
 * SwapRuntimeApi) only leaves `taoToReach` out.
 */
export async function subnetAccess(metagraph: Pick<Metagraph, 'netuid' | 'neurons' | 'pool'>, hotkey: string, rule: AxonAccessRule, quote?: AlphaQuote): Promise<SubnetAccess> {
  const access = axonAccess(metagraph, hotkey, rule);
  const withValue: SubnetAccess = { ...access, alphaValueTao: access.stakeAlpha * metagraph.pool.price };
  const missing = missingAlphaRao(access, rule);
  if (missing === 0n || !quote) return withValue;
  const tao = await taoForAlpha(quote, missing, metagraph.pool.price).catch(() => undefined);
  return tao === undefined ? withValue : { ...withValue, taoToReach: fromRao(tao) };
}

/** The chain's swap quotes for one subnet at one block (every quote of a search reads the same pool). */
export function quoteAt(
  reader: { quoteTaoForAlpha(netuid: number, taoRao: bigint, options?: ReadAtOptions): Promise<SwapQuote> },
  netuid: number,
  options: ReadAtOptions = {},
): AlphaQuote {
  return (taoRao) => reader.quoteTaoForAlpha(netuid, taoRao, options);
}
