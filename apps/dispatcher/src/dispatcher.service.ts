import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import {
  Buckets,
  GatewayId,
  JobCancelRequested,
  JobEvent,
  JobStateSchema,
  MetagraphSchema,
  ReputationObservation,
  SourceProviderId,
  Subjects,
  TaskReady,
  TaskResult,
  envelope,
  jsonBytes,
  jobEvent,
  minerCallsOf,
  parseUntrustedJson,
} from '@orchestra/contracts';
import { AddressPolicy, loadHotkey } from '@orchestra/bittensor';
import { Bus, InboundMessage, ParsedJsonCache, ReputationLedger, RetryableError, readJson, resolveObjectRefs } from '@orchestra/bus';
import { Provider, createProviders } from '@orchestra/providers';
import { counter } from '@orchestra/service';
import { answerDigest, closePythonParsers, verifyOutput } from '@orchestra/schemas';
import { KV } from '@nats-io/kv';
import type { Subscription } from '@nats-io/transport-node';
import { z } from 'zod';
import { AxonHire } from './axon-hire';
import { DISPATCHER_CONFIG, DispatcherConfig, dispatcherConfig, dispatcherSettings } from './dispatcher.config';
import { GatewayHire } from './gateway-hire';
import { HedgePolicy } from './hedge-policy';
import { answeredEvent, describe, hiredEvent } from './hire-events';
import { HedgeCall, HedgeOutcome, hedgedHire } from './hedged-hire';
import { JobCancellations } from './job-cancellations';
import { ReputationBook } from './reputation-book';
import { Route, routesFor } from './routing';
import { NoSources, SourceCall, SourceCandidate, SourceReply, Task } from './source-call';
import { mergeCandidates } from './source-ranking';

/** A result as published (fields with defaults may be left out). */
type Result = z.input<typeof TaskResult.payload>;
/** What the dispatcher adds to a task to make its result. */
type ResultOutcome = Omit<Result, 'stepId' | 'attempt' | 'capability' | 'netuid' | 'schemaId' | 'input'>;

const hedgedCalls = counter<'netuid' | 'capability'>({
  name: 'dispatcher_hedged_calls_total',
  help: 'Extra calls made because the hired source was slow (hedges)',
  labelNames: ['netuid', 'capability'],
});
const dropped = counter<'reason'>({
  name: 'dispatcher_dropped_tasks_total',
  help: 'Tasks not hired for because their job is no longer running, or was cancelled mid-hire',
  labelNames: ['reason'],
});

/** Sources called at most, per attempt, in place of ones that failed without it being their fault (429, refused key). */
const MAX_MOVES = 2;

/** The part of the job record the dispatcher needs: is it running, and how many calls may it still make. */
const JobViewSchema = JobStateSchema.pick({ status: true, limits: true, steps: true });

/**
 * Hiring: for each ready task of a running job, one loop over sources whatever their provider —
 * the capability's providers in order (routing.ts), each offering its sources ranked by
 * reputation and price or chain signals and load (a gateway's models or endpoints,
 * gateway-hire.ts; a subnet's miner UIDs, axon-hire.ts) — hires the best one not yet tried for
 * this step, hedges to the next-best when it is slow, and publishes the first acceptable answer
 * for the verifier with its provider, source and cost in USD and TAO — or, when nobody can be
 * hired, a result that says why. A cancelled job's hires are aborted at once.
 */
@Injectable()
export class DispatcherService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DispatcherService.name);
  private readonly config: DispatcherConfig;
  private readonly policy: AddressPolicy;
  private readonly hedging: HedgePolicy;
  private readonly cancellations = new JobCancellations();
  private readonly clients: Provider[];
  private readonly gateways = new Map<GatewayId, GatewayHire>();
  private axon!: AxonHire;
  private jobs!: KV;
  private ledger!: ReputationLedger;
  /** Replies whose checks ran here and passed (not merely "could not run"): their results carry `prechecked`. */
  private readonly passedChecks = new WeakSet<SourceReply>();
  private cancelSubscription?: Subscription;

  constructor(
    private readonly bus: Bus,
    @Optional() @Inject(DISPATCHER_CONFIG) config?: DispatcherConfig,
  ) {
    this.config = config ?? dispatcherConfig(dispatcherSettings({}), bus.limits);
    this.policy = new AddressPolicy({ allow: this.config.allowAddresses });
    this.hedging = new HedgePolicy(this.config.hedge);
    this.clients = createProviders(this.config.sourcing.providers);
  }

  /** Why a gateway is off now (its key refused, unreachable), by provider. */
  providersOff(): Record<string, string> {
    return Object.fromEntries([...this.gateways].flatMap(([id, g]) => (g.offReason() ? [[id, g.offReason() as string]] : [])));
  }

  /** Every gateway's state for `/readyz` (`provider_chutes: ok` or `off: <why>`); gateways without a key are not listed. */
  providerChecks(): Record<string, string> {
    return Object.fromEntries([...this.gateways].map(([id, g]) => [`provider_${id}`, g.offReason() ? `off: ${g.offReason()}` : 'ok']));
  }

  async onApplicationBootstrap(): Promise<void> {
    const hotkey = await loadHotkey(this.config.hotkey);
    const metagraphs = new ParsedJsonCache(await this.bus.kv(Buckets.metagraph), MetagraphSchema);
    // Leader reads: a lagging replica may not have the record of a job the planner just started.
    this.jobs = await this.bus.kv(Buckets.jobs, 'leader');
    const reputation = new ReputationBook(await this.bus.kv(Buckets.reputation), this.config.reputation.cacheMs);
    this.axon = new AxonHire(this.config, hotkey, this.policy, metagraphs, reputation);
    const { sourcing } = this.config;
    for (const client of this.clients) {
      this.gateways.set(
        client.id,
        new GatewayHire(client, {
          reputation,
          weight: this.config.reputation.weight,
          halfLifeMs: this.config.reputation.halfLifeMs,
          allow: sourcing.providerSources[client.id],
          sourcesTtlMs: sourcing.sourcesTtlMs,
          offMs: sourcing.providerOffMs,
          timeoutMs: this.config.timeoutMs,
          taoUsdRate: sourcing.taoUsdRate,
          textLimitChars: this.config.limits.textLimitChars,
        }),
      );
    }
    this.ledger = await ReputationLedger.open(this.bus, this.config.reputation.halfLifeMs, (key, err) => this.logger.warn({ msg: 'could not record reputation', key, err }));
    // A plain subscription beside the durable consumer: every replica must hear every
    // cancellation (only the one running a job's hire has something to abort), and a
    // cancellation that arrives while a replica is down concerns no hire of it.
    this.cancelSubscription = this.bus.nc.subscribe(Subjects.jobCancel, {
      // Anyone can publish here. A callback that throws kills the NATS client's reader and
      // deafens the whole service, so nothing escapes it: what cannot be read is ignored.
      callback: (error, msg) => {
        try {
          if (error) return;
          const parsed = JobCancelRequested.envelope.safeParse(parseUntrustedJson(msg.string(), { maxDepth: this.bus.limits.maxJsonDepth }));
          if (!parsed.success) return;
          const aborted = this.cancellations.cancel(parsed.data.jobId, parsed.data.payload.reason);
          if (aborted) this.logger.log({ msg: 'aborted hires of a cancelled job', jobId: parsed.data.jobId, hires: aborted });
        } catch (err) {
          this.logger.warn({ msg: `ignored an unreadable message on ${Subjects.jobCancel}`, bytes: msg.data.length, err });
        }
      },
    });
  }

  async onModuleDestroy(): Promise<void> {
    this.cancelSubscription?.unsubscribe();
    await this.ledger?.close();
    for (const client of this.clients) client.close?.();
    // The hedge race's checks keep a python3 parser process; it ends with the service.
    await closePythonParsers();
  }

  async handle(message: InboundMessage): Promise<void> {
    const { jobId, payload } = message.parse(TaskReady);
    // A large input comes by reference (libs/bus objects): resolved to hire with, passed on as it came.
    const input = await resolveObjectRefs(this.bus, payload.input);
    return this.dispatch(jobId, { ...payload, input }, message.deliveryCount, payload.input);
  }

  /**
   * Hires for one task of `jobId` and publishes the result (nothing, if the job is over).
   * `wireInput`: the task's input as it came (references unresolved), passed on in the result.
   */
  async dispatch(jobId: string, task: Task, deliveryCount = 1, wireInput: unknown = task.input): Promise<void> {
    // Taken before the status check, so a cancellation landing in between still aborts the hire.
    const ticket = this.cancellations.track(jobId);
    // The result carries the task's input as it came (a reference stays a reference).
    const wireTask = { ...task, input: wireInput };
    try {
      const routes = routesFor(task, this.config.sourcing.capabilityProviders);
      // Both reads at once: one round trip on the way to the hire instead of two.
      const [job, offers] = await Promise.all([readJson(this.jobs, jobId, JobViewSchema), Promise.all(routes.map((r) => this.offersOf(r, task, deliveryCount)))]);
      // A task exists only for a job the planner recorded: no record means we read too early, not "over".
      if (!job) throw new RetryableError(`job ${jobId} has no record yet; retrying`);
      if (job.status !== 'running') {
        dropped.inc({ reason: 'job_not_running' });
        this.logger.log({ msg: 'not hiring: job is not running', jobId, stepId: task.stepId, status: job.status });
        return;
      }
      // The providers the job (its client or tenant) refuses: their offers are read with the job's record, then dropped.
      const excluded = new Set(job.limits.excludedProviders ?? []);
      const allowed = offers.filter((_, i) => !excluded.has(routes[i].provider));
      const waiting = allowed.find((o) => o.retryLater);
      if (waiting?.retryLater && allowed.every((o) => o.candidates.length === 0)) throw new RetryableError(waiting.retryLater);
      // Parallel attempts of a quorum step each skip the sources their siblings take.
      const candidates = mergeCandidates(
        allowed.map((o) => o.candidates),
        { prefer: task.preferSource, rankOffset: task.rankOffset },
      );
      const best = candidates[0];
      if (!best) {
        const siblings = task.rankOffset ? `; ${task.rankOffset} best left to parallel attempts` : '';
        const refused = routes.filter((r) => excluded.has(r.provider)).map((r) => r.provider);
        const why = [
          routes.length === 0 ? `no provider of ${task.capability} sells on SN${task.netuid}, which the plan pinned` : '',
          refused.length > 0 ? `the job excludes ${refused.join(', ')} (its limits.excludedProviders, the tenant's or the client's)` : '',
          ...allowed.map((o) => o.why ?? ''),
        ]
          .filter(Boolean)
          .join('; ');
        return this.publishNobody(jobId, wireTask, `nobody to hire for ${task.capability}: ${why}${siblings}`);
      }

      const hedge = this.hedging.plan(best.netuid, task.capability);
      // The job's call budget counts hedges; the planner enforces it, this keeps hedges within it.
      const callsLeft = job.limits.maxMinerCalls - minerCallsOf(job.steps);
      const maxCalls = hedge.enabled ? Math.max(1, Math.min(1 + this.config.hedge.maxExtraCalls, callsLeft)) : 1;
      // Calls in place of ones that said nothing about the work (429, refused key), within the job's budget.
      const maxMoves = Math.max(0, Math.min(MAX_MOVES, callsLeft - maxCalls));
      await this.announce(jobId, task, best, `hired ${describe(best)}`, 'step.hired');

      let outcome: HedgeOutcome<SourceCandidate, SourceReply>;
      try {
        outcome = await hedgedHire<SourceCandidate, SourceReply>({
          candidates,
          maxCalls,
          delayMs: hedge.delayMs,
          signal: ticket.signal,
          call: (c, signal, index) => this.callSource(jobId, task, c, signal, index),
          accept: (reply) => this.passesChecks(task, reply),
          moveOn: (reply) => !reply.ok && !reply.sourceEvidence,
          maxMoves,
          skip: (c) => !this.hireOf(c.provider)?.available(c),
          onHedge: (c) => {
            hedgedCalls.inc({ netuid: String(c.netuid), capability: task.capability });
            this.announce(jobId, task, c, `no acceptable answer after ${Math.round(hedge.delayMs)} ms (${hedge.basis}); hedging: also hired ${describe(c)}`, 'hedge').catch(
              (err: unknown) => this.logger.warn({ msg: 'could not announce a hedge', jobId, err }),
            );
          },
        });
      } catch (error) {
        if ((error as { retryable?: boolean }).retryable !== false) throw error;
        // Our own configuration or planning mistake (no adapter for this capability on this
        // subnet, input of the wrong shape, a request the gateway calls malformed): no other
        // source can fix it, so nobody is hireable.
        return this.publishNobody(jobId, wireTask, `cannot hire for ${task.capability} from ${best.provider} on SN${best.netuid}: ${(error as Error).message}`);
      }
      if (!outcome.cancelled && !outcome.chosen) {
        return this.publishNobody(jobId, wireTask, `nobody to hire for ${task.capability}: every ranked source became unavailable before it could be called`);
      }
      if (outcome.cancelled || !outcome.chosen?.reply) {
        dropped.inc({ reason: 'cancelled' });
        // Nothing learnt about the sources: they were cut off for our reasons, not theirs.
        this.logger.log({ msg: 'hire aborted: job cancelled', jobId, stepId: task.stepId, calls: outcome.calls.length });
        return;
      }
      const chosen = outcome.chosen;
      const reply = chosen.reply as SourceReply;
      const winner = chosen.candidate;
      // Every answered call is paid for, the hedges' too.
      const costUsd = outcome.calls.reduce((sum, c) => sum + (c.reply?.costUsd ?? 0), 0);
      const costTao = outcome.calls.reduce((sum, c) => sum + (c.reply?.costTao ?? 0), 0);
      // The event first, so a reader sees "answered" before the verifier's verdict on it.
      await this.bus.publish(Subjects.jobEvents(jobId), jobEvent(jobId, answeredEvent(task, winner, reply, outcome, { costUsd, costTao })));
      const others = outcome.calls.filter((c) => c !== chosen).map((c) => c.candidate);
      await this.publishResult(
        jobId,
        { ...wireTask, netuid: winner.netuid },
        this.carriable(wireTask, {
          provider: winner.provider,
          source: winner.source,
          uid: winner.miner?.uid ?? null,
          hotkey: winner.miner?.hotkey ?? null,
          coldkey: winner.miner?.coldkey ?? null,
          ok: reply.ok,
          statusCode: reply.statusCode,
          statusMessage: reply.statusMessage,
          fault: reply.fault,
          raw: reply.raw,
          // One parse per answer: the verifier reuses this verdict for exactly this text.
          prechecked: reply.raw !== undefined && this.passedChecks.has(reply) ? { sha256: answerDigest(reply.raw) } : undefined,
          latencyMs: outcome.elapsedMs,
          costTao,
          costUsd,
          hedgedUids: others.flatMap((c) => (c.miner ? [c.miner.uid] : [])),
          hedgedSources: others.map((c) => c.key),
        }),
      );
      this.record(task, outcome, chosen);
    } finally {
      ticket.release();
    }
  }

  /** One provider's ranked sources for a task; a gateway that is not configured says so. */
  private offersOf(route: Route, task: Task, deliveryCount: number): Promise<NoSources> {
    const hire = this.hireOf(route.provider);
    if (!hire) {
      const setting = `ORCH_${route.provider.toUpperCase()}_API_KEY`;
      return Promise.resolve({ candidates: [], why: `${route.provider}: not configured (${setting} is not set)` });
    }
    return hire.candidates(task, route.netuid, deliveryCount);
  }

  /**
   * The verifier's own checks (shape and semantics), run here so that a hedge race is won
   * by an answer the verifier will accept, not merely the fastest one. A check that cannot
   * run (e.g. no python3 here) does not decide the race: the verifier has the last word.
   * A pass is remembered so the verifier need not repeat the expensive part (the Python parse).
   */
  private async passesChecks(task: Task, reply: SourceReply): Promise<boolean> {
    if (reply.raw === undefined) return false;
    try {
      const ok = (await verifyOutput(task.schemaId, reply.raw, task.input)).ok;
      if (ok) this.passedChecks.add(reply);
      return ok;
    } catch {
      return true;
    }
  }

  /** One call to one source (`hedge` 0 is the primary), by its provider's hire. */
  private callSource(jobId: string, task: Task, candidate: SourceCandidate, signal: AbortSignal, hedge: number): Promise<SourceReply> {
    const attributes = {
      jobId,
      stepId: task.stepId,
      'orchestra.attempt': task.attempt,
      'orchestra.hedge': hedge > 0,
      'orchestra.hedge_index': hedge,
    };
    const hire = this.hireOf(candidate.provider);
    if (!hire) throw new Error(`no hire for provider ${candidate.provider} (a bug: it offered a candidate)`);
    return hire.call(task, candidate, signal, attributes);
  }

  private hireOf(provider: SourceProviderId): SourceCall | undefined {
    return provider === 'axon' ? this.axon : this.gateways.get(provider);
  }

  /**
   * Reputation and hedge-delay evidence from every call of the attempt. The chosen call's
   * verdict is the verifier's to record; the others' answers were judged here, so here.
   * A failure that was not the source's doing (a refused key, a 429) is no evidence about it.
   */
  private record(task: Task, outcome: HedgeOutcome<SourceCandidate, SourceReply>, chosen: HedgeCall<SourceCandidate, SourceReply>): void {
    for (const call of outcome.calls) {
      const put = (obs: ReputationObservation) => this.ledger.recordKey(call.candidate.reputationKey, obs);
      if (call.aborted) {
        put({ kind: 'aborted', latencyMs: call.elapsedMs });
        continue;
      }
      const reply = call.reply as SourceReply;
      if (!reply.sourceEvidence) continue;
      if (call.acceptable) this.hedging.observe(call.candidate.netuid, task.capability, reply.latencyMs);
      put({ kind: 'call', answered: reply.ok, latencyMs: reply.latencyMs });
      if (reply.ok && call !== chosen) put({ kind: 'verdict', verdict: call.acceptable ? 'accepted' : 'schema' });
    }
  }

  /** A progress event about a hire; hedges get their own message id, or the stream would drop them as duplicates of the first hire. */
  private async announce(jobId: string, task: Task, c: SourceCandidate, what: string, kind: 'step.hired' | 'hedge'): Promise<void> {
    const payload = hiredEvent(task, c, what, kind === 'hedge');
    const event = kind === 'hedge' ? envelope(JobEvent, jobId, payload, ['step.hired', task.stepId, task.attempt, 'hedge', c.key]) : jobEvent(jobId, payload);
    await this.bus.publish(Subjects.jobEvents(jobId), event);
  }

  /**
   * The result as published, if it fits in one NATS message (the answer travels with the task's
   * input); otherwise a `too_large` failure of that miner, which the verifier records against
   * it. Publishing it anyway would fail on every retry and leave the step waiting.
   */
  private carriable(task: Task, outcome: ResultOutcome): ResultOutcome {
    const bytes = jsonBytes({ ...task, ...outcome });
    // The config's limits are fitted to the connected server's max_payload (main.ts).
    const budget = this.config.limits.recordBudgetBytes;
    if (bytes <= budget) return outcome;
    const answerBytes = outcome.raw === undefined ? 0 : jsonBytes(outcome.raw);
    this.logger.warn({ msg: 'answer too large to carry; rejected as too_large', stepId: task.stepId, provider: outcome.provider, source: outcome.source, bytes, budget });
    return {
      ...outcome,
      ok: false,
      raw: undefined,
      fault: 'too_large',
      statusMessage: `answer of ${answerBytes} bytes (as JSON) does not fit in one message with the task's input (${bytes} of at most ${budget} bytes)`,
    };
  }

  private publishNobody(jobId: string, task: Task, why: string): Promise<void> {
    return this.publishResult(jobId, task, {
      uid: null,
      hotkey: null,
      source: null,
      ok: false,
      statusCode: 0,
      statusMessage: why,
      latencyMs: 0,
      costTao: 0,
      costUsd: 0,
      hedgedUids: [],
    });
  }

  private async publishResult(jobId: string, task: Task, outcome: ResultOutcome): Promise<void> {
    const { stepId, attempt, capability, netuid, schemaId, input } = task;
    const result: Result = { stepId, attempt, capability, netuid, schemaId, input, ...outcome };
    await this.bus.publish(Subjects.taskResult, envelope(TaskResult, jobId, result, [task.stepId, task.attempt]));
  }
}
