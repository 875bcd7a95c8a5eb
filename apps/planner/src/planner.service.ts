import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import {
  Buckets,
  JobApproved,
  JobCancelRequested,
  JobEventPayload,
  JobSpec,
  JobState,
  JobStateSchema,
  JobSubmitted,
  ObjectRef,
  StepRejected,
  StepVerified,
  Streams,
  Subjects,
  TERMINAL_JOB_EVENTS,
  jobEvent,
  reputationKeyOfSource,
  SourceProviderId,
} from '@orchestra/contracts';
import {
  Bus,
  DEFAULT_REPUTATION_SETTINGS,
  InboundMessage,
  PoisonMessageError,
  REPUTATION_SETTINGS,
  ReputationLedger,
  ReputationSettings,
  RetryableError,
  compareAndSet,
  storeIfLarge,
} from '@orchestra/bus';
import { counter } from '@orchestra/service';
import { KV } from '@nats-io/kv';
import {
  Transition,
  applyApproved,
  applyCancel,
  applyDeadline,
  applyRejected,
  applyVerified,
  failedStepLetters,
  outstandingTasks,
  progressEvents,
  startJob,
  terminalEvent,
} from './job-machine';
import { ModelPlanner } from './model-planner';
import { PlanOutcome, clientPlan, planWithoutModel } from './planning';
import { fitRecord } from './record-budget';
import { recordJobMetrics, recordRunningJobs } from './job-metrics';

const transitions = counter<'message' | 'outcome'>({
  name: 'planner_messages_total',
  help: 'Messages the planner handled, by type and whether they changed the job',
  labelNames: ['message', 'outcome'],
});

/** Injection token of the ModelPlanner (null: plan from playbooks only). */
export const MODEL_PLANNER = Symbol('MODEL_PLANNER');

/** How often running jobs are checked against their deadline, ms. */
const DEADLINE_SWEEP_MS = 1_000;

/**
 * The only writer of job state. Each message becomes one compare-and-set transition
 * of the job record; then the tasks and events that the new state calls for are
 * published. If the message changed nothing (a redelivery after a crash between the
 * write and the publishes), the state's outstanding tasks and terminal event are
 * published again — the stream's duplicate window drops what already went out.
 */
@Injectable()
export class PlannerService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(PlannerService.name);
  private jobs!: KV;
  /** Running jobs this replica has seen, with their deadlines (ms since epoch). */
  private readonly deadlines = new Map<string, number>();
  private sweep?: NodeJS.Timeout;
  private ledger!: ReputationLedger;

  constructor(
    private readonly bus: Bus,
    @Optional() @Inject(REPUTATION_SETTINGS) private readonly reputation: ReputationSettings = DEFAULT_REPUTATION_SETTINGS,
    @Optional() @Inject(MODEL_PLANNER) private readonly modelPlanner: ModelPlanner | null = null,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.ledger = await ReputationLedger.open(this.bus, this.reputation.halfLifeMs, (key, err) => this.logger.warn({ msg: 'could not record outvoted miners', key, err }));
    // Leader reads: a transition decided from a follower's stale revision could ack a message as a duplicate.
    this.jobs = await this.bus.kv(Buckets.jobs, 'leader');
    // A restarted replica takes over the deadlines of jobs already running, and re-announces
    // recent deadline failures: a deadline is not a message, so if a replica died between
    // writing one and announcing it, no redelivery would announce it (every other outcome
    // is redelivered). Within the events stream's duplicate window a re-announcement that
    // already went out is dropped.
    const recent = Date.now() - Streams.events.duplicateWindowMs;
    for await (const key of await this.jobs.keys()) {
      const entry = await this.jobs.get(key);
      const state = entry?.operation === 'PUT' ? JobStateSchema.safeParse(entry.json()) : undefined;
      if (!state?.success) continue;
      const job = state.data;
      if (job.status === 'running') this.deadlines.set(key, Date.parse(job.deadlineAt));
      else if (job.error?.code === 'deadline' && Date.parse(job.updatedAt) > recent) {
        await this.bus.publish(Subjects.jobEvents(key), jobEvent(key, terminalEvent(job) as JobEventPayload));
      }
    }
    this.sweep = setInterval(() => void this.sweepDeadlines(), DEADLINE_SWEEP_MS);
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.sweep);
    await this.ledger?.close();
  }

  /** Routes one planner-inbox message by its envelope type. */
  async handle(message: InboundMessage): Promise<void> {
    const type = message.peekType();
    const now = new Date();
    switch (type) {
      case JobSubmitted.type: {
        const { payload } = message.parse(JobSubmitted);
        const { job } = payload;
        // Planning may ask a model (seconds): only for a job not yet recorded, so a redelivery asks nothing.
        // Should two replicas race, the record's create-if-absent keeps one plan.
        const outcome = (await this.jobs.get(job.jobId))?.operation === 'PUT' ? undefined : await this.plan(job);
        return this.transition(type, job.jobId, (s) => (s || !outcome ? undefined : startJob(job, new Date(), outcome)));
      }
      case JobApproved.type: {
        const { jobId, payload } = message.parse(JobApproved);
        return this.transition(
          type,
          jobId,
          (s) => s && applyApproved(s, payload.plan ? clientPlan(s, payload.plan, 'approval') : undefined, now),
          (s) => s !== undefined,
        );
      }
      case StepVerified.type: {
        const { jobId, payload } = message.parse(StepVerified);
        // A large output is kept by reference; stored before the write, so the record never points at nothing.
        const stored = await storeIfLarge(this.bus, `${jobId}/steps/${payload.stepId}/${payload.attempt}/output`, payload.output);
        const ref = stored === payload.output ? undefined : (stored as ObjectRef);
        return this.transition(
          type,
          jobId,
          (s) => s && applyVerified(s, payload, now, ref),
          (s) => hasAttempt(s, payload.stepId, payload.attempt),
        );
      }
      case StepRejected.type: {
        const { jobId, payload } = message.parse(StepRejected);
        return this.transition(
          type,
          jobId,
          (s) => s && applyRejected(s, payload, now),
          (s) => hasAttempt(s, payload.stepId, payload.attempt),
        );
      }
      case JobCancelRequested.type: {
        const { jobId, payload } = message.parse(JobCancelRequested);
        // A cancellation may overtake the submission: wait for the job's record rather than drop it.
        return this.transition(
          type,
          jobId,
          (s) => s && applyCancel(s, payload.reason, now),
          (s) => s !== undefined,
        );
      }
      default:
        throw new PoisonMessageError(`the planner does not handle messages of type ${JSON.stringify(type)} on ${message.subject}`);
    }
  }

  /** The job's plan: the client's, else a model's (when configured), else a playbook's (planning.ts). */
  private async plan(job: JobSpec): Promise<PlanOutcome> {
    if (job.plan || !this.modelPlanner) return planWithoutModel(job);
    return this.modelPlanner.plan(job);
  }

  /**
   * Applies one message to the job record by compare-and-set and publishes what follows.
   * `caughtUp` says whether a record is recent enough to judge the message by: a message
   * about attempt n exists only after a record with attempt n was written, so a record
   * without it was read stale (a lagging replica, a new leader) — retry, never drop.
   */
  private async transition(
    messageType: string,
    jobId: string,
    decide: (s: JobState | undefined) => Transition | undefined,
    caughtUp: (s: JobState | undefined) => boolean = () => true,
  ): Promise<void> {
    let transition: Transition | undefined;
    let before: JobState | undefined;
    const result = await compareAndSet(
      this.jobs,
      jobId,
      JobStateSchema,
      (current) => {
        before = current;
        const decided = decide(current);
        // Every record is fitted to its budget before it is written, so no write fails for its size.
        transition = decided && fitRecord(decided, this.bus.limits, new Date());
        return transition?.state;
      },
      { maxBytes: this.bus.limits.recordBudgetBytes },
    );
    transitions.inc({ message: messageType, outcome: result.changed ? 'applied' : 'unchanged' });
    if (result.changed && result.value) recordJobMetrics(before, result.value);
    const state = result.value;
    if (!result.changed && !caughtUp(state)) {
      throw new RetryableError(`${messageType} for job ${jobId} is ahead of the job record read (${state ? `revision at ${state.updatedAt}` : 'no record'}); re-reading later`);
    }
    if (!state) return; // nothing recorded, so nothing to publish
    await this.publishEffects(state, result.changed && transition ? transition.events : this.republishable(state));
  }

  /**
   * What to publish again for a message that changed nothing (a redelivery after a crash
   * between the write and the publishes): every event the record implies. Only while the
   * events stream's duplicate window still covers the job's last change, so that what
   * already went out is dropped rather than repeated.
   */
  private republishable(state: JobState): JobEventPayload[] {
    return Date.now() - Date.parse(state.updatedAt) < Streams.events.duplicateWindowMs ? progressEvents(state) : [];
  }

  private async publishEffects(state: JobState, events: Transition['events']): Promise<void> {
    if (state.status === 'running') this.deadlines.set(state.jobId, Date.parse(state.deadlineAt));
    else this.deadlines.delete(state.jobId);
    for (const task of outstandingTasks(state)) {
      // A task input too large to send inline (large client inputs, stored outputs resolved
      // into it) goes by reference; the dispatcher and the verifier resolve it. Same input,
      // same name and digest: a republished task is the same message.
      const input = await storeIfLarge(this.bus, `${state.jobId}/steps/${task.payload.stepId}/input`, task.payload.input);
      await this.bus.publish(Subjects.taskReady(task.payload.netuid), { ...task, payload: { ...task.payload, input } });
    }
    for (const event of events) {
      await this.bus.publish(Subjects.jobEvents(state.jobId), jobEvent(state.jobId, event));
    }
    // Derived from the record, and published with the terminal event (also on a redelivery).
    if (state.status !== 'running' && events.some((e) => TERMINAL_JOB_EVENTS.includes(e.event))) {
      for (const letter of failedStepLetters(state, this.bus.limits)) await this.bus.publish(Subjects.failedSteps, letter);
    }
    if (events.some((e) => e.event.startsWith('job.') && e.event !== 'job.planned')) {
      this.logger.log({ msg: `job ${state.status}`, jobId: state.jobId, error: state.error });
    }
    for (const event of events) if (event.event === 'step.quorum') this.recordOutvoted(state, event);
  }

  /** Sources whose accepted answers lost a quorum vote lose that acceptance in their reputation. */
  private recordOutvoted(state: JobState, event: JobEventPayload): void {
    const step = state.steps.find((s) => s.id === event.stepId);
    if (!step) return;
    const sources = (event.data?.outvotedSources ?? []) as Array<{ provider: SourceProviderId; source: string; netuid: number }>;
    for (const { provider, source, netuid } of sources) {
      const key = reputationKeyOfSource(provider, source, netuid, step.capability);
      if (key) this.ledger.recordKey(key, { kind: 'outvoted' });
    }
  }

  private async sweepDeadlines(): Promise<void> {
    const now = Date.now();
    recordRunningJobs(this.deadlines.values(), now);
    for (const [jobId, deadline] of this.deadlines) {
      if (deadline > now) continue;
      try {
        await this.transition('deadline', jobId, (s) => s && applyDeadline(s, new Date(now)));
      } catch (error) {
        this.logger.warn({ msg: 'deadline sweep failed; will retry', jobId, err: error });
      }
    }
  }
}

/** Whether a job record already shows this attempt of this step (so it can judge news about it). */
function hasAttempt(state: JobState | undefined, stepId: string, attempt: number): boolean {
  return state?.steps.some((s) => s.id === stepId && s.attempts.some((a) => a.attempt === attempt)) ?? false;
}
