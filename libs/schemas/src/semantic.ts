import { createHash } from 'node:crypto';
import type { SemanticCheck, VerifyOptions } from './check';
import { ALL_DEFINITIONS, SchemaId } from './registry';
import { standardize, Standardized } from './standardize';

export type { SemanticCheck, VerifyOptions } from './check';

/** The semantic check of each output schema that has one (each defined with its capability, registry.ts). */
export const SEMANTIC_CHECKS: Readonly<Partial<Record<SchemaId, SemanticCheck>>> = Object.fromEntries(
  ALL_DEFINITIONS.flatMap((d) => (d.check ? [[d.outputSchemaId, d.check] as const] : [])),
);

/**
 * standardize() then the schema's semantic check against the task's input: the whole verdict of
 * the JSON Standardization Layer in one call. A schema-valid answer that fails its check is
 * `{ ok: false, kind: 'semantic', errors }`. Throws UnverifiableError when a check cannot run.
 */
export async function verifyOutput<T = unknown>(schemaId: string, raw: string, input: unknown, options: VerifyOptions = {}): Promise<Standardized<T>> {
  const shaped = standardize<T>(schemaId, raw);
  const check = SEMANTIC_CHECKS[schemaId as SchemaId];
  if (!shaped.ok || !check) return shaped;
  const errors = await check(shaped.value, input, options);
  return errors.length ? { ok: false, kind: 'semantic', errors } : shaped;
}

/**
 * The digest a check verdict is tied to: SHA-256 (hex) of the raw answer's UTF-8. A verdict
 * carried from one service to another is reused only for the very text it was reached on, so
 * an answer changed on the way (cut to a size budget, say) is judged afresh.
 */
export function answerDigest(raw: string): string {
  return createHash('sha256').update(raw, 'utf8').digest('hex');
}
