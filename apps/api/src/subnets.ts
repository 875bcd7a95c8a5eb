import { Inject, Injectable } from '@nestjs/common';
import { Bus, DEFAULT_REPUTATION_SETTINGS, readJson } from '@orchestra/bus';
import { API_SETTINGS, type ApiSettings } from './settings';
import {
  Buckets,
  GATEWAY_NETUIDS,
  MetagraphSchema,
  ReputationSchema,
  decayReputation,
  decodeSourceToken,
  metagraphKey,
  reputationKey,
  sourceReputationKey,
  type GatewayId,
  type Metagraph,
  type Reputation,
  type SourceProviderId,
} from '@orchestra/contracts';
import { CAPABILITY_DEFINITIONS, type Capability } from '@orchestra/schemas';
import { z } from 'zod';

/**
 * `GET /v1/subnets`: for each capability, the providers it is bought from in order, and
 * each provider's best sources with what Orchestra knows of them — the chain's incentive
 * share for a subnet's miners (metagraph-sync's record), and Orchestra's own decayed record
 * of every source it has hired (reputation). Read-only and bounded: a subnet's top miners
 * by incentive, a gateway's most-judged sources.
 */

/** Sources shown per provider and capability. */
export const SUBNET_SOURCES_SHOWN = 10;
/** Reputation entries read at most per gateway and capability (a gateway may list hundreds of models). */
const GATEWAY_ENTRIES_READ = 64;

const ObservedSchema = z.object({
  /** Decayed counts (ORCH_REPUTATION_HALF_LIFE_MS): calls made, answered, answers judged and accepted. */
  calls: z.number(),
  answered: z.number(),
  judged: z.number(),
  accepted: z.number(),
  latencyMs: z.number().nullable(),
  updatedAt: z.iso.datetime(),
});

export const SubnetSourceSchema = z.object({
  /** `uid<N>` for a miner, the gateway's source id (a model, an endpoint) otherwise. */
  source: z.string(),
  /** A miner's incentive as a share of its subnet's best miner's, 0..1 (the chain's word on it). */
  incentiveShare: z.number().min(0).max(1).optional(),
  /** Orchestra's own record of this source at this capability; absent when never hired. */
  observed: ObservedSchema.optional(),
});

export const SubnetsViewSchema = z.object({
  capabilities: z.array(
    z.object({
      capability: z.string(),
      providers: z.array(
        z.object({
          provider: z.string(),
          netuid: z.number().int().nonnegative(),
          /** Miners only: whether our hotkey passes the subnet's blacklist, and why not (metagraph-sync). */
          access: z.object({ eligible: z.boolean(), reason: z.string() }).optional(),
          /** Miners only: the block of the metagraph read; absent when metagraph-sync has not written it. */
          block: z.number().int().optional(),
          sources: z.array(SubnetSourceSchema),
        }),
      ),
    }),
  ),
});
export type SubnetsView = z.infer<typeof SubnetsViewSchema>;
type SubnetSource = z.infer<typeof SubnetSourceSchema>;

function observed(rep: Reputation | undefined, now: Date, halfLifeMs: number): SubnetSource['observed'] {
  if (!rep) return undefined;
  const d = decayReputation(rep, now, halfLifeMs);
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return { calls: round(d.calls), answered: round(d.answered), judged: round(d.judged), accepted: round(d.accepted), latencyMs: d.latencyMs, updatedAt: rep.updatedAt };
}

/** A subnet's miners (no validator permit, no dividends, a served axon) by incentive, best first; ties to the lower UID. */
export function topMiners(metagraph: Metagraph, count: number): Array<{ uid: number; incentiveShare: number }> {
  const miners = metagraph.neurons.filter((n) => !n.validatorPermit && n.dividends === 0 && n.axon);
  const best = miners.reduce((max, n) => Math.max(max, n.incentive), 0);
  return miners
    .map((n) => ({ uid: n.uid, incentiveShare: best > 0 ? n.incentive / best : 0 }))
    .sort((a, b) => b.incentiveShare - a.incentiveShare || a.uid - b.uid)
    .slice(0, count);
}

/** Sources ordered by accepted answers (decayed), then by fewer failed calls: the record that has earned most trust first. */
export function byRecord(a: SubnetSource, b: SubnetSource): number {
  const score = (s: SubnetSource) => (s.observed ? s.observed.accepted - (s.observed.calls - s.observed.answered) : 0);
  return score(b) - score(a) || a.source.localeCompare(b.source);
}

@Injectable()
export class SubnetsService {
  private readonly halfLifeMs: number;

  constructor(
    private readonly bus: Bus,
    @Inject(API_SETTINGS) settings: ApiSettings,
  ) {
    this.halfLifeMs = (settings.reputation ?? DEFAULT_REPUTATION_SETTINGS).halfLifeMs;
  }

  async view(now = new Date()): Promise<SubnetsView> {
    const metagraphs = await this.bus.kv(Buckets.metagraph);
    const reputations = await this.bus.kv(Buckets.reputation);
    const metagraphOf = new Map<number, Promise<Metagraph | undefined>>();
    const capabilities = [];
    for (const [capability, definition] of Object.entries(CAPABILITY_DEFINITIONS) as Array<[Capability, (typeof CAPABILITY_DEFINITIONS)[Capability]]>) {
      const providers = [];
      for (const provider of definition.providers as readonly SourceProviderId[]) {
        if (provider === 'axon') {
          const netuid = definition.defaultNetuid;
          if (!metagraphOf.has(netuid)) metagraphOf.set(netuid, readJson(metagraphs, metagraphKey(netuid), MetagraphSchema));
          const metagraph = await metagraphOf.get(netuid);
          const sources = await Promise.all(
            (metagraph ? topMiners(metagraph, SUBNET_SOURCES_SHOWN) : []).map(async ({ uid, incentiveShare }) => ({
              source: `uid${uid}`,
              incentiveShare,
              ...optional('observed', observed(await readJson(reputations, reputationKey(netuid, uid, capability), ReputationSchema), now, this.halfLifeMs)),
            })),
          );
          providers.push({
            provider,
            netuid,
            ...(metagraph?.access ? { access: { eligible: metagraph.access.eligible, reason: metagraph.access.reason } } : {}),
            ...(metagraph ? { block: metagraph.block } : {}),
            sources,
          });
        } else {
          providers.push({ provider, netuid: GATEWAY_NETUIDS[provider], sources: await this.gatewaySources(reputations, provider, capability, now) });
        }
      }
      capabilities.push({ capability, providers });
    }
    return { capabilities };
  }

  /** A gateway's sources Orchestra has hired for `capability`, best record first. */
  private async gatewaySources(kv: Awaited<ReturnType<Bus['kv']>>, provider: GatewayId, capability: string, now: Date): Promise<SubnetSource[]> {
    // The key's last token is the capability's; its middle one the encoded source (sourceReputationKey).
    const suffix = sourceReputationKey(provider, 'x', capability).split('.').pop() as string;
    const keys: string[] = [];
    for await (const key of await kv.keys(`${provider}.*.${suffix}`)) {
      keys.push(key);
      if (keys.length >= GATEWAY_ENTRIES_READ) break;
    }
    const sources = await Promise.all(
      keys.map(async (key) => {
        const source = decodeSourceToken(key.split('.')[1]);
        const rep = await readJson(kv, key, ReputationSchema).catch(() => undefined);
        return source === undefined ? undefined : { source, ...optional('observed', observed(rep, now, this.halfLifeMs)) };
      }),
    );
    return sources
      .filter((s): s is SubnetSource => s !== undefined)
      .sort(byRecord)
      .slice(0, SUBNET_SOURCES_SHOWN);
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}
