import { GATEWAY_NETUIDS } from '@orchestra/contracts';
import { withCallSpan, type SpanAttributes } from '@orchestra/service';
import { ProviderAbortedError, ProviderError } from './errors';
import type { Provider, ProviderAnswer, ProviderCall } from './types';

/** How a failed provider call is counted: aborted by us, the gateway's fault name, or `error` (ours). */
export function providerCallOutcome(error: unknown): string {
  if (error instanceof ProviderAbortedError) return 'aborted';
  if (error instanceof ProviderError) return error.fault;
  return 'error';
}

/**
 * `provider.call(call)` in a CLIENT span `call <provider>` and counted in the call metrics
 * (libs/service `withCallSpan`), as miner calls are: `orchestra.source` names the model,
 * endpoint or platform, `orchestra.cost_usd` what it cost, and `attributes` add what the
 * caller knows (job and step ids, attempt, hedge). Failures keep propagating unchanged.
 */
export function callTraced(provider: Provider, call: ProviderCall, attributes: SpanAttributes = {}): Promise<ProviderAnswer> {
  const target = { provider: provider.id, netuid: GATEWAY_NETUIDS[provider.id], capability: call.capability };
  return withCallSpan(
    `call ${provider.id}`,
    target,
    { ...attributes, 'orchestra.source': call.source },
    async () => {
      const answer = await provider.call(call);
      return { outcome: 'ok', value: answer, attributes: { 'orchestra.cost_usd': answer.cost.usd, 'orchestra.cost_basis': answer.cost.basis } };
    },
    providerCallOutcome,
  );
}
