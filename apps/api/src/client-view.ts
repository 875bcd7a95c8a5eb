import { JobEvent, type JobEventType, type JobState } from '@orchestra/contracts';

/**
 * What a tenant sees of its job: everything that explains the outcome — steps, attempts,
 * verdicts, reasons, errors, cost, subnet and UID — and nothing that exposes the miners
 * beyond what the chain already publishes: not their network addresses (quoted in reasons,
 * errors and progress messages by the dendrite and the dispatcher) and not their owners'
 * coldkeys. The records on NATS keep everything, for operators.
 */

/** IPv4 with an optional port, bracketed IPv6 with an optional port, and bare IPv6 with `::`. */
const ADDRESS =
  /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?::\d{1,5})?(?![\w.])|\[[0-9A-Fa-f:.]+\](?::\d{1,5})?|(?<![\w:])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4})*::(?:[0-9A-Fa-f]{0,4}:?)*[0-9A-Fa-f.]*(?![\w:])/g;

/** The marker that replaces an address. */
export const ADDRESS_REDACTED = '[miner address]';

/** `text` with every network address replaced by a marker. */
export function redactAddresses(text: string): string {
  return text.replace(ADDRESS, ADDRESS_REDACTED);
}

/** A job record as its tenant sees it. */
export function clientJobState(state: JobState): JobState {
  return {
    ...state,
    error: state.error && { ...state.error, message: redactAddresses(state.error.message) },
    steps: state.steps.map((step) => ({
      ...step,
      attempts: step.attempts.map(({ coldkey: _coldkey, ...attempt }) => ({
        ...attempt,
        reason: attempt.reason === undefined ? undefined : redactAddresses(attempt.reason),
        errors: attempt.errors?.map(redactAddresses),
      })),
    })),
  };
}

/**
 * A stored progress event (the envelope's JSON) as its tenant sees it: its type, and the
 * envelope with the message stripped of addresses and no coldkey among the facts.
 * Undefined when it is not a valid progress event.
 */
export function clientEvent(stored: string): { event: JobEventType; data: string } | undefined {
  let parsed;
  try {
    parsed = JobEvent.envelope.safeParse(JSON.parse(stored));
  } catch {
    return undefined;
  }
  if (!parsed.success) return undefined;
  const { payload } = parsed.data;
  const facts = payload.data && Object.fromEntries(Object.entries(payload.data).filter(([key]) => key !== 'coldkey'));
  const data = JSON.stringify({ ...parsed.data, payload: { ...payload, message: redactAddresses(payload.message), ...(facts ? { data: facts } : {}) } });
  return { event: payload.event, data };
}
