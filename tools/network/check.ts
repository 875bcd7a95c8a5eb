import { ChainReader, axonAccessRule, axonAccessSettings, axonSubnets, chainSettings, hotkeyAddress, quoteAt, subnetAccess, type AxonAccessSettings } from '@orchestra/bittensor';
import { GATEWAY_NETUIDS, problemsOf, truncateText, type SubnetAccess } from '@orchestra/contracts';
import { createProviders, ProviderError, providersConfig, type Provider, type ProviderId } from '@orchestra/providers';
import { resolveEnvironment, type Env } from '@orchestra/service';

/**
 * What a configured network offers Orchestra, checked live: the chain (reachable, runtime, block),
 * our hotkey and its access to each subnet's axons (with the stake and money it rests on), and
 * each gateway's API key. `npm run network:check` prints it; `npm run subnets` prints the chain
 * part. The settings are the services' own (ORCH_NETWORK and the variables it defaults).
 */

/** The chain as reached. */
export interface ChainCheck {
  readonly url: string;
  readonly ok: boolean;
  readonly specName?: string;
  readonly specVersion?: number;
  readonly block?: number;
  readonly error?: string;
}

/** One subnet as read at the checked block. */
export interface SubnetRow {
  readonly netuid: number;
  readonly neurons?: number;
  /** TAO per alpha, as the chain quotes it. */
  readonly price?: number;
  readonly access?: SubnetAccess;
  readonly error?: string;
}

/**
 * A gateway's state: `ok` (the key was accepted), `off` (no key configured), `invalid_key` (401/403),
 * `no_credit` (402), `unreachable` (network, timeout, 5xx, 429), `failed` (anything else).
 */
export type GatewayStatus = 'ok' | 'off' | 'invalid_key' | 'no_credit' | 'unreachable' | 'failed';

export interface GatewayCheck {
  readonly provider: ProviderId;
  readonly netuid: number;
  readonly status: GatewayStatus;
  /** What was asked and what came back, in a line. */
  readonly detail: string;
  /** The sources the gateway listed (Chutes: its models). */
  readonly sources?: readonly string[];
}

export interface NetworkReport {
  /** ORCH_NETWORK, or `custom` when the variables are set one by one. */
  readonly network: string;
  /** Configuration problems: when any, nothing else was checked. */
  readonly problems: readonly string[];
  readonly chain?: ChainCheck;
  readonly hotkey?: { readonly address?: string; readonly error?: string };
  readonly subnets: readonly SubnetRow[];
  readonly gateways: readonly GatewayCheck[];
  /** What Orchestra could buy from: subnets whose axons answer us, gateways whose keys work. */
  readonly usable: { readonly axonSubnets: readonly number[]; readonly gateways: readonly ProviderId[] };
  readonly ok: boolean;
}

/** How to check. */
export interface CheckOptions {
  /** Budget of each network step (connect, a gateway call), ms. Default 15,000. */
  readonly timeoutMs?: number;
  /** Also check the gateways (`npm run subnets` does not). Default true. */
  readonly gateways?: boolean;
}

/** Subnets listed at most when ORCH_NETUIDS is unset (finney has 128+). */
const MAX_LISTED_SUBNETS = 256;

/** Checks the network `given` configures. Never throws for the network's faults: they are in the report. */
export async function checkNetwork(given: Env, options: CheckOptions = {}): Promise<NetworkReport> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const resolved = resolveEnvironment(given);
  const network = resolved.network ?? 'custom';
  const problems = [...resolved.problems];
  const chainParsed = chainSettings.safeParse(resolved.env);
  if (!chainParsed.success) problems.push(...chainParsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`));
  let access: AxonAccessSettings | undefined;
  try {
    access = axonAccessSettings(resolved.env);
  } catch (error) {
    problems.push(...(problemsOf(error) ?? [(error as Error).message]));
  }
  let providers: Provider[] = [];
  try {
    providers = options.gateways === false ? [] : createProviders(providersConfig(resolved.env));
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (problems.length > 0 || !chainParsed.success || !access) {
    return { network, problems, subnets: [], gateways: [], usable: { axonSubnets: [], gateways: [] }, ok: false };
  }
  try {
    const [chainPart, gateways] = await Promise.all([
      checkChain(chainParsed.data, access, timeoutMs),
      options.gateways === false ? Promise.resolve([]) : checkGateways(providers, timeoutMs),
    ]);
    const usable = {
      axonSubnets: chainPart.subnets.filter((s) => s.access?.eligible && axonSubnets(access).includes(s.netuid)).map((s) => s.netuid),
      gateways: gateways.filter((g) => g.status === 'ok').map((g) => g.provider),
    };
    const ok = chainPart.chain.ok && (usable.axonSubnets.length > 0 || usable.gateways.length > 0);
    return { network, problems, ...chainPart, gateways, usable, ok };
  } finally {
    for (const provider of providers) provider.close?.();
  }
}

async function checkChain(
  settings: { url: string; netuids?: number[] },
  access: AxonAccessSettings,
  timeoutMs: number,
): Promise<Pick<NetworkReport, 'chain' | 'hotkey' | 'subnets'> & { chain: ChainCheck }> {
  const hotkey: { address?: string; error?: string } = await hotkeyAddress(access.hotkey).then(
    (address) => ({ address }),
    (error: Error) => ({ error: error.message }),
  );
  const ours = hotkey.address;
  let reader: ChainReader;
  try {
    reader = await ChainReader.connect(settings.url, { connectTimeoutMs: timeoutMs, requestTimeoutMs: timeoutMs });
  } catch (error) {
    return { chain: { url: settings.url, ok: false, error: (error as Error).message }, hotkey, subnets: [] };
  }
  try {
    const head = await reader.finalizedHead();
    const chain: ChainCheck = { url: settings.url, ok: true, ...reader.runtimeVersion(), block: head.number };
    const netuids = settings.netuids ?? (await reader.listSubnets({ at: head.hash })).slice(0, MAX_LISTED_SUBNETS);
    const priced = axonSubnets(access);
    const subnets = await Promise.all(
      netuids.map(async (netuid): Promise<SubnetRow> => {
        try {
          const metagraph = await reader.readMetagraph(netuid, { at: head.hash });
          const row = { netuid, neurons: metagraph.neurons.length, price: metagraph.pool.price };
          if (!ours) return row;
          const quote = priced.includes(netuid) ? quoteAt(reader, netuid, { at: head.hash }) : undefined;
          return { ...row, access: await subnetAccess(metagraph, ours, axonAccessRule(netuid, access.requiredStake), quote) };
        } catch (error) {
          return { netuid, error: (error as Error).message };
        }
      }),
    );
    return { chain, hotkey, subnets };
  } catch (error) {
    return { chain: { url: settings.url, ok: false, error: (error as Error).message }, hotkey, subnets: [] };
  } finally {
    await reader.close();
  }
}

/**
 * The cheapest authenticated call each gateway has: Chutes lists its models (GET /v1/models, free);
 * Desearch and Constellation have no free authenticated endpoint we know of, so each is asked
 * for one result (a call billed at their smallest price).
 */
async function checkGateways(providers: readonly Provider[], timeoutMs: number): Promise<GatewayCheck[]> {
  const configured = new Map(providers.map((p) => [p.id, p]));
  return Promise.all(
    (Object.keys(GATEWAY_NETUIDS) as ProviderId[]).map(async (id): Promise<GatewayCheck> => {
      const netuid = GATEWAY_NETUIDS[id];
      const provider = configured.get(id);
      if (!provider) return { provider: id, netuid, status: 'off', detail: `no API key (ORCH_${id.toUpperCase()}_API_KEY or ORCH_${id.toUpperCase()}_API_KEY_FILE)` };
      const signal = AbortSignal.timeout(timeoutMs);
      try {
        if (id === 'chutes') {
          const sources = (await provider.listSources(signal)).map((s) => s.id);
          return { provider: id, netuid, status: 'ok', detail: `GET /v1/models: ${sources.length} models`, sources };
        }
        const call =
          id === 'desearch'
            ? { capability: 'web.search', source: 'web', input: { query: 'bittensor', count: 10 } }
            : { capability: 'data.social', source: 'x', input: { keywords: ['bittensor'], limit: 1 } };
        const answer = await provider.call({ ...call, timeoutMs, signal });
        const sources = (await provider.listSources(signal)).map((s) => s.id);
        return {
          provider: id,
          netuid,
          status: 'ok',
          detail: `${call.capability} from ${call.source}: answered (${answer.usage.items ?? 0} items, $${answer.cost.usd.toFixed(4)})`,
          sources,
        };
      } catch (error) {
        return { provider: id, netuid, ...gatewayFailure(error) };
      }
    }),
  );
}

function gatewayFailure(error: unknown): { status: GatewayStatus; detail: string } {
  const message = truncateText(error instanceof Error ? error.message : String(error), 300);
  if (!(error instanceof ProviderError)) return { status: 'failed', detail: message };
  if (error.fault === 'auth') return { status: 'invalid_key', detail: `the API key was refused: ${message}` };
  if (error.fault === 'payment') return { status: 'no_credit', detail: `the key works but the account has no credit: ${message}` };
  if (['network', 'timeout', 'unavailable', 'rate_limited'].includes(error.fault)) return { status: 'unreachable', detail: message };
  return { status: 'failed', detail: message };
}

const tao = (n: number | undefined) => (n === undefined ? '-' : n.toLocaleString('en-US', { maximumFractionDigits: 3 }));

/** One line per subnet: netuid, size, price, our UID, permit, stake against the threshold, access. */
export function formatSubnets(report: Pick<NetworkReport, 'subnets'>): string[] {
  const lines = ['  subnet  neurons  price(TAO)  our uid  permit  stake / required      alpha value  to reach (TAO)  axon access'];
  for (const s of report.subnets) {
    if (s.error) {
      lines.push(`  SN${String(s.netuid).padEnd(5)} unreadable: ${s.error}`);
      continue;
    }
    const a = s.access;
    const stake = a ? `${tao(a.stakeAlpha + a.stakeTao)} / ${tao(a.requiredStake)}` : '-';
    lines.push(
      [
        `  SN${String(s.netuid).padEnd(5)}`,
        String(s.neurons ?? '-').padStart(7),
        tao(s.price).padStart(11),
        String(a?.uid ?? '-').padStart(8),
        (a?.validatorPermit ? 'yes' : 'no').padStart(7),
        `  ${stake.padEnd(20)}`,
        tao(a?.alphaValueTao).padStart(11),
        tao(a?.taoToReach).padStart(15),
        `  ${a ? (a.eligible ? 'usable' : `off: ${a.reason}`) : '-'}`,
      ].join(' '),
    );
  }
  return lines;
}

/** The report as an operator reads it. */
export function formatReport(report: NetworkReport): string {
  const lines = [`network ${report.network}`];
  if (report.problems.length > 0) {
    lines.push('configuration problems (nothing was checked):', ...report.problems.map((p) => `  - ${p}`));
    return lines.join('\n');
  }
  const { chain } = report;
  if (chain)
    lines.push(
      chain.ok
        ? `chain   ${chain.url}: reachable, ${chain.specName} spec ${chain.specVersion}, finalized block ${chain.block}`
        : `chain   ${chain.url}: UNREACHABLE: ${chain.error}`,
    );
  if (report.hotkey) lines.push(report.hotkey.address ? `hotkey  ${report.hotkey.address}` : `hotkey  unusable: ${report.hotkey.error}`);
  if (report.subnets.length > 0) lines.push('subnets', ...formatSubnets(report));
  if (report.gateways.length > 0) {
    lines.push('gateways');
    for (const g of report.gateways) {
      const listed = g.sources?.length ? `; sources: ${g.sources.slice(0, 8).join(', ')}${g.sources.length > 8 ? `, … (${g.sources.length})` : ''}` : '';
      lines.push(`  ${g.provider.padEnd(13)} SN${String(g.netuid).padEnd(4)} ${g.status.padEnd(11)} ${g.detail}${listed}`);
    }
  }
  const { axonSubnets: axons, gateways } = report.usable;
  if (report.ok) lines.push(`usable: ${[...axons.map((n) => `SN${n} axons`), ...gateways].join(', ')}`);
  else {
    const why = [
      report.chain?.ok ? 'no subnet axon would answer our hotkey' : 'the chain cannot be read',
      ...(report.gateways.length > 0 ? ['no gateway key works'] : ['gateways not checked']),
    ];
    lines.push(`NOTHING USABLE: ${why.join('; ')} (see above)`);
  }
  return lines.join('\n');
}
