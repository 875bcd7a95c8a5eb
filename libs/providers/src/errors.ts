import { OrchestraError, type GatewayId } from '@orchestra/contracts';
/**
 * Errors of gateway providers. Every failure says whose fault it is (`blame`) and whether the
 * same call may succeed later (`retryable`, with `retryAfterMs` when the gateway said when), so
 * the dispatcher can tell "swap the source", "wait and retry" and "stop: fix the configuration"
 * apart without reading messages. The table below is the one place that decides.
 */

/** Which provider a call went to: a gateway, as contracts name them (GatewayId, the one list). */
export type ProviderId = GatewayId;

/**
 * Whose fault a failure is:
 * - `source`: the gateway or the model/endpoint behind it (down, slow, garbage): penalise it, try another;
 * - `config`: the operator's (key refused, no credit): no other source of the provider will do better;
 * - `ours`: Orchestra sent something the gateway refused as malformed: a bug, never retried.
 */
export type Blame = 'source' | 'config' | 'ours';

/** What went wrong, in the provider's terms. */
export type ProviderFault =
  | 'auth' // 401/403 or gRPC UNAUTHENTICATED/PERMISSION_DENIED: the API key was refused
  | 'payment' // 402: the account has no credit left
  | 'rate_limited' // 429 or gRPC RESOURCE_EXHAUSTED
  | 'rejected' // 400/404/422 or gRPC INVALID_ARGUMENT: the gateway refused our request
  | 'unavailable' // 5xx or gRPC UNAVAILABLE/INTERNAL: the gateway or the model failed
  | 'timeout' // no complete answer within the call's budget
  | 'network' // connection refused or reset
  | 'redirect' // 3xx: never followed (the key would travel with it)
  | 'too_large' // the answer exceeded the response budget
  | 'bad_response'; // not the documented shape: garbage, wrong schema, broken stream

const FAULTS: Readonly<Record<ProviderFault, { readonly blame: Blame; readonly retryable: boolean }>> = {
  auth: { blame: 'config', retryable: false },
  payment: { blame: 'config', retryable: false },
  rate_limited: { blame: 'source', retryable: true },
  rejected: { blame: 'ours', retryable: false },
  unavailable: { blame: 'source', retryable: true },
  timeout: { blame: 'source', retryable: true },
  network: { blame: 'source', retryable: true },
  redirect: { blame: 'source', retryable: false },
  too_large: { blame: 'source', retryable: false },
  bad_response: { blame: 'source', retryable: false },
};

/** A failed provider call. The message is ours; any text the gateway sent is in it, truncated. */
export class ProviderError extends OrchestraError {
  override readonly name = 'ProviderError';
  readonly blame: Blame;
  readonly retryable: boolean;
  /** HTTP status (or gRPC status code) the gateway answered with, when it answered. */
  readonly status?: number;
  /** How long to wait before retrying, ms, when the gateway said (Retry-After). */
  readonly retryAfterMs?: number;

  constructor(
    readonly provider: ProviderId,
    readonly fault: ProviderFault,
    message: string,
    options: { status?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    ({ blame: this.blame, retryable: this.retryable } = FAULTS[fault]);
    this.status = options.status;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The caller's AbortSignal fired: nobody's fault, so it is thrown rather than blamed on a source. */
export class ProviderAbortedError extends OrchestraError {
  override readonly name = 'ProviderAbortedError';
  readonly retryable = false;
}

/** The provider does not serve this capability or source: a configuration or planning mistake. */
export class UnsupportedCapabilityError extends OrchestraError {
  override readonly name = 'UnsupportedCapabilityError';
  readonly retryable = false;
  readonly blame: Blame = 'ours';
}

/** The call's input does not satisfy what the provider needs for the capability: a planning bug. */
export class InvalidProviderInputError extends OrchestraError {
  override readonly name = 'InvalidProviderInputError';
  readonly retryable = false;
  readonly blame: Blame = 'ours';
  constructor(
    readonly provider: ProviderId,
    readonly capability: string,
    readonly issues: readonly string[],
  ) {
    super(`input for ${provider} ${capability} is invalid: ${issues.join('; ')}`);
  }
}

/** A provider setting is missing or malformed. */
export class ProviderConfigError extends OrchestraError {
  override readonly name = 'ProviderConfigError';
  readonly retryable = false;
  readonly blame: Blame = 'config';
}
