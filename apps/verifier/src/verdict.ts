import { REJECTION_KINDS, TaskResult } from '@orchestra/contracts';
import { standardize } from '@orchestra/schemas';
import { z } from 'zod';

type Result = z.infer<typeof TaskResult.payload>;

/** The verifier's judgement on one attempt. */
export type Verdict =
  | { accepted: true; output: unknown }
  | { accepted: false; kind: (typeof REJECTION_KINDS)[number]; reason: string; errors: string[] };

/**
 * Judges a miner's answer: a transport failure or an answer that is not valid JSON of
 * the step's schema is rejected, with errors precise enough to re-ask another miner.
 */
export function judge(result: Result): Verdict {
  if (result.uid === null) return { accepted: false, kind: 'no_candidate', reason: result.statusMessage, errors: [] };
  const who = `uid ${result.uid} on SN${result.netuid}`;
  if (!result.ok || result.raw === undefined) {
    return { accepted: false, kind: 'miner_error', reason: `${who} failed: ${result.statusCode} ${result.statusMessage}`, errors: [] };
  }
  const standardized = standardize(result.schemaId, result.raw);
  if (standardized.ok) return { accepted: true, output: standardized.value };
  const what = { too_large: 'an oversized answer', not_json: 'no JSON', schema: `JSON that does not match ${result.schemaId}` }[standardized.kind];
  return {
    accepted: false,
    kind: standardized.kind,
    reason: `${who} returned ${what}: ${standardized.errors.slice(0, 3).join('; ')}`,
    errors: standardized.errors,
  };
}
