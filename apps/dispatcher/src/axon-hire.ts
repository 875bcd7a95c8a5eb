import { Metagraph, MetagraphSchema, axonSource, metagraphKey, reputationKey, sourceKey } from '@orchestra/contracts';
import { AddressPolicy, KeyringPair, MinerReply, SubnetAdapter, createSubnetAdapter, minerFaultReply } from '@orchestra/bittensor';
import { ParsedJsonCache } from '@orchestra/bus';
import { withCallSpan } from '@orchestra/service';
import { Capability } from '@orchestra/schemas';
import { performance } from 'node:perf_hooks';
import type { z } from 'zod';
import type { DispatcherConfig } from './dispatcher.config';
import { Candidate, rankCandidates } from '@orchestra/bittensor';
import type { ReputationBook } from './reputation-book';
import type { NoSources, SourceCall, SourceCandidate, SourceReply, Task } from './source-call';

/** Deliveries to wait for metagraph-sync before declaring a subnet empty. */
const METAGRAPH_PATIENCE = 3;

/**
 * The metagraph record's word on whether our hotkey may query the subnet's axons (metagraph-sync
 * computes it as the subnet's blacklist does); absent from records that predate it.
 */
type AccessView = { readonly access?: { readonly eligible: boolean; readonly reason: string } };

/**
 * Hiring miner UIDs directly (the `axon` provider): the subnet's miners ranked from the metagraph
 * (chain incentive blended with reputation and load, ranking.ts), each called over its subnet's
 * protocol, signed with our hotkey. A UID's failures are failed replies, never thrown.
 */
export class AxonHire implements SourceCall {
  readonly provider = 'axon' as const;
  private readonly adapters = new Map<number, SubnetAdapter>();
  /** Calls running now per `<netuid>.<uid>`, for load-aware ranking. */
  private readonly inFlight = new Map<string, number>();
  /** What a call needs of each candidate handed out: its axon and the subnet's price. */
  private readonly hired = new WeakMap<SourceCandidate, { candidate: Candidate; alphaPriceTao: number }>();

  constructor(
    private readonly config: DispatcherConfig,
    private readonly hotkey: KeyringPair,
    private readonly policy: AddressPolicy,
    private readonly metagraphs: ParsedJsonCache<z.infer<typeof MetagraphSchema>>,
    private readonly reputation: ReputationBook,
  ) {}

  async candidates(task: Task, netuid: number, deliveryCount: number): Promise<NoSources> {
    const metagraph = await this.metagraphs.read(metagraphKey(netuid));
    if (!metagraph) {
      if (deliveryCount < METAGRAPH_PATIENCE) return { candidates: [], retryLater: `no metagraph for SN${netuid} in KV yet (is metagraph-sync running?)` };
      return { candidates: [], why: `axon: no metagraph for SN${netuid} (metagraph-sync has not written one)` };
    }
    const access = (metagraph as Metagraph & AccessView).access;
    if (access && !access.eligible) return { candidates: [], why: `axon: our hotkey may not query SN${netuid}'s miners (${access.reason})` };
    const reputation = await this.reputation.forCandidates(
      netuid,
      task.capability,
      metagraph.neurons.map((n) => n.uid),
    );
    const excluded = new Set(task.excludeSources ?? []);
    const ranking = rankCandidates(metagraph, {
      excludeUids: [...task.excludeUids, ...metagraph.neurons.filter((n) => excluded.has(sourceKey('axon', axonSource(n.uid)))).map((n) => n.uid)],
      selfHotkey: this.hotkey.address,
      addressAllowed: (ip) => this.allowed(ip),
      reputation: { of: (uid) => reputation.get(uid), weight: this.config.reputation.weight, halfLifeMs: this.config.reputation.halfLifeMs, now: new Date() },
      load: (uid) => this.inFlight.get(`${netuid}.${uid}`) ?? 0,
      preferUid: task.preferUid,
    });
    const candidates = ranking.candidates.map((c): SourceCandidate => {
      const source = axonSource(c.neuron.uid);
      const out: SourceCandidate = {
        provider: 'axon',
        source,
        key: sourceKey('axon', source),
        netuid,
        reputationKey: reputationKey(netuid, c.neuron.uid, task.capability),
        score: c.score,
        quality: c.quality,
        basis: `score ${c.score.toFixed(3)}: chain ${c.chainScore.toFixed(3)}, reputation ${c.quality.toFixed(3)}`,
        miner: { uid: c.neuron.uid, hotkey: c.neuron.hotkey, coldkey: c.neuron.coldkey ?? null },
      };
      this.hired.set(out, { candidate: c, alphaPriceTao: metagraph.pool.price });
      return out;
    });
    const { excluded: x } = ranking;
    const why = `axon: no eligible UID on SN${netuid} (${metagraph.neurons.length} neurons, ${x.alreadyTried} already tried, ${x.noAxon} serving no axon, ${x.refusedAddress} at refused addresses)`;
    return candidates.length > 0 ? { candidates } : { candidates, why };
  }

  available(): boolean {
    return true;
  }

  /** One call to one miner in its CLIENT span, whose attributes say who was called and how it ended. */
  async call(task: Task, candidate: SourceCandidate, signal: AbortSignal, attributes: Readonly<Record<string, string | number | boolean>>): Promise<SourceReply> {
    const hired = this.hired.get(candidate);
    if (!hired) throw new Error(`axon hire: ${candidate.key} was not ranked by this hire (a bug)`);
    const { neuron } = hired.candidate;
    const reply = await withCallSpan(
      `hire SN${candidate.netuid}`,
      { provider: 'axon', netuid: candidate.netuid, capability: task.capability },
      { ...attributes, 'orchestra.uid': neuron.uid, 'orchestra.source': candidate.source, 'server.address': neuron.axon.ip, 'server.port': neuron.axon.port },
      async () => {
        const r = await this.callMiner(task, candidate.netuid, hired.candidate, signal);
        // Aborted by us (another call won, or a cancellation) is not the miner's outcome.
        return { outcome: signal.aborted ? 'aborted' : r.ok ? 'ok' : String(r.statusCode), value: r };
      },
      // Adapters end an aborted call by throwing the abort: ours, not an error of the call.
      () => (signal.aborted ? 'aborted' : 'error'),
    );
    // Every answered call is paid for, at the subnet's alpha price.
    const costTao = reply.ok ? this.config.hirePriceAlpha * hired.alphaPriceTao : 0;
    return {
      ok: reply.ok,
      statusCode: reply.statusCode,
      statusMessage: reply.statusMessage,
      fault: reply.fault,
      raw: reply.raw,
      latencyMs: reply.latencyMs,
      responseBytes: reply.responseBytes,
      costTao,
      costUsd: costTao * this.config.sourcing.taoUsdRate,
      // `rate_limited`: not sent, our per-hotkey budget with this miner is spent (SN13's hourly
      // limits): our restraint, not the miner's failure, so it costs no reputation and the
      // attempt moves to the next UID at once, as a gateway's 429 does.
      sourceEvidence: reply.fault !== 'rate_limited',
    };
  }

  /**
   * One call to one miner. Adapters turn miner faults into failed replies; should one still
   * throw something that is not our own error, it was provoked by the miner's answer, and
   * becomes that miner's failed reply here too: a rethrow would fail the task for everyone.
   */
  private async callMiner(task: Task, netuid: number, candidate: Candidate, signal: AbortSignal): Promise<MinerReply> {
    const { neuron } = candidate;
    const key = `${netuid}.${neuron.uid}`;
    const target = { netuid, uid: neuron.uid, hotkey: neuron.hotkey, ip: neuron.axon.ip, port: neuron.axon.port };
    this.inFlight.set(key, (this.inFlight.get(key) ?? 0) + 1);
    const started = performance.now();
    try {
      return await this.adapterFor(netuid).hire(target, {
        capability: task.capability as Capability,
        input: task.input,
        feedback: task.feedback,
        timeoutMs: this.config.timeoutMs,
        signal,
      });
    } catch (error) {
      return minerFaultReply(error, target, {
        route: task.capability,
        timeoutMs: this.config.timeoutMs,
        latencyMs: performance.now() - started,
        textLimitChars: this.config.limits.textLimitChars,
      });
    } finally {
      this.inFlight.set(key, (this.inFlight.get(key) ?? 1) - 1);
    }
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
