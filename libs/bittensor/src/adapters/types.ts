import type { Capability } from '@orchestra/schemas';
import type { CallFault } from '../net';
import type { DataCapability } from './data-query';
import { OrchestraError } from '@orchestra/contracts';

/** A miner to hire, as the dispatcher picked it from the metagraph. `ip` is the chain's literal IP. */
export interface MinerTarget {
  readonly netuid: number;
  readonly uid: number;
  readonly hotkey: string;
  readonly ip: string;
  readonly port: number;
}

/** One hire: a capability's input, and on a re-ask the verifier's complaints about the last answer. */
export interface HireRequest {
  /** A catalog capability, or a data capability served over data-subnet axons (`data.social`, `web.search`). */
  readonly capability: Capability | DataCapability;
  /** Must satisfy the capability's input schema (CAPABILITY_DEFINITIONS[capability].input). */
  readonly input: unknown;
  /** Validation errors of the previous answer, sent back so the miner can correct itself. */
  readonly feedback?: readonly string[];
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** What came back from a miner, before verification. */
export interface MinerReply {
  /** The call succeeded at the protocol level (status 200); says nothing about the output's validity. */
  readonly ok: boolean;
  /** SDK-style status: 200, or the dendrite's code for the fault (408 timeout, 503 unreachable, 422 unparseable…). */
  readonly statusCode: number;
  readonly statusMessage: string;
  /** Set when !ok: the kind of fault. */
  readonly fault?: CallFault;
  /** Text output handed to the verifier when ok. */
  readonly raw?: string;
  /** Wall time of the hire on our side, ms. */
  readonly latencyMs: number;
  /** The miner's own reported processing time, ms, when the protocol carries it. */
  readonly processTimeMs?: number;
  readonly responseBytes: number;
}

/** How Orchestra talks to a subnet's miners. */
export type SubnetProtocol = 'synapse' | 'epistula' | 'platform';

/** One protocol's client. Never throws for miner faults: they become ok:false replies. */
export interface SubnetAdapter {
  readonly protocol: SubnetProtocol;
  /**
   * Hires one miner once. Throws only for our own mistakes (UnsupportedCapabilityError,
   * InvalidHireInputError) and RequestAbortedError when `req.signal` aborts.
   */
  hire(target: MinerTarget, req: HireRequest): Promise<MinerReply>;
}

/** The adapter cannot serve this capability: a configuration error (wrong protocol for the netuid). */
export class UnsupportedCapabilityError extends OrchestraError {
  override readonly name = 'UnsupportedCapabilityError';
  readonly retryable = false;
  constructor(
    readonly protocol: SubnetProtocol,
    readonly capability: string,
  ) {
    super(`the ${protocol} adapter has no mapping for capability ${capability}`);
  }
}

/** The hire input does not satisfy the capability's input schema: a planning bug, not a miner fault. */
export class InvalidHireInputError extends OrchestraError {
  override readonly name = 'InvalidHireInputError';
  readonly retryable = false;
  constructor(
    readonly capability: string,
    readonly issues: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`input for ${capability} is invalid: ${issues.join('; ')}`, options);
  }
}

/** No adapter implements this protocol yet. */
export class UnsupportedProtocolError extends OrchestraError {
  override readonly name = 'UnsupportedProtocolError';
  readonly retryable = false;
  constructor(readonly protocol: string) {
    super(`no subnet adapter implements protocol "${protocol}"`);
  }
}
