import { Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { Buckets, MetagraphSchema, Subjects, TaskReady, TaskResult, envelope, jobEvent, metagraphKey } from '@orchestra/contracts';
import { AddressPolicy, KeyringPair, MinerReply, SubnetAdapter, createSubnetAdapter, loadHotkey } from '@orchestra/bittensor';
import { Bus, InboundMessage, RetryableError, readJson } from '@orchestra/bus';
import { counter, histogram } from '@orchestra/service';
import { Capability } from '@orchestra/schemas';
import { KV } from '@nats-io/kv';
import { z } from 'zod';
import { DispatcherConfig, dispatcherConfig } from './dispatcher.config';
import { rankCandidates } from './ranking';

type Task = z.infer<typeof TaskReady.payload>;
type Result = z.infer<typeof TaskResult.payload>;

const hires = counter<'netuid' | 'outcome'>({
  name: 'dispatcher_hires_total',
  help: 'Miner calls, by subnet and outcome (ok, or the status code)',
  labelNames: ['netuid', 'outcome'],
});
const hireSeconds = histogram<'netuid'>({
  name: 'dispatcher_hire_seconds',
  help: 'Time from request to a miner answer',
  labelNames: ['netuid'],
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20],
});

/** Deliveries to wait for metagraph-sync before declaring a subnet empty. */
const METAGRAPH_PATIENCE = 3;

/**
 * Hiring: for each ready task, ranks the subnet's miners from the metagraph, hires the
 * best one not yet tried for this step over its subnet's protocol (signed), and
 * publishes what it answered for the verifier — or, when nobody can be hired, a result
 * that says why.
 */
@Injectable()
export class DispatcherService implements OnApplicationBootstrap {
  private readonly config: DispatcherConfig = dispatcherConfig();
  private readonly policy = new AddressPolicy({ allow: this.config.allowAddresses });
  private readonly adapters = new Map<number, SubnetAdapter>();
  private hotkey!: KeyringPair;
  private metagraphs!: KV;

  constructor(private readonly bus: Bus) {}

  async onApplicationBootstrap(): Promise<void> {
    this.hotkey = await loadHotkey(this.config.hotkey);
    this.metagraphs = await this.bus.kv(Buckets.metagraph);
  }

  async handle(message: InboundMessage): Promise<void> {
    const { jobId, payload: task } = message.parse(TaskReady);
    const metagraph = await readJson(this.metagraphs, metagraphKey(task.netuid), MetagraphSchema);
    if (!metagraph && message.deliveryCount < METAGRAPH_PATIENCE) {
      throw new RetryableError(`no metagraph for SN${task.netuid} in KV yet (is metagraph-sync running?)`);
    }
    const ranking = metagraph
      ? rankCandidates(metagraph, { excludeUids: task.excludeUids, selfHotkey: this.hotkey.address, addressAllowed: (ip) => this.allowed(ip) })
      : undefined;
    const best = ranking?.candidates[0];
    if (!ranking || !best) {
      const why = ranking
        ? `no eligible UID on SN${task.netuid}: ${metagraph?.neurons.length} neurons, ${ranking.excluded.alreadyTried} already tried, ${ranking.excluded.noAxon} serving no axon, ${ranking.excluded.refusedAddress} at refused addresses`
        : `no metagraph for SN${task.netuid} (metagraph-sync has not written one)`;
      return this.publishResult(jobId, task, { uid: null, hotkey: null, ok: false, statusCode: 0, statusMessage: why, latencyMs: 0, costTao: 0 });
    }

    const { neuron } = best;
    await this.bus.publish(
      Subjects.jobEvents(jobId),
      jobEvent(jobId, {
        event: 'step.hired',
        service: 'dispatcher',
        stepId: task.stepId,
        attempt: task.attempt,
        uid: neuron.uid,
        message: `step ${task.stepId}: hired uid ${neuron.uid} on SN${task.netuid} (score ${best.score.toFixed(3)}, ${neuron.axon.ip}:${neuron.axon.port})`,
        data: { hotkey: neuron.hotkey, score: best.score },
      }),
    );
    let reply: MinerReply;
    try {
      reply = await this.adapterFor(task.netuid).hire(
        { netuid: task.netuid, uid: neuron.uid, hotkey: neuron.hotkey, ip: neuron.axon.ip, port: neuron.axon.port },
        { capability: task.capability as Capability, input: task.input, feedback: task.feedback, timeoutMs: this.config.timeoutMs },
      );
    } catch (error) {
      if ((error as { retryable?: boolean }).retryable !== false) throw error;
      // Our own configuration or planning mistake (no adapter for this capability on this
      // subnet, input of the wrong shape): no other miner can fix it, so nobody is hireable.
      const why = `cannot hire for ${task.capability} on SN${task.netuid}: ${(error as Error).message}`;
      return this.publishResult(jobId, task, { uid: null, hotkey: null, ok: false, statusCode: 0, statusMessage: why, latencyMs: 0, costTao: 0 });
    }
    hires.inc({ netuid: String(task.netuid), outcome: reply.ok ? 'ok' : String(reply.statusCode) });
    hireSeconds.observe({ netuid: String(task.netuid) }, reply.latencyMs / 1_000);
    // The event first, so a reader sees "answered" before the verifier's verdict on it.
    await this.bus.publish(Subjects.jobEvents(jobId), jobEvent(jobId, answeredEvent(task, neuron.uid, reply)));
    await this.publishResult(jobId, task, {
      uid: neuron.uid,
      hotkey: neuron.hotkey,
      ok: reply.ok,
      statusCode: reply.statusCode,
      statusMessage: reply.statusMessage,
      raw: reply.raw,
      latencyMs: reply.latencyMs,
      costTao: reply.ok ? this.config.hirePriceAlpha * metagraph!.pool.price : 0,
    });
  }

  private async publishResult(jobId: string, task: Task, outcome: Omit<Result, 'stepId' | 'attempt' | 'capability' | 'netuid' | 'schemaId' | 'input'>): Promise<void> {
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
      adapter = createSubnetAdapter(protocol, { hotkey: this.hotkey, addressPolicy: this.policy, maxResponseBytes: this.config.maxResponseBytes });
      this.adapters.set(netuid, adapter);
    }
    return adapter;
  }
}

function answeredEvent(task: Task, uid: number, reply: MinerReply) {
  const ms = Math.round(reply.latencyMs);
  return {
    event: 'step.answered' as const,
    service: 'dispatcher',
    stepId: task.stepId,
    attempt: task.attempt,
    uid,
    message: reply.ok
      ? `step ${task.stepId}: uid ${uid} answered in ${ms} ms (${reply.responseBytes} bytes)`
      : `step ${task.stepId}: uid ${uid} failed after ${ms} ms: ${reply.statusCode} ${reply.statusMessage}`,
    data: { statusCode: reply.statusCode, latencyMs: ms },
  };
}
