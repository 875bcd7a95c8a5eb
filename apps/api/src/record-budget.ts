import { SizeLimits, jsonBytes, largestPart } from '@orchestra/contracts';
import { ApiProblem } from './problem';
import type { SubmitJobBody } from './submission';

/**
 * Room for the parts of a job record that do not come from the body: ids, tenant,
 * timestamps, limits, status, spend and the JSON punctuation around them, bytes.
 */
const RECORD_SKELETON_BYTES = 2 * 1024;

/**
 * The smallest size the job record of this submission can have, bytes. The planner keeps
 * the client's inputs in the record, and each step's input beside them: an explicit
 * plan's steps as given (their `$ref`s are resolved into task messages, not into the
 * record), or, without a plan, a playbook's steps, which may copy any of the inputs (the
 * financial playbook copies `entities`, `periods` and `metrics`). While the job runs the
 * record also gains attempts, verified outputs and the result; room for two inline outputs
 * is reserved for them (larger outputs are stored by reference, outside the record). A
 * client's `outputSchema` is kept whole.
 */
export function estimateRecordBytes(body: SubmitJobBody, limits: Pick<SizeLimits, 'inlineOutputBytes'>): number {
  const inputs = jsonBytes(body.inputs ?? {});
  const steps = body.plan ? jsonBytes(body.plan) : inputs;
  // The client's outputSchema is kept on the record too (to judge the result by).
  const outputSchema = body.outputSchema ? jsonBytes(body.outputSchema) : 0;
  return RECORD_SKELETON_BYTES + jsonBytes(body.goal) + inputs + steps + outputSchema + 2 * limits.inlineOutputBytes;
}

/**
 * Refuses (422) a submission whose job record could not be written: one the planner
 * would have to store past `recordBudgetBytes`, which NATS refuses on every retry.
 * The problem names the field that takes the most room.
 */
export function assertRecordFits(body: SubmitJobBody, limits: Pick<SizeLimits, 'recordBudgetBytes' | 'inlineOutputBytes'>): void {
  const estimate = estimateRecordBytes(body, limits);
  if (estimate <= limits.recordBudgetBytes) return;
  const part = largestPart(body);
  const where = part.pointer === '' ? 'the body as a whole' : part.pointer;
  throw new ApiProblem(
    422,
    'job-record-too-large',
    'Job record would be too large',
    `This job's record would take about ${estimate} bytes, over the budget of ${limits.recordBudgetBytes}; most of it comes from ${where} (${part.bytes} bytes): send less there, or split the job.`,
    [{ pointer: part.pointer, detail: `${part.bytes} bytes; the whole job record may be at most ${limits.recordBudgetBytes} bytes` }],
  );
}
