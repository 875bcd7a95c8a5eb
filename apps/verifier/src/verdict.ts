import { DEFAULT_LIMITS, REJECTION_KINDS, SizeLimits, TaskResult, sourceKeyOf, truncateText } from '@orchestra/contracts';
import { Standardized, UnknownSchemaError, UnverifiableError, answerDigest, verifyOutput } from '@orchestra/schemas';
import { z } from 'zod';

type Result = z.infer<typeof TaskResult.payload>;

/**
 * Validation errors kept per rejection: enough to fix an answer, few enough that a step's
 * attempts (each keeping its errors in the job record) cannot grow the record past its budget.
 */
export const MAX_REJECTION_ERRORS = 20;

/** The verifier's judgement on one attempt. */
export type Verdict = { accepted: true; output: unknown } | { accepted: false; kind: (typeof REJECTION_KINDS)[number]; reason: string; errors: string[] };

/**
 * Judges a miner's answer: a transport failure, an answer that is not valid JSON of the step's
 * schema, or one that does not answer the task's input (semantic checks) is rejected, with
 * errors precise enough to re-ask another miner.
 *
 * When a check cannot run at all (UnverifiableError): a lasting cause (python3 missing, invalid
 * task input) is rejected as `unverifiable` — a configuration problem, not the miner's fault,
 * which the planner does not retry on another miner; a passing cause (the checker timed out on a
 * busy host) is thrown, so the bus redelivers the result and it is judged again later.
 *
 * Every reason and error quotes the miner, so each is cut to `textLimitChars` here again
 * (the dispatcher cut it where it entered; this verdict is what the job record keeps), and
 * at most MAX_REJECTION_ERRORS errors are kept.
 */
export async function judge(result: Result, limits: Pick<SizeLimits, 'textLimitChars'> = DEFAULT_LIMITS): Promise<Verdict> {
  const verdict = await decide(result);
  if (verdict.accepted) return verdict;
  const cut = (text: string) => truncateText(text, limits.textLimitChars);
  return { ...verdict, reason: cut(verdict.reason), errors: verdict.errors.slice(0, MAX_REJECTION_ERRORS).map(cut) };
}

async function decide(result: Result): Promise<Verdict> {
  if (sourceKeyOf(result) === undefined) return { accepted: false, kind: 'no_candidate', reason: result.statusMessage, errors: [] };
  const who = describeSource(result);
  if (!result.ok || result.raw === undefined) {
    // An answer too large to read or to carry is judged like one too large to verify.
    const kind = result.fault === 'too_large' ? 'too_large' : 'miner_error';
    return { accepted: false, kind, reason: `${who} failed: ${result.statusCode} ${result.statusMessage}`, errors: [] };
  }
  // The dispatcher already ran these checks to pick the hedge race's winner. It is our own
  // service on our own bus (whoever can forge its result could forge the answer itself), so
  // its pass is reused — for the costly Python parse only, and only on the very text it was
  // reached on. Shape and every in-process check are judged here, always.
  const syntaxChecked = result.prechecked !== undefined && result.prechecked.sha256 === answerDigest(result.raw);
  let verified: Standardized;
  try {
    verified = await verifyOutput(result.schemaId, result.raw, result.input, { syntaxChecked });
  } catch (error) {
    if (error instanceof UnverifiableError || error instanceof UnknownSchemaError) {
      if (error.retryable) throw error;
      return { accepted: false, kind: 'unverifiable', reason: `cannot judge the answer of ${who} (not the miner's fault): ${error.message}`, errors: [] };
    }
    // Anything else a check throws was provoked by the answer (the input was validated before
    // hiring): the miner's fault, judged like unparseable output, never a redelivery loop.
    return { accepted: false, kind: 'not_json', reason: `${who} returned an answer the checks could not process: ${(error as Error)?.message ?? String(error)}`, errors: [] };
  }
  if (verified.ok) return { accepted: true, output: verified.value };
  const what = {
    too_large: 'an oversized answer',
    not_json: 'no JSON',
    schema: `JSON that does not match ${result.schemaId}`,
    semantic: `${result.schemaId} JSON that does not answer the task`,
  }[verified.kind];
  return {
    accepted: false,
    kind: verified.kind,
    reason: `${who} returned ${what}: ${verified.errors.slice(0, 3).join('; ')}`,
    errors: verified.errors,
  };
}

/** Who answered, for reasons: `uid 7 on SN13`, `chutes model deepseek-ai/DeepSeek-V3 on SN64`. */
export function describeSource(result: Pick<Result, 'provider' | 'source' | 'uid' | 'netuid'>): string {
  const provider = result.provider ?? 'axon';
  if (provider === 'axon' || !result.source) return `uid ${result.uid} on SN${result.netuid}`;
  const what = provider === 'chutes' ? 'model' : provider === 'desearch' ? 'endpoint' : 'platform';
  return `${provider} ${what} ${result.source} on SN${result.netuid}`;
}
