import type { PoolState } from './storage';

/** The swap pallet's default fee rate, 33 / 65535 of the input (about 0.05%). */
const FEE_NUMERATOR = 33n;
const FEE_DENOMINATOR = 65_535n;

/** SwapRuntimeApi's SimSwapResult, rao. */
export interface SimSwapResult {
  taoAmount: bigint;
  alphaAmount: bigint;
  taoFee: bigint;
  alphaFee: bigint;
  taoSlippage: bigint;
  alphaSlippage: bigint;
}

/**
 * The fake chain's answer to `sim_swap_tao_for_alpha`: the fee taken from the TAO in, the
 * rest swapped on a constant-product curve over the subnet's reserves. Finney's pool is a
 * concentrated-liquidity one whose curve has changed between runtimes; this is the fake's
 * own model, there so a reader can be tested against *some* chain-side quote, and is never a
 * formula for clients to copy (they must ask the chain).
 */
export function simSwapTaoForAlpha(pool: PoolState, taoRao: bigint): SimSwapResult {
  const { taoReserveRao: taoIn, alphaReserveRao: alphaIn } = pool;
  const taoFee = (taoRao * FEE_NUMERATOR) / FEE_DENOMINATOR;
  const swapped = taoRao - taoFee;
  const alphaAmount = taoIn + swapped === 0n ? 0n : alphaIn - (taoIn * alphaIn) / (taoIn + swapped);
  // Slippage: what the spot price would have given minus what the curve gives.
  const atSpot = taoIn === 0n ? 0n : (swapped * alphaIn) / taoIn;
  return { taoAmount: taoRao, alphaAmount, taoFee, alphaFee: 0n, taoSlippage: 0n, alphaSlippage: atSpot > alphaAmount ? atSpot - alphaAmount : 0n };
}
