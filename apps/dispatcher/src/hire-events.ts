import type { JobEventPayload } from '@orchestra/contracts';
import type { HedgeOutcome } from './hedged-hire';
import type { SourceCandidate, SourceReply, Task } from './source-call';

/** The dispatcher's progress events about a hire: who was hired and why, and what came back at what cost. */

/** `chutes model devnet/good-llm`, `uid 7`: a source as events name it (never its address). */
export function describe(c: SourceCandidate): string {
  if (c.miner) return `uid ${c.miner.uid}`;
  const what = c.provider === 'chutes' ? 'model' : c.provider === 'desearch' ? 'endpoint' : 'platform';
  return `${c.provider} ${what} ${c.source}`;
}

/** What every hire event says of the hire: the step and attempt, provider and source (and the UID of a miner). */
function whoWasHired(task: Task, c: SourceCandidate): Omit<JobEventPayload, 'event' | 'message'> {
  return { service: 'dispatcher', stepId: task.stepId, attempt: task.attempt, ...(c.miner ? { uid: c.miner.uid } : {}), provider: c.provider, source: c.source };
}

/** `step.hired`: the source hired (or hedged to), on which subnet, and how it was scored. */
export function hiredEvent(task: Task, c: SourceCandidate, what: string, hedge: boolean): JobEventPayload {
  return {
    event: 'step.hired',
    ...whoWasHired(task, c),
    message: `step ${task.stepId}: ${what} on SN${c.netuid} (${c.basis})`,
    data: { netuid: c.netuid, ...(c.miner ? { hotkey: c.miner.hotkey } : {}), score: c.score, reputation: c.quality, hedge },
  };
}

/** `step.answered`: what the chosen call came back with, and what the attempt's calls cost in USD and TAO. */
export function answeredEvent(
  task: Task,
  c: SourceCandidate,
  reply: SourceReply,
  outcome: HedgeOutcome<SourceCandidate, SourceReply>,
  cost: { costUsd: number; costTao: number },
): JobEventPayload {
  const ms = Math.round(reply.latencyMs);
  const others = outcome.calls.length - 1;
  const hedged = others > 0 ? ` (first acceptable of ${outcome.calls.length} calls; ${others} other${others > 1 ? 's' : ''} aborted or failed)` : '';
  const who = describe(c);
  return {
    event: 'step.answered',
    ...whoWasHired(task, c),
    message: reply.ok
      ? `step ${task.stepId}: ${who} answered in ${ms} ms (${reply.responseBytes} bytes, $${cost.costUsd.toFixed(6)} = ${cost.costTao.toFixed(8)} TAO)${hedged}`
      : `step ${task.stepId}: ${who} failed after ${ms} ms: ${reply.statusCode} ${reply.statusMessage}${hedged}`,
    data: { statusCode: reply.statusCode, latencyMs: ms, calls: outcome.calls.length, netuid: c.netuid, costUsd: cost.costUsd, costTao: cost.costTao },
  };
}
