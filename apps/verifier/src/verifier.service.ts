import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import { checkPythonSyntax, closePythonParsers } from '@orchestra/schemas';
import { StepRejected, StepVerified, Subjects, TaskResult, axonSource, envelope, jobEvent, reputationKeyOfSource } from '@orchestra/contracts';
import { Bus, DEFAULT_REPUTATION_SETTINGS, InboundMessage, REPUTATION_SETTINGS, ReputationLedger, ReputationSettings, resolveObjectRefs } from '@orchestra/bus';
import { counter } from '@orchestra/service';
import { z } from 'zod';
import { Verdict, describeSource, judge } from './verdict';

const verdicts = counter<'capability' | 'verdict'>({
  name: 'verifier_verdicts_total',
  help: 'Miner answers judged, by capability and verdict (accepted or the rejection kind)',
  labelNames: ['capability', 'verdict'],
});

/** The JSON Standardization Layer at work: judges each miner answer and tells the planner. */
@Injectable()
export class VerifierService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(VerifierService.name);
  private ledger!: ReputationLedger;
  /** Whether the Python syntax check can run here; reported on /readyz, never a reason to refuse work. */
  pythonCheck: 'ok' | string = 'not checked';

  constructor(
    private readonly bus: Bus,
    @Optional() @Inject(REPUTATION_SETTINGS) private readonly reputation: ReputationSettings = DEFAULT_REPUTATION_SETTINGS,
  ) {}

  /** Says at start, not at the first code answer, when python3 is missing (and starts the parser process the checks reuse). */
  async onApplicationBootstrap(): Promise<void> {
    this.ledger = await ReputationLedger.open(this.bus, this.reputation.halfLifeMs, (key, err) => this.logger.warn({ msg: 'could not record reputation', key, err }));
    try {
      await checkPythonSyntax('pass');
      this.pythonCheck = 'ok';
    } catch (error) {
      this.pythonCheck = `unavailable: ${(error as Error).message}`;
      this.logger.error({ msg: 'code.python answers cannot be verified on this host; they will be rejected as unverifiable', err: error });
    }
  }

  async onModuleDestroy(): Promise<void> {
    await this.ledger?.close();
    await closePythonParsers();
  }

  async handle(message: InboundMessage): Promise<void> {
    const { jobId, payload: result } = message.parse(TaskResult);
    // The semantic checks compare the answer with the task's input, which may come by reference.
    const verdict = await judge({ ...result, input: await resolveObjectRefs(this.bus, result.input) }, this.bus.limits);
    const idParts = [result.stepId, result.attempt];
    const provider = result.provider ?? 'axon';
    const source = result.source ?? (result.uid === null ? null : axonSource(result.uid));
    const base = {
      stepId: result.stepId,
      attempt: result.attempt,
      netuid: result.netuid,
      provider,
      source,
      latencyMs: result.latencyMs,
      costTao: result.costTao,
      costUsd: result.costUsd ?? 0,
      hedgedUids: result.hedgedUids,
      hedgedSources: result.hedgedSources ?? [],
    };
    const named = { provider, ...(source ? { source } : {}) };
    verdicts.inc({ capability: result.capability, verdict: verdict.accepted ? 'accepted' : verdict.kind });
    this.recordReputation(result, verdict);

    if (verdict.accepted) {
      const uid = result.uid ?? undefined;
      await this.bus.publish(
        Subjects.stepVerified,
        envelope(StepVerified, jobId, { ...base, uid: result.uid, hotkey: result.hotkey, coldkey: result.coldkey, output: verdict.output }, idParts),
      );
      await this.bus.publish(
        Subjects.jobEvents(jobId),
        jobEvent(jobId, {
          event: 'step.verified',
          service: 'verifier',
          stepId: result.stepId,
          attempt: result.attempt,
          uid,
          ...named,
          message: `step ${result.stepId}: output of ${describeSource(result)} conforms to ${result.schemaId}`,
          data: { netuid: result.netuid, costUsd: base.costUsd, costTao: base.costTao },
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
        ...named,
        message: `step ${result.stepId}: rejected — ${verdict.reason}`,
        data: { kind: verdict.kind, errors: verdict.errors.slice(0, 10), netuid: result.netuid, costUsd: base.costUsd, costTao: base.costTao },
      }),
    );
  }

  /**
   * The verdict as reputation evidence for the answering source — a miner UID or a gateway's
   * model or endpoint (the dispatcher records the transport side). Failures the source is not
   * judged on here — transport errors, no candidate, our own inability to verify — add nothing.
   */
  private recordReputation(result: z.infer<typeof TaskResult.payload>, verdict: Verdict): void {
    const judged: Record<string, 'accepted' | 'semantics' | 'schema'> = { accepted: 'accepted', semantic: 'semantics', schema: 'schema', not_json: 'schema', too_large: 'schema' };
    const verdictKind = judged[verdict.accepted ? 'accepted' : verdict.kind];
    const source = result.source ?? (result.uid === null ? null : axonSource(result.uid));
    if (source === null || verdictKind === undefined) return;
    const key = reputationKeyOfSource(result.provider ?? 'axon', source, result.netuid, result.capability);
    if (key) this.ledger.recordKey(key, { kind: 'verdict', verdict: verdictKind });
  }
}
