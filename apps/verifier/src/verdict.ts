import { REJECTION_KINDS, TaskResult } from '@orchestra/contracts';
import { Standardized, UnverifiableError, answerDigest, verifyOutput } from '@orchestra/schemas';
import { z } from 'zod';

type Result = z.infer<typeof TaskResult.payload>;

/** The verifier's judgement on one attempt. */
export type Verdict =
  | { accepted: true; output: unknown }
  | { accepted: false; kind: (typeof REJECTION_KINDS)[number]; reason: string; errors: string[] };

/**
 * Judges a miner's answer: a transport failure, an answer that is not valid JSON of the step's
 * schema, or one that does not answer the task's input (semantic checks) is rejected, with
 * errors precise enough to re-ask another miner.
 *
 * When a check cannot run at all (UnverifiableError): a lasting cause (python3 missing, invalid
 * task input) is rejected as `unverifiable` — a configuration problem, not the miner's fault,
 * which the planner does not retry on another miner; a passing cause (the checker timed out on a
 * busy host) is thrown, so the bus redelivers the result and it is judged again later.
 */
export async function judge(result: Result): Promise<Verdict> {
  if (result.uid === null) return { accepted: false, kind: 'no_candidate', reason: result.statusMessage, errors: [] };
  const who = `uid ${result.uid} on SN${result.netuid}`;
  if (!result.ok || result.raw === undefined) {
    return { accepted: false, kind: 'miner_error', reason: `${who} failed: ${result.statusCode} ${result.statusMessage}`, errors: [] };
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
    if (!(error instanceof UnverifiableError) || error.retryable) throw error;
    return { accepted: false, kind: 'unverifiable', reason: `cannot judge the answer of ${who} (not the miner's fault): ${error.message}`, errors: [] };
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
