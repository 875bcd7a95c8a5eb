import { Injectable } from '@nestjs/common';
import { StepRejected, StepVerified, Subjects, TaskResult, envelope, jobEvent } from '@orchestra/contracts';
import { Bus, InboundMessage } from '@orchestra/bus';
import { counter } from '@orchestra/service';
import { judge } from './verdict';

const verdicts = counter<'capability' | 'verdict'>({
  name: 'verifier_verdicts_total',
  help: 'Miner answers judged, by capability and verdict (accepted or the rejection kind)',
  labelNames: ['capability', 'verdict'],
});

/** The JSON Standardization Layer at work: judges each miner answer and tells the planner. */
@Injectable()
export class VerifierService {
  constructor(private readonly bus: Bus) {}

  async handle(message: InboundMessage): Promise<void> {
    const { jobId, payload: result } = message.parse(TaskResult);
    const verdict = judge(result);
    const idParts = [result.stepId, result.attempt];
    const base = { stepId: result.stepId, attempt: result.attempt, latencyMs: result.latencyMs, costTao: result.costTao };
    verdicts.inc({ capability: result.capability, verdict: verdict.accepted ? 'accepted' : verdict.kind });

    if (verdict.accepted) {
      const uid = result.uid as number;
      const hotkey = result.hotkey as string;
      await this.bus.publish(
        Subjects.stepVerified,
        envelope(StepVerified, jobId, { ...base, uid, hotkey, netuid: result.netuid, output: verdict.output }, idParts),
      );
      await this.bus.publish(
        Subjects.jobEvents(jobId),
        jobEvent(jobId, {
          event: 'step.verified',
          service: 'verifier',
          stepId: result.stepId,
          attempt: result.attempt,
          uid,
          message: `step ${result.stepId}: output of uid ${uid} on SN${result.netuid} conforms to ${result.schemaId}`,
        }),
      );
      return;
    }
    await this.bus.publish(
      Subjects.stepRejected,
      envelope(StepRejected, jobId, { ...base, uid: result.uid, hotkey: result.hotkey, kind: verdict.kind, reason: verdict.reason, errors: verdict.errors }, idParts),
    );
    await this.bus.publish(
      Subjects.jobEvents(jobId),
      jobEvent(jobId, {
        event: 'step.rejected',
        service: 'verifier',
        stepId: result.stepId,
        attempt: result.attempt,
        uid: result.uid ?? undefined,
        message: `step ${result.stepId}: rejected — ${verdict.reason}`,
        data: { kind: verdict.kind, errors: verdict.errors.slice(0, 10) },
      }),
    );
  }
}
