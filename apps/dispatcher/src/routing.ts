import { GATEWAY_NETUIDS, PROVIDER_IDS, SourceProviderId } from '@orchestra/contracts';
import { CAPABILITY_DEFINITIONS, definitionOfSchema, isCapability } from '@orchestra/schemas';

/**
 * Which providers may serve a task, in order of preference: the capability's own list
 * (CapabilityDefinition.providers) unless the deployment overrides it
 * (ORCH_CAPABILITY_PROVIDERS), narrowed to the step's subnet when the plan pinned one.
 */

/** One provider a task may be bought from, and the subnet that purchase is recorded under. */
export interface Route {
  readonly provider: SourceProviderId;
  readonly netuid: number;
}

/** The subnet a provider's sources sell on: a gateway's own, or the step's for miner axons. */
export function netuidOf(provider: SourceProviderId, stepNetuid: number): number {
  return provider === 'axon' ? stepNetuid : GATEWAY_NETUIDS[provider];
}

/**
 * The routes of a task. `overrides`: ORCH_CAPABILITY_PROVIDERS. Otherwise the providers of the
 * version the task runs under (its schemaId): data.financials@1 (figures fetched by entity) is
 * sold by SN13's miners, @2 (figures read from the client's documents) by the LLM gateway; the
 * capability's current version only when the schema is unknown. A pinned netuid keeps only the
 * providers that sell on it (axon always does: its sources are that subnet's miners).
 */
export function routesFor(
  task: { capability: string; netuid: number; schemaId?: string; netuidPinned?: boolean },
  overrides: Readonly<Record<string, readonly SourceProviderId[]>>,
): Route[] {
  const version = task.schemaId === undefined ? undefined : definitionOfSchema(task.schemaId);
  const providers =
    overrides[task.capability] ??
    (version?.capability === task.capability ? version.providers : isCapability(task.capability) ? CAPABILITY_DEFINITIONS[task.capability].providers : ['axon']);
  return providers.map((provider) => ({ provider, netuid: netuidOf(provider, task.netuid) })).filter((r) => !task.netuidPinned || r.netuid === task.netuid);
}

/**
 * `ORCH_CAPABILITY_PROVIDERS`: `text.analysis=chutes,axon;code.python=chutes`. A string says
 * what is wrong with it.
 */
export function parseCapabilityProviders(spec: string): Record<string, SourceProviderId[]> | string {
  const out: Record<string, SourceProviderId[]> = {};
  for (const item of spec
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [capability, list] = item.split('=').map((s) => s.trim());
    const providers = (list ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const unknown = providers.filter((p) => !(PROVIDER_IDS as readonly string[]).includes(p));
    if (!capability || providers.length === 0 || unknown.length > 0) {
      return `ORCH_CAPABILITY_PROVIDERS: ${JSON.stringify(item.slice(0, 120))} is not <capability>=<provider>,… with providers among ${PROVIDER_IDS.join(', ')} (e.g. text.analysis=chutes,axon;code.python=chutes)`;
    }
    if (!isCapability(capability))
      return `ORCH_CAPABILITY_PROVIDERS: unknown capability ${JSON.stringify(capability.slice(0, 80))} (known: ${Object.keys(CAPABILITY_DEFINITIONS).join(', ')})`;
    out[capability] = [...new Set(providers)] as SourceProviderId[];
  }
  return out;
}

/**
 * `ORCH_PROVIDER_SOURCES`: the only sources a gateway may be hired from, e.g.
 * `chutes=deepseek-ai/DeepSeek-V3-0324,Qwen/Qwen3-235B-A22B;desearch=web`. A gateway not named
 * offers every source it lists. A string says what is wrong with it.
 */
export function parseProviderSources(spec: string): Record<string, string[]> | string {
  const out: Record<string, string[]> = {};
  for (const item of spec
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const at = item.indexOf('=');
    const provider = item.slice(0, at).trim();
    const sources = item
      .slice(at + 1)
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (at < 0 || provider === 'axon' || !(PROVIDER_IDS as readonly string[]).includes(provider) || sources.length === 0) {
      return `ORCH_PROVIDER_SOURCES: ${JSON.stringify(item.slice(0, 120))} is not <gateway>=<source>,… with a gateway among chutes, desearch, constellation (e.g. chutes=deepseek-ai/DeepSeek-V3-0324)`;
    }
    out[provider] = sources;
  }
  return out;
}
