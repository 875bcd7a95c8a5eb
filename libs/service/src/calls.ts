import { SpanKind, type Span } from '@opentelemetry/api';
import { counter, histogram } from './metrics';
import { withSpan, type SpanAttributes } from './tracing';

/** Who was called: a miner axon (`axon`) or a gateway (`chutes`, `desearch`, `constellation`), on which subnet, for what. */
export interface CallTarget {
  provider: string;
  netuid: number;
  capability: string;
}

const calls = counter<'provider' | 'netuid' | 'capability' | 'outcome'>({
  name: 'provider_calls_total',
  help: 'Calls to miners and providers, by provider (axon, chutes, desearch, constellation), subnet, capability and outcome (ok; aborted by us; error of ours; a status code or fault of theirs)',
  labelNames: ['provider', 'netuid', 'capability', 'outcome'],
});
const callSeconds = histogram<'provider' | 'netuid' | 'outcome'>({
  name: 'provider_call_seconds',
  help: 'Time from request to answer (or failure) of a call to a miner or provider',
  labelNames: ['provider', 'netuid', 'outcome'],
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20],
});

/** How a call ended, as {@link withCallSpan}'s function reports it. */
export interface CallEnd<T> {
  /** `ok`, `aborted` (by us), or the failure as a status code or fault name. */
  outcome: string;
  /** What the caller gets back (a failed reply is still a value). */
  value: T;
  /** Attributes learnt from the answer (cost…). */
  attributes?: SpanAttributes;
}

/**
 * Runs one call to a miner or provider in its CLIENT span `<name>` (attributes
 * `orchestra.provider`, `.netuid`, `.capability`, `.outcome`, plus `attributes`: uid or
 * source, attempt, hedge…) and counts it once in `orchestra_provider_calls_total` and
 * `orchestra_provider_call_seconds`, whatever the outcome. `fn` reports how the call ended;
 * if it throws, the call counts as `thrownOutcome(error)` (default `error`) and the error
 * propagates (an `aborted` one without marking the span as failed). An outcome other than `ok`/`aborted` also sets `error.type`.
 */
export async function withCallSpan<T>(
  name: string,
  target: CallTarget,
  attributes: SpanAttributes,
  fn: (span: Span) => Promise<CallEnd<T>>,
  thrownOutcome: (error: unknown) => string = () => 'error',
): Promise<T> {
  const started = performance.now();
  const spanAttributes: SpanAttributes = {
    ...attributes,
    'orchestra.provider': target.provider,
    'orchestra.netuid': target.netuid,
    'orchestra.capability': target.capability,
  };
  const labels = { provider: target.provider, netuid: String(target.netuid), capability: target.capability };
  const end = (span: Span, outcome: string) => {
    calls.inc({ ...labels, outcome });
    callSeconds.observe({ provider: labels.provider, netuid: labels.netuid, outcome }, (performance.now() - started) / 1_000);
    span.setAttribute('orchestra.outcome', outcome);
    if (outcome !== 'ok' && outcome !== 'aborted') span.setAttribute('error.type', outcome);
  };
  // A call we aborted ends its span without an error status (the abort is ours, not a fault),
  // and its error is rethrown once the span has ended.
  const result = await withSpan(
    name,
    spanAttributes,
    async (span): Promise<{ value: T } | { aborted: unknown }> => {
      let ended: CallEnd<T>;
      try {
        ended = await fn(span);
      } catch (error) {
        const outcome = thrownOutcome(error);
        end(span, outcome);
        if (outcome === 'aborted') return { aborted: error };
        throw error;
      }
      for (const [key, value] of Object.entries(ended.attributes ?? {})) if (value !== undefined) span.setAttribute(key, value);
      end(span, ended.outcome);
      return { value: ended.value };
    },
    { kind: SpanKind.CLIENT },
  );
  if ('aborted' in result) throw result.aborted;
  return result.value;
}
