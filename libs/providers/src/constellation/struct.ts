import { OrchestraError } from '@orchestra/contracts';
/**
 * google.protobuf.Struct as @grpc/proto-loader presents it (`{ fields: { k: { stringValue } } }`,
 * with `kind` naming the set member when `oneofs` is on) to and from plain JSON. Depth-bounded
 * both ways: a Struct from a stranger can nest as deep as protobuf allows.
 */

export interface ProtoValue {
  readonly kind?: string;
  readonly nullValue?: unknown;
  readonly numberValue?: number;
  readonly stringValue?: string;
  readonly boolValue?: boolean;
  readonly structValue?: ProtoStruct;
  readonly listValue?: { readonly values?: readonly ProtoValue[] };
}
export interface ProtoStruct {
  readonly fields?: Readonly<Record<string, ProtoValue>>;
}

/** A Struct nested deeper than allowed. */
export class StructDepthError extends OrchestraError {
  override readonly name = 'StructDepthError';
  readonly retryable = false;
}

/** Plain JSON of a Struct. */
export function structToJson(struct: ProtoStruct | null | undefined, maxDepth: number): Record<string, unknown> {
  return fieldsToJson(struct, maxDepth, 1);
}

function fieldsToJson(struct: ProtoStruct | null | undefined, maxDepth: number, depth: number): Record<string, unknown> {
  if (depth > maxDepth) throw new StructDepthError(`Struct nested deeper than ${maxDepth} levels`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(struct?.fields ?? {})) out[key] = valueToJson(value, maxDepth, depth);
  return out;
}

function valueToJson(value: ProtoValue | null | undefined, maxDepth: number, depth: number): unknown {
  if (!value) return null;
  const kind = value.kind ?? (Object.keys(value).find((k) => k.endsWith('Value')) as string | undefined);
  switch (kind) {
    case 'stringValue':
      return value.stringValue ?? '';
    case 'numberValue':
      return value.numberValue ?? 0;
    case 'boolValue':
      return value.boolValue ?? false;
    case 'structValue':
      return fieldsToJson(value.structValue, maxDepth, depth + 1);
    case 'listValue':
      if (depth + 1 > maxDepth) throw new StructDepthError(`Struct nested deeper than ${maxDepth} levels`);
      return (value.listValue?.values ?? []).map((v) => valueToJson(v, maxDepth, depth + 1));
    default:
      return null;
  }
}

/** A Struct of plain JSON (non-JSON values such as undefined become null). */
export function jsonToStruct(json: Readonly<Record<string, unknown>>, maxDepth = 64): ProtoStruct {
  return { fields: Object.fromEntries(Object.entries(json).map(([k, v]) => [k, jsonToValue(v, maxDepth, 1)])) };
}

function jsonToValue(value: unknown, maxDepth: number, depth: number): ProtoValue {
  if (depth > maxDepth) throw new StructDepthError(`JSON nested deeper than ${maxDepth} levels`);
  if (value === null || value === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'string') return { stringValue: value };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'boolean') return { boolValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map((v) => jsonToValue(v, maxDepth, depth + 1)) } };
  if (typeof value === 'object') {
    return { structValue: { fields: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonToValue(v, maxDepth, depth + 1)])) } };
  }
  return { nullValue: 'NULL_VALUE' };
}
