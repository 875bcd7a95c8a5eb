import { Inject, Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, Optional } from '@nestjs/common';
import { Buckets, metagraphKey, type Metagraph, type SubnetAccess } from '@orchestra/contracts';
import { ChainReader, axonAccessRule, axonSubnets, hotkeyAddress, missingAlphaRao, quoteAt, subnetAccess } from '@orchestra/bittensor';
import { Bus } from '@orchestra/bus';
import { gauge, histogram } from '@orchestra/service';
import { KV } from '@nats-io/kv';
import type { AxonAccessSettings } from '@orchestra/bittensor';
import { ACCESS_SETTINGS, DEFAULT_ACCESS_SETTINGS, DEFAULT_SYNC_SETTINGS, SYNC_SETTINGS, SyncSettings } from './config';

const syncedBlock = gauge<'netuid'>({ name: 'metagraph_synced_block', help: 'Block of the last metagraph written, per subnet', labelNames: ['netuid'] });
const axonAccessGauge = gauge<'netuid'>({
  name: 'axon_access',
  help: "Whether our hotkey passes the subnet's axon blacklist (1) or not (0), for subnets with a known or configured threshold",
  labelNames: ['netuid'],
});
/** How long the TAO price of a subnet's missing stake is reused (it is a search over swap quotes). */
const PRICE_TTL_MS = 60_000;
const syncSeconds = histogram({ name: 'metagraph_sync_seconds', help: 'Time to read and write every watched subnet', buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30] });

/**
 * Keeps the metagraph KV current: reads each watched subnet's neurons, stakes and dTAO
 * pool price from a subtensor node (through its runtime APIs, as the Bittensor SDK does:
 * see ChainReader) every `minIntervalMs`, and writes one entry per subnet. Subnets are
 * read in parallel (one round trip of runtime calls each). A subnet that fails to read
 * keeps its last good entry and is retried on the next round; a lost node connection is
 * re-established on the next round.
 *
 * Each entry also says whether our hotkey may query the subnet's axons (`access`: permit and
 * stake against the subnet's blacklist, our alpha's value, the TAO that would buy the missing
 * stake — priced for the subnets with a known or configured threshold only, as each price is a
 * search over the chain's swap quotes).
 */
@Injectable()
export class MetagraphSyncService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(MetagraphSyncService.name);
  private reader?: ChainReader;
  private kv!: KV;
  private timer?: NodeJS.Timeout;
  private syncing?: Promise<void>;
  private stopped = false;
  private hotkey?: string;
  /** The last price of each subnet's missing stake, and the stake it was for. */
  private readonly prices = new Map<number, { at: number; missing: bigint; taoToReach?: number }>();
  /** Set after the first complete sync (readiness). */
  synced = false;
  /** Our access to each synced subnet's axons, as last read. */
  readonly access = new Map<number, SubnetAccess>();

  constructor(
    private readonly bus: Bus,
    @Optional() @Inject(SYNC_SETTINGS) private readonly config: SyncSettings = DEFAULT_SYNC_SETTINGS,
    @Optional() @Inject(ACCESS_SETTINGS) private readonly accessSettings: AxonAccessSettings = DEFAULT_ACCESS_SETTINGS,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.kv = await this.bus.kv(Buckets.metagraph);
    this.hotkey = await hotkeyAddress(this.accessSettings.hotkey);
    await this.round();
  }

  /**
   * `/readyz` detail per subnet with a known or configured axon threshold: whether its axons
   * would answer our hotkey, and why not. Axon access is optional (gateways serve without it),
   * so it never makes the service unready.
   */
  accessChecks(): Record<string, string> {
    const checks: Record<string, string> = {};
    for (const netuid of axonSubnets(this.accessSettings)) {
      const access = this.access.get(netuid);
      if (!access) continue;
      const stake = `stake ${Math.round(access.stakeAlpha + access.stakeTao)} of ${access.requiredStake}`;
      checks[`axon SN${netuid}`] = access.eligible ? `usable (UID ${access.uid}, ${stake})` : `off: ${access.reason}`;
    }
    return checks;
  }

  async onModuleDestroy(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.syncing;
    await this.reader?.close();
  }

  /** One sync, then the next is scheduled; failures are logged and retried. */
  private async round(): Promise<void> {
    this.syncing = this.syncOnce().catch(async (error) => {
      this.logger.warn({ msg: 'metagraph sync failed; retrying', url: this.config.url, err: error });
      await this.reader?.close().catch(() => undefined);
      this.reader = undefined;
    });
    await this.syncing;
    if (!this.stopped) this.timer = setTimeout(() => void this.round(), this.config.minIntervalMs);
  }

  private async syncOnce(): Promise<void> {
    this.reader ??= await ChainReader.connect(this.config.url);
    const started = process.hrtime.bigint();
    const reader = this.reader;
    const netuids = this.config.netuids ?? (await reader.listSubnets());
    // One block for every subnet of a round, so the KV never mixes two chain states in one sync.
    const at = (await reader.finalizedHead()).hash;
    const results = await Promise.allSettled(
      netuids.map(async (netuid) => {
        const metagraph = await this.withAccess(reader, await reader.readMetagraph(netuid, { at }), at);
        await this.kv.put(metagraphKey(netuid), JSON.stringify(metagraph));
        syncedBlock.set({ netuid: String(netuid) }, metagraph.block);
      }),
    );
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [{ netuid: netuids[i], err: String((r.reason as Error)?.message ?? r.reason) }] : []));
    syncSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    if (failed.length === netuids.length && failed.length > 0) throw (results[0] as PromiseRejectedResult).reason;
    if (failed.length > 0) {
      this.logger.warn({ msg: 'some subnets kept their last metagraph: reading them failed; retrying next round', failed, url: this.config.url });
      return;
    }
    if (!this.synced) this.logger.log({ msg: 'first metagraph sync done', netuids, url: this.config.url });
    this.synced = true;
  }

  private async withAccess(reader: ChainReader, metagraph: Metagraph, at: string): Promise<Metagraph> {
    const { netuid } = metagraph;
    const rule = axonAccessRule(netuid, this.accessSettings.requiredStake);
    const priced = axonSubnets(this.accessSettings).includes(netuid);
    // Pricing the missing stake is a search of a few dozen quotes: done at most once a
    // PRICE_TTL_MS per subnet, so a round is not slowed by it; meanwhile the last price holds
    // while the stake missing is the same.
    const last = this.prices.get(netuid);
    const reprice = priced && (!last || Date.now() - last.at >= PRICE_TTL_MS);
    let access = await subnetAccess(metagraph, this.hotkey as string, rule, reprice ? quoteAt(reader, netuid, { at }) : undefined);
    const missing = missingAlphaRao(access, rule);
    if (reprice) this.prices.set(netuid, { at: Date.now(), missing, taoToReach: access.taoToReach });
    else if (priced && last?.missing === missing && last.taoToReach !== undefined) access = { ...access, taoToReach: last.taoToReach };
    this.access.set(netuid, access);
    if (priced) axonAccessGauge.set({ netuid: String(netuid) }, access.eligible ? 1 : 0);
    return { ...metagraph, access };
  }
}
