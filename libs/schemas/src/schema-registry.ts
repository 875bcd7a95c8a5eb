import { z } from 'zod';
import { ALL_DEFINITIONS, SchemaId } from './registry';
import { ReportSchema } from './report';
import { OrchestraError, PLAN_SCHEMA_ID, PlanSchema } from '@orchestra/contracts';

const OUTPUT_SCHEMAS: ReadonlyMap<string, z.ZodType> = new Map<string, z.ZodType>([
  ...ALL_DEFINITIONS.map((d) => [d.outputSchemaId, d.output] as const),
  ['report@1', ReportSchema],
  // What a planning model answers: standardized like any answer, then held to the planner's structural checks.
  [PLAN_SCHEMA_ID, PlanSchema],
]);

/** Thrown for a schema id nobody registered: a planning or configuration error, never retryable. */
export class UnknownSchemaError extends OrchestraError {
  override readonly name = 'UnknownSchemaError';
  readonly retryable = false;
  constructor(readonly schemaId: string) {
    super(`unknown schema id "${schemaId}"; known: ${[...OUTPUT_SCHEMAS.keys()].join(', ')}`);
  }
}

/** Every registered output schema id. */
export function schemaIds(): SchemaId[] {
  return [...OUTPUT_SCHEMAS.keys()] as SchemaId[];
}

/** The zod schema for an id; throws UnknownSchemaError. */
export function outputSchema(schemaId: string): z.ZodType {
  const schema = OUTPUT_SCHEMAS.get(schemaId);
  if (!schema) throw new UnknownSchemaError(schemaId);
  return schema;
}

/** The JSON Schema (draft 2020-12) export of a registered schema, with its id. */
export function jsonSchema(schemaId: string): Record<string, unknown> {
  return { $id: `https://orchestra.dev/schemas/${schemaId}`, ...z.toJSONSchema(outputSchema(schemaId)) };
}
