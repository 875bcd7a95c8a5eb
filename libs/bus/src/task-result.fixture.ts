import { TaskResult, envelope } from '@orchestra/contracts';

/** A miner's answer to attempt `attempt` of step `data`, as the bus specs publish it. */
export function taskResult(jobId: string, opts: { attempt?: number; raw?: string } = {}) {
  const attempt = opts.attempt ?? 1;
  return envelope(
    TaskResult,
    jobId,
    {
      stepId: 'data',
      attempt,
      capability: 'data.financials',
      netuid: 13,
      schemaId: 'data.financials@1',
      input: {},
      uid: 1,
      hotkey: '5F',
      ok: true,
      statusCode: 200,
      statusMessage: 'Success',
      raw: opts.raw ?? '{}',
      latencyMs: 1,
      costTao: 0,
      hedgedUids: [],
    },
    ['data', attempt],
  );
}
