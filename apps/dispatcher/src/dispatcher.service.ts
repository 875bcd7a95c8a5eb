import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import {
  Buckets,
  JobCancelRequested,
  JobEvent,
  JobStateSchema,
  MetagraphSchema,
  ReputationObservation,
  Subjects,
  TaskReady,
  TaskResult,
  envelope,
  jsonBytes,
  jobEvent,
  metagraphKey,
  minerCallsOf,
  parseUntrustedJson,
} from '@orchestra/contracts';
import { AddressPolicy, KeyringPair, MinerReply, SubnetAdapter, createSubnetAdapter, loadHotkey, minerFaultReply } from '@orchestra/bittensor';
import { Bus, InboundMessage, ParsedJsonCache, ReputationLedger, RetryableError, readJson, resolveObjectRefs } from '@orchestra/bus';
import { counter, withCallSpan } from '@orchestra/service';
import { Capability, answerDigest, closePythonParsers, verifyOutput } from '@orchestra/schemas';
import { KV } from '@nats-io/kv';
import { performance } from 'node:perf_hooks';
import type { Subscription } from '@nats-io/transport-node';
import { z } from 'zod';
import { DISPATCHER_CONFIG, DispatcherConfig, dispatcherConfig, dispatcherSettings } from './dispatcher.config';
import { HedgePolicy } from './hedge-policy';
import { HedgeCall, HedgeOutcome, hedgedHire } from './hedged-hire';
import { JobCancellations } from './job-cancellations';
import { Candidate, rankCandidates } from './ranking';
import { ReputationBook } from './reputation-book';

type Task = z.infer<typeof TaskReady.payload>;
/** A result as published (fields with defaults may be left out). */
type Result = z.input<typeof TaskResult.payload>;
/** What the dispatcher adds to a task to make its result. */
type ResultOutcome = Omit<Result, 'stepId' | 'attempt' | 'capability' | 'netuid' | 'schemaId' | 'input'>;

const hedgedCalls = counter<'netuid' | 'capability'>({
  name: 'dispatcher_hedged_calls_total',
  help: 'Extra miner calls made because the hired miner was slow (hedges)',
  labelNames: ['netuid', 'capability'],
});
const dropped = counter<'reason'>({
  name: 'dispatcher_dropped_tasks_total',
  help: 'Tasks not hired for because their job is no longer running, or was cancelled mid-hire',
  labelNames: ['reason'],
});

/** Deliveries to wait for metagraph-sync before declaring a subnet empty. */
const METAGRAPH_PATIENCE = 3;

/** The part of the job record the dispatcher needs: is it running, and how many calls may it still make. */
const JobViewSchema = JobStateSchema.pick({ status: true, limits: true, steps: true });

/**
 * Hiring: for each ready task of a running job, ranks the subnet's miners (chain signals
 * blended with Orchestra's reputation of them), hires the best one not yet tried for this
 * step over its subnet's protocol (signed), hedges to the next-best when it is slow, and
 * publishes the first acceptable answer for the verifier — or, when nobody can be hired,
 * a result that says why. A cancelled job's hires are aborted at once.
 */
@Injectable()
export class DispatcherService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(DispatcherService.name);
  private readonly config: DispatcherConfig;
  private readonly policy: AddressPolicy;
  private readonly hedging: HedgePolicy;
  private readonly adapters = new Map<number, SubnetAdapter>();
  private readonly cancellations = new JobCancellations();
  private hotkey!: KeyringPair;
  private metagraphs!: ParsedJsonCache<z.infer<typeof MetagraphSchema>>;
  private jobs!: KV;
  private reputation!: ReputationBook;
  private ledger!: ReputationLedger;
  /** Calls running now per `<netuid>.<uid>`, for load-aware ranking. */
  private readonly inFlight = new Map<string, number>();
  /** Replies whose checks ran here and passed (not merely "could not run"): their results carry `prechecked`. */
  private readonly passedChecks = new WeakSet<MinerReply>();
  private cancelSubscription?: Subscription;

  constructor(
    private readonly bus: Bus,
    @Optional() @Inject(DISPATCHER_CONFIG) config?: DispatcherConfig,
  ) {
    this.config = config ?? dispatcherConfig(dispatcherSettings({}), bus.limits);
    this.policy = new AddressPolicy({ allow: this.config.allowAddresses });
    this.hedging = new HedgePolicy(this.config.hedge);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.hotkey = await loadHotkey(this.config.hotkey);
    this.metagraphs = new ParsedJsonCache(await this.bus.kv(Buckets.metagraph), MetagraphSchema);
    // Leader reads: a lagging replica may not have the record of a job the planner just started.
    this.jobs = await this.bus.kv(Buckets.jobs, 'leader');
    this.reputation = new ReputationBook(await this.bus.kv(Buckets.reputation), this.config.reputation.cacheMs);
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
    try {
      // Both reads at once: one round trip on the way to the hire instead of two.
      const [job, metagraph] = await Promise.all([readJson(this.jobs, jobId, JobViewSchema), this.metagraphs.read(metagraphKey(task.netuid))]);
      // A task exists only for a job the planner recorded: no record means we read too early, not "over".
      if (!job) throw new RetryableError(`job ${jobId} has no record yet; retrying`);
      if (job.status !== 'running') {
        dropped.inc({ reason: 'job_not_running' });
        this.logger.log({ msg: 'not hiring: job is not running', jobId, stepId: task.stepId, status: job.status });
        return;
      }
      if (!metagraph && deliveryCount < METAGRAPH_PATIENCE) {
        throw new RetryableError(`no metagraph for SN${task.netuid} in KV yet (is metagraph-sync running?)`);
      }
      const reputation = await this.reputation.forCandidates(task.netuid, task.capability, metagraph?.neurons.map((n) => n.uid) ?? []);
      const ranking = metagraph
        ? rankCandidates(metagraph, {
            excludeUids: task.excludeUids,
            selfHotkey: this.hotkey.address,
            addressAllowed: (ip) => this.allowed(ip),
            reputation: { of: (uid) => reputation.get(uid), weight: this.config.reputation.weight, halfLifeMs: this.config.reputation.halfLifeMs, now: new Date() },
            load: (uid) => this.inFlight.get(`${task.netuid}.${uid}`) ?? 0,
            preferUid: task.preferUid,
          })
        : undefined;
      // Parallel attempts of a quorum step each skip the UIDs their siblings take.
      const candidates = ranking?.candidates.slice(task.rankOffset) ?? [];
      const best = candidates[0];
      if (!ranking || !best) {
        const siblings = task.rankOffset ? `, ${Math.min(task.rankOffset, ranking?.candidates.length ?? 0)} left to parallel attempts` : '';
        const why = ranking
          ? `no eligible UID on SN${task.netuid}: ${metagraph?.neurons.length} neurons, ${ranking.excluded.alreadyTried} already tried, ${ranking.excluded.noAxon} serving no axon, ${ranking.excluded.refusedAddress} at refused addresses${siblings}`
          : `no metagraph for SN${task.netuid} (metagraph-sync has not written one)`;
        return this.publishNobody(jobId, { ...task, input: wireInput }, why);
      }

      const hedge = this.hedging.plan(task.netuid, task.capability);
      // The job's call budget counts hedges; the planner enforces it, this keeps hedges within it.
      const callsLeft = job.limits.maxMinerCalls - minerCallsOf(job.steps);
      const maxCalls = hedge.enabled ? Math.max(1, Math.min(1 + this.config.hedge.maxExtraCalls, callsLeft)) : 1;
      await this.announce(jobId, task, best, `hired uid ${best.neuron.uid}`, 'step.hired');

      let outcome: HedgeOutcome<Candidate>;
      try {
        outcome = await hedgedHire({
          candidates,
          maxCalls,
          delayMs: hedge.delayMs,
          signal: ticket.signal,
          call: (c, signal, index) => this.hire(jobId, task, c, signal, index),
          accept: (reply) => this.passesChecks(task, reply),
          onHedge: (c) => {
            hedgedCalls.inc({ netuid: String(task.netuid), capability: task.capability });
            this.announce(jobId, task, c, `no acceptable answer after ${Math.round(hedge.delayMs)} ms (${hedge.basis}); hedging: also hired uid ${c.neuron.uid}`, 'hedge').catch(
              (err: unknown) => this.logger.warn({ msg: 'could not announce a hedge', jobId, err }),
            );
          },
        });
      } catch (error) {
        if ((error as { retryable?: boolean }).retryable !== false) throw error;
        // Our own configuration or planning mistake (no adapter for this capability on this
        // subnet, input of the wrong shape): no other miner can fix it, so nobody is hireable.
        return this.publishNobody(jobId, { ...task, input: wireInput }, `cannot hire for ${task.capability} on SN${task.netuid}: ${(error as Error).message}`);
      }
      if (outcome.cancelled || !outcome.chosen?.reply) {
        dropped.inc({ reason: 'cancelled' });
        // Nothing learnt about the miners: they were cut off for our reasons, not theirs.
        this.logger.log({ msg: 'hire aborted: job cancelled', jobId, stepId: task.stepId, calls: outcome.calls.length });
        return;
      }
      const chosen = outcome.chosen;
      const reply = chosen.reply as MinerReply;
      const { neuron } = chosen.candidate;
      // The event first, so a reader sees "answered" before the verifier's verdict on it.
      await this.bus.publish(Subjects.jobEvents(jobId), jobEvent(jobId, answeredEvent(task, neuron.uid, reply, outcome)));
      const answeredCalls = outcome.calls.filter((c) => c.reply?.ok).length;
      // The result carries the task's input as it came (a reference stays a reference).
      const wireTask = { ...task, input: wireInput };
      await this.publishResult(
        jobId,
        wireTask,
        this.carriable(wireTask, {
          uid: neuron.uid,
          hotkey: neuron.hotkey,
          coldkey: neuron.coldkey,
          ok: reply.ok,
          statusCode: reply.statusCode,
          statusMessage: reply.statusMessage,
          fault: reply.fault,
          raw: reply.raw,
          // One parse per answer: the verifier reuses this verdict for exactly this text.
          prechecked: reply.raw !== undefined && this.passedChecks.has(reply) ? { sha256: answerDigest(reply.raw) } : undefined,
          latencyMs: outcome.elapsedMs,
          // Every answered call is paid for, the hedges' too.
          costTao: answeredCalls * this.config.hirePriceAlpha * (metagraph as NonNullable<typeof metagraph>).pool.price,
          hedgedUids: outcome.calls.filter((c) => c !== chosen).map((c) => c.candidate.neuron.uid),
        }),
      );
      this.record(task, outcome, chosen);
    } finally {
      ticket.release();
    }
  }

  /**
   * The verifier's own checks (shape and semantics), run here so that a hedge race is won
   * by an answer the verifier will accept, not merely the fastest one. A check that cannot
   * run (e.g. no python3 here) does not decide the race: the verifier has the last word.
   * A pass is remembered so the verifier need not repeat the expensive part (the Python parse).
   */
  private async passesChecks(task: Task, reply: MinerReply): Promise<boolean> {
    if (reply.raw === undefined) return false;
    try {
      const ok = (await verifyOutput(task.schemaId, reply.raw, task.input)).ok;
      if (ok) this.passedChecks.add(reply);
      return ok;
    } catch {
      return true;
    }
  }

  /** One call to one miner (`hedge` 0 is the primary) in its CLIENT span, whose attributes say who was called and how it ended. */
  private async hire(jobId: string, task: Task, candidate: Candidate, signal: AbortSignal, hedge: number): Promise<MinerReply> {
    const { neuron } = candidate;
    const attributes = {
      jobId,
      stepId: task.stepId,
      'orchestra.uid': neuron.uid,
      'orchestra.attempt': task.attempt,
      'orchestra.hedge': hedge > 0,
      'orchestra.hedge_index': hedge,
      'server.address': neuron.axon.ip,
      'server.port': neuron.axon.port,
    };
    const target = { provider: 'axon', netuid: task.netuid, capability: task.capability };
    return withCallSpan(
      `hire SN${task.netuid}`,
      target,
      attributes,
      async () => {
        const reply = await this.callMiner(task, candidate, signal);
        // Aborted by us (another call won, or a cancellation) is not the miner's outcome.
        return { outcome: signal.aborted ? 'aborted' : reply.ok ? 'ok' : String(reply.statusCode), value: reply };
      },
      // Adapters end an aborted call by throwing the abort: ours, not an error of the call.
      () => (signal.aborted ? 'aborted' : 'error'),
    );
  }

  /**
   * One call to one miner. Adapters turn miner faults into failed replies; should one still
   * throw something that is not our own error, it was provoked by the miner's answer, and
   * becomes that miner's failed reply here too: a rethrow would fail the task for everyone.
   */
  private async callMiner(task: Task, candidate: Candidate, signal: AbortSignal): Promise<MinerReply> {
    const { neuron } = candidate;
    const key = `${task.netuid}.${neuron.uid}`;
    const target = { netuid: task.netuid, uid: neuron.uid, hotkey: neuron.hotkey, ip: neuron.axon.ip, port: neuron.axon.port };
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    const started = performance.now();
    let reply: MinerReply;
    try {
      reply = await this.adapterFor(task.netuid).hire(target, {
        capability: task.capability as Capability,
        input: task.input,
        feedback: task.feedback,
        timeoutMs: this.config.timeoutMs,
        signal,
      });
    } catch (error) {
      reply = minerFaultReply(error, target, {
        route: task.capability,
        timeoutMs: this.config.timeoutMs,
        latencyMs: performance.now() - started,
        textLimitChars: this.config.limits.textLimitChars,
      });
    } finally {
      this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
    }
    return reply;
  }

  /**
   * Reputation and hedge-delay evidence from every call of the attempt. The chosen call's
   * verdict is the verifier's to record; the others' answers were judged here, so here.
   */
  private record(task: Task, outcome: HedgeOutcome<Candidate>, chosen: HedgeCall<Candidate>): void {
    for (const call of outcome.calls) {
      const put = (obs: ReputationObservation) => this.ledger.record(task.netuid, call.candidate.neuron.uid, task.capability, obs);
      if (call.aborted) {
        put({ kind: 'aborted', latencyMs: call.elapsedMs });
        continue;
      }
      const reply = call.reply as MinerReply;
      if (call.acceptable) this.hedging.observe(task.netuid, task.capability, reply.latencyMs);
      put({ kind: 'call', answered: reply.ok, latencyMs: reply.latencyMs });
      if (reply.ok && call !== chosen) put({ kind: 'verdict', verdict: call.acceptable ? 'accepted' : 'schema' });
    }
  }

  /** A progress event about a hire; hedges get their own message id, or the stream would drop them as duplicates of the first hire. */
  private async announce(jobId: string, task: Task, c: Candidate, what: string, kind: 'step.hired' | 'hedge'): Promise<void> {
    const { neuron } = c;
    const payload = {
      event: 'step.hired' as const,
      service: 'dispatcher',
      stepId: task.stepId,
      attempt: task.attempt,
      uid: neuron.uid,
      message: `step ${task.stepId}: ${what} on SN${task.netuid} (score ${c.score.toFixed(3)}: chain ${c.chainScore.toFixed(3)}, reputation ${c.quality.toFixed(3)}; ${neuron.axon.ip}:${neuron.axon.port})`,
      data: { hotkey: neuron.hotkey, score: c.score, chainScore: c.chainScore, reputation: c.quality, hedge: kind === 'hedge' },
    };
    const event = kind === 'hedge' ? envelope(JobEvent, jobId, payload, ['step.hired', task.stepId, task.attempt, 'hedge', neuron.uid]) : jobEvent(jobId, payload);
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
    this.logger.warn({ msg: 'answer too large to carry; rejected as too_large', stepId: task.stepId, uid: outcome.uid, bytes, budget });
    return {
      ...outcome,
      ok: false,
      raw: undefined,
      fault: 'too_large',
      statusMessage: `answer of ${answerBytes} bytes (as JSON) does not fit in one message with the task's input (${bytes} of at most ${budget} bytes)`,
    };
  }

  private publishNobody(jobId: string, task: Task, why: string): Promise<void> {
    return this.publishResult(jobId, task, { uid: null, hotkey: null, ok: false, statusCode: 0, statusMessage: why, latencyMs: 0, costTao: 0, hedgedUids: [] });
  }

  private async publishResult(jobId: string, task: Task, outcome: ResultOutcome): Promise<void> {
    const { stepId, attempt, capability, netuid, schemaId, input } = task;
    const result: Result = { stepId, attempt, capability, netuid, schemaId, input, ...outcome };
    await this.bus.publish(Subjects.taskResult, envelope(TaskResult, jobId, result, [task.stepId, task.attempt]));
  }

  private allowed(ip: string): boolean {
    try {
      this.policy.check(ip);
      return true;
    } catch {
      return false;
    }
  }

  private adapterFor(netuid: number): SubnetAdapter {
    let adapter = this.adapters.get(netuid);
    if (!adapter) {
      const protocol = this.config.protocols[netuid] ?? 'synapse';
      adapter = createSubnetAdapter(protocol, {
        hotkey: this.hotkey,
        addressPolicy: this.policy,
        maxResponseBytes: this.config.maxResponseBytes,
        textLimitChars: this.config.limits.textLimitChars,
        maxJsonDepth: this.config.limits.maxJsonDepth,
      });
      this.adapters.set(netuid, adapter);
    }
    return adapter;
  }
}

function answeredEvent(task: Task, uid: number, reply: MinerReply, outcome: HedgeOutcome<Candidate>) {
  const ms = Math.round(reply.latencyMs);
  const others = outcome.calls.length - 1;
  const hedged = others > 0 ? ` (first acceptable of ${outcome.calls.length} calls; ${others} other${others > 1 ? 's' : ''} aborted or failed)` : '';
  return {
    event: 'step.answered' as const,
    service: 'dispatcher',
    stepId: task.stepId,
    attempt: task.attempt,
    uid,
    message: reply.ok
      ? `step ${task.stepId}: uid ${uid} answered in ${ms} ms (${reply.responseBytes} bytes)${hedged}`
      : `step ${task.stepId}: uid ${uid} failed after ${ms} ms: ${reply.statusCode} ${reply.statusMessage}${hedged}`,
    data: { statusCode: reply.statusCode, latencyMs: ms, calls: outcome.calls.length },
  };
}
