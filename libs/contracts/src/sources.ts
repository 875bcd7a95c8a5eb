import { z } from 'zod';

/**
 * Where work is bought. A *provider* is a gateway (`chutes`, `desearch`, `constellation`) or
 * `axon` (direct dendrite calls to miner UIDs); a *source* is one competitor inside it: a model
 * id, an endpoint, a platform, or `uid<N>` for a miner. Exclusions, hedges, re-asks and
 * reputation are kept per source key, so one hire loop serves every provider.
 */
export const PROVIDER_IDS = ['axon', 'chutes', 'desearch', 'constellation'] as const;
export const ProviderIdSchema = z.enum(PROVIDER_IDS);
export type SourceProviderId = (typeof PROVIDER_IDS)[number];
export type GatewayId = Exclude<SourceProviderId, 'axon'>;

/** The subnet each gateway sells (the `netuid` its attempts are recorded under); axon sources are on the step's subnet. */
export const GATEWAY_NETUIDS: Readonly<Record<GatewayId, number>> = { chutes: 64, desearch: 22, constellation: 13 };

/** A source id as a job record shows it; bounded, since gateways name their own models. */
export const SourceIdSchema = z.string().min(1).max(300);

/** The source id of a miner UID: `uid7`. */
export function axonSource(uid: number): string {
  return `uid${uid}`;
}

/** The UID of an axon source id, or undefined for anything else. */
export function uidOfAxonSource(source: string): number | undefined {
  const m = /^uid(\d{1,5})$/.exec(source);
  return m ? Number(m[1]) : undefined;
}

/** The key a source is excluded, hedged and preferred by within a step: `<provider>:<source>`, e.g. `axon:uid7`, `chutes:deepseek-ai/DeepSeek-V3`. */
export function sourceKey(provider: SourceProviderId, source: string): string {
  return `${provider}:${source}`;
}

/**
 * The source key of what an attempt (or result) records: its provider and source, or — for
 * records written before sources existed — the UID it names (always an axon then). Undefined
 * when nobody was hired.
 */
export function sourceKeyOf(record: { provider?: SourceProviderId; source?: string | null; uid?: number | null }): string | undefined {
  if (record.source) return sourceKey(record.provider ?? 'axon', record.source);
  if (record.uid !== undefined && record.uid !== null) return sourceKey('axon', axonSource(record.uid));
  return undefined;
}

/**
 * A source id as one token of a KV key or NATS subject: `[A-Za-z0-9-]` kept, every other byte
 * (of its UTF-8) written `_xx` in hex — `_` included, so the encoding is reversible and two
 * sources never share a token. `deepseek-ai/DeepSeek-V3:free` → `deepseek-ai_2fDeepSeek-V3_3afree`.
 */
export function encodeSourceToken(source: string): string {
  let out = '';
  for (const byte of Buffer.from(source, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(c) ? c : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

/** The inverse of encodeSourceToken; undefined for a token it could not have produced. */
export function decodeSourceToken(token: string): string | undefined {
  if (!/^(?:[A-Za-z0-9-]|_[0-9a-f]{2})*$/.test(token)) return undefined;
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '_') {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  const text = Buffer.from(bytes).toString('utf8');
  return encodeSourceToken(text) === token ? text : undefined;
}
