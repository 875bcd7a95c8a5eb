import type { KeyringPair } from '@polkadot/keyring/types';
import type { AnalysisRequest, Capability, CodeRequest, FinancialsRequest } from '@orchestra/schemas';
import { performance } from 'node:perf_hooks';
import { Dendrite, DendriteResult, DEFAULT_MAX_RESPONSE_BYTES } from '../dendrite';
import { epistulaChat } from '../epistula';
import { AddressPolicy, failureFromError, RequestAbortedError } from '../net';
import { SynapseDefinition } from '../synapse';
import { DataAxonAdapter, dataAxonAdapters, DataUniverseOptions, DesearchAxonOptions } from './data-axons';
import { isDataCapability } from './data-query';
import { parseHireInput } from './hire-input';
import { buildStructuredMessages } from './sn1-prompt';
import { dataEntitiesToRaw, financialsToOnDemand, ON_DEMAND_REQUEST } from './sn13-on-demand';
import { CODE_GENERATION, codeGenerationToRaw } from './sn62-code-generation';
import { HireRequest, MinerReply, MinerTarget, SubnetAdapter, SubnetProtocol, UnsupportedCapabilityError, UnsupportedProtocolError, InvalidHireInputError } from './types';

/** Which protocol each subnet speaks (configuration; SN62's entry becomes 'platform' against Ridges). */
export const DEFAULT_SUBNET_PROTOCOLS: Readonly<Record<number, SubnetProtocol>> = Object.freeze({ 1: 'epistula', 13: 'synapse', 22: 'synapse', 62: 'synapse' });

/** The subnet each capability is hired on by default. */
export const DEFAULT_CAPABILITY_NETUIDS: Readonly<Record<Capability, number>> = Object.freeze({
  'data.financials': 13,
  'text.analysis': 1,
  'code.python': 62,
  'web.search': 22,
  'data.social': 13,
  'text.report': 1,
  'data.extract': 64,
});

/** What every adapter needs. */
export interface SubnetAdapterDeps {
  /** Orchestra's validator hotkey, which signs every request. */
  readonly hotkey: KeyringPair;
  readonly addressPolicy: AddressPolicy;
  /** Response cap per call (default DEFAULT_MAX_RESPONSE_BYTES). */
  readonly maxResponseBytes?: number;
  /** Longest status message kept from a miner, characters (default DEFAULT_LIMITS.textLimitChars). */
  readonly textLimitChars?: number;
  /** Deepest JSON accepted in a response (default DEFAULT_LIMITS.maxJsonDepth). */
  readonly maxJsonDepth?: number;
  /** Tuning of the data-subnet clients (SN13 index cache and request budgets, SN22 rate). */
  readonly dataAxons?: { readonly dataUniverse?: DataUniverseOptions; readonly desearch?: DesearchAxonOptions };
}

/**
 * Whether an error thrown while hiring is Orchestra's own (configuration, planning, or the
 * caller aborting), which may propagate. Anything else a hire throws was provoked by what a
 * miner sent, and becomes that miner's failed reply (minerFaultReply), never a rethrow.
 */
export function isOwnHireError(error: unknown): boolean {
  return error instanceof UnsupportedCapabilityError || error instanceof InvalidHireInputError || error instanceof UnsupportedProtocolError || error instanceof RequestAbortedError;
}

/**
 * The failed reply for an exception a miner's answer provoked (e.g. a value our decoding
 * cannot handle): a 422 "Failed to parse response object" with `fault: 'bad_response'`,
 * the message cut to `textLimitChars`. Rethrows the caller's own errors (isOwnHireError).
 */
export function minerFaultReply(
  error: unknown,
  target: MinerTarget,
  call: { route: string; timeoutMs: number; latencyMs: number; responseBytes?: number; textLimitChars?: number },
): MinerReply {
  if (isOwnHireError(error)) throw error;
  const failure = failureFromError(error, { ip: target.ip, port: target.port, route: call.route, timeoutMs: call.timeoutMs, textLimitChars: call.textLimitChars });
  return { ok: false, ...failure, latencyMs: call.latencyMs, responseBytes: call.responseBytes ?? 0 };
}

/** How a capability maps onto a synapse: request field values out, raw verifier text back. */
interface SynapseCodec {
  readonly definition: SynapseDefinition;
  /** One or more synapses to send (several when the protocol caps a list, e.g. SN13 keywords). */
  encode(input: unknown, feedback: readonly string[]): Record<string, unknown>[];
  /** Raw output from the successful responses, in request order. */
  decode(responses: readonly Readonly<Record<string, unknown>>[]): string;
}

const SYNAPSE_CODECS: Partial<Record<Capability, SynapseCodec>> = {
  'data.financials': {
    definition: ON_DEMAND_REQUEST,
    encode: (input) => financialsToOnDemand(input as FinancialsRequest).map((q) => ({ ...q })),
    decode: (responses) => dataEntitiesToRaw(responses.flatMap((r) => (Array.isArray(r.data) ? r.data : [r.data]))),
  },
  'code.python': {
    definition: CODE_GENERATION,
    encode: (input, feedback) => {
      const req = input as CodeRequest;
      return [{ task: req.task, rows: req.rows, feedback: [...feedback] }];
    },
    decode: (responses) => codeGenerationToRaw(responses[0]),
  },
};

/**
 * The synapse protocol (dendrite → axon): the data capabilities of SN13 and SN22 axons
 * (`data.social`, `web.search`: dataAxonAdapters, by the target's netuid), SN13 on-demand
 * data (OnDemandRequest, as the devnet still serves it), and the devnet's SN62 CodeGeneration.
 */
class SynapseAdapter implements SubnetAdapter {
  readonly protocol = 'synapse' as const;
  private readonly dendrite: Dendrite;
  private readonly dataAdapters: ReadonlyMap<number, DataAxonAdapter>;

  constructor(private readonly deps: SubnetAdapterDeps) {
    this.dendrite = new Dendrite({
      hotkey: deps.hotkey,
      addressPolicy: deps.addressPolicy,
      maxResponseBytes: deps.maxResponseBytes,
      textLimitChars: deps.textLimitChars,
      maxJsonDepth: deps.maxJsonDepth,
    });
    this.dataAdapters = dataAxonAdapters({ dendrite: this.dendrite, textLimitChars: deps.textLimitChars, maxJsonDepth: deps.maxJsonDepth }, deps.dataAxons);
  }

  async hire(target: MinerTarget, req: HireRequest): Promise<MinerReply> {
    if (isDataCapability(req.capability)) {
      const data = this.dataAdapters.get(target.netuid);
      if (!data?.capabilities.includes(req.capability)) throw new UnsupportedCapabilityError(this.protocol, `${req.capability} on netuid ${target.netuid}`);
      return data.hire(target, req);
    }
    const codec = SYNAPSE_CODECS[req.capability];
    if (!codec) throw new UnsupportedCapabilityError(this.protocol, req.capability);
    const input = parseHireInput(req.capability, req.input);
    const start = performance.now();
    const results = await Promise.all(
      codec.encode(input, req.feedback ?? []).map((values) => this.dendrite.call(target, codec.definition, values, { timeoutMs: req.timeoutMs, signal: req.signal })),
    );
    const latencyMs = performance.now() - start;
    const responseBytes = sum(results.map((r) => r.responseBytes));
    const processTimeMs = maxDefined(results.map((r) => r.processTimeMs));
    const failed: DendriteResult | undefined = results.find((r) => !r.ok);
    if (failed) return { ok: false, statusCode: failed.statusCode, statusMessage: failed.statusMessage, fault: failed.fault, latencyMs, processTimeMs, responseBytes };
    let raw: string;
    try {
      raw = codec.decode(results.map((r) => r.values));
    } catch (error) {
      // The values are the miner's: whatever they make decoding throw is the miner's fault.
      return minerFaultReply(error, target, { route: codec.definition.name, timeoutMs: req.timeoutMs, latencyMs, responseBytes, textLimitChars: this.deps.textLimitChars });
    }
    return { ok: true, statusCode: 200, statusMessage: 'Success', raw, latencyMs, processTimeMs, responseBytes };
  }
}

/** The epistula protocol (SN1): any structured capability as a JSON-only chat completion. */
class EpistulaAdapter implements SubnetAdapter {
  readonly protocol = 'epistula' as const;

  constructor(private readonly deps: SubnetAdapterDeps) {}

  async hire(target: MinerTarget, req: HireRequest): Promise<MinerReply> {
    if (req.capability !== 'text.analysis') throw new UnsupportedCapabilityError(this.protocol, req.capability);
    const input = parseHireInput<AnalysisRequest>(req.capability, req.input);
    const start = performance.now();
    const result = await epistulaChat(
      this.deps.addressPolicy,
      this.deps.hotkey,
      target,
      { messages: buildStructuredMessages(req.capability, input, req.feedback), task: 'InferenceTask' },
      { timeoutMs: req.timeoutMs, signal: req.signal, maxResponseBytes: this.deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, textLimitChars: this.deps.textLimitChars },
    );
    const latencyMs = performance.now() - start;
    const { ok, statusCode, statusMessage, fault, responseBytes } = result;
    return { ok, statusCode, statusMessage, fault, raw: ok ? result.content : undefined, latencyMs, responseBytes };
  }
}

/**
 * The adapter for a protocol. 'platform' (SN62 Ridges' central agent platform) is not implemented
 * yet and throws UnsupportedProtocolError.
 */
export function createSubnetAdapter(protocol: SubnetProtocol, deps: SubnetAdapterDeps): SubnetAdapter {
  switch (protocol) {
    case 'synapse':
      return new SynapseAdapter(deps);
    case 'epistula':
      return new EpistulaAdapter(deps);
    default:
      throw new UnsupportedProtocolError(protocol);
  }
}

/**
 * One adapter per protocol, looked up by netuid through a protocol table (default
 * DEFAULT_SUBNET_PROTOCOLS). Throws UnsupportedProtocolError for a netuid with no entry.
 */
export function subnetAdapterResolver(deps: SubnetAdapterDeps, table: Readonly<Record<number, SubnetProtocol>> = DEFAULT_SUBNET_PROTOCOLS): (netuid: number) => SubnetAdapter {
  const byProtocol = new Map<SubnetProtocol, SubnetAdapter>();
  return (netuid) => {
    const protocol = table[netuid];
    if (!protocol) throw new UnsupportedProtocolError(`(none configured for netuid ${netuid})`);
    let adapter = byProtocol.get(protocol);
    if (!adapter) byProtocol.set(protocol, (adapter = createSubnetAdapter(protocol, deps)));
    return adapter;
  };
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function maxDefined(xs: readonly (number | undefined)[]): number | undefined {
  const defined = xs.filter((x): x is number => x !== undefined);
  return defined.length ? Math.max(...defined) : undefined;
}
