/**
 * Just enough JSON Schema (draft 2020-12, as `z.toJSONSchema` writes it) to check a plan's
 * references before anything is hired: follow a JSON pointer through a schema to the shape it
 * reaches, and make a placeholder value of a shape. Pure, and only ever given our own
 * capabilities' schemas (never a client's: those go to ajv).
 */

export type JsonSchema = Readonly<Record<string, unknown>>;

export type Walk = { readonly ok: true; readonly schema: JsonSchema } | { readonly ok: false; readonly reason: string };

/** Unescapes the segments of a JSON pointer (RFC 6901); `''` is the whole document. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * The shape `pointer` reaches in a value of `schema`, or why it reaches nothing: a property
 * the schema does not declare (naming those it does), an index into something not an array.
 * Where a schema is a union (`anyOf`/`oneOf`), the first branch that has the path wins.
 */
export function walkSchema(schema: JsonSchema, pointer: string): Walk {
  let at: JsonSchema = schema;
  const segments = pointerSegments(pointer);
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const rest = `/${segments.slice(i).join('/')}`;
    const branches = unionOf(at);
    if (branches) {
      for (const branch of branches) {
        const found = walkSchema(branch, rest);
        if (found.ok) return found;
      }
      return { ok: false, reason: `no alternative of the shape at ${at === schema ? 'the root' : rest} has ${rest}` };
    }
    const next = child(at, segment);
    if (!next) {
      const where = i === 0 ? 'the output' : `/${segments.slice(0, i).join('/')}`;
      const has = typesOf(at).includes('object')
        ? `; it has: ${Object.keys(properties(at)).join(', ') || 'no properties'}`
        : `; it is ${typesOf(at).join(' or ') || 'not a container'}`;
      return { ok: false, reason: `"${segment}" is not in ${where}${has}` };
    }
    at = next;
  }
  return { ok: true, schema: at };
}

/** The element shape of an array shape, or undefined when the shape is not (only) an array. */
export function itemsOf(schema: JsonSchema): JsonSchema | undefined {
  if (!typesOf(schema).includes('array')) return undefined;
  return isSchema(schema.items) ? schema.items : {};
}

/** An array of `items`. */
export function arrayOf(items: JsonSchema): JsonSchema {
  return { type: 'array', items };
}

/**
 * A value of the shape: each required property, one element per array, the first of an enum,
 * a string for a string. It has the right *types*; formats, lengths and patterns are not
 * honoured, so whoever validates it must judge only the types where it stands.
 */
export function placeholderOf(schema: JsonSchema, depth = 0): unknown {
  if (depth > 32) return null;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const branches = unionOf(schema);
  if (branches) return placeholderOf(branches.find((b) => !typesOf(b).includes('null')) ?? branches[0], depth + 1);
  const type = typesOf(schema).find((t) => t !== 'null') ?? typesOf(schema)[0];
  switch (type) {
    case 'object': {
      const props = properties(schema);
      const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
      return Object.fromEntries(required.filter((k) => isSchema(props[k])).map((k) => [k, placeholderOf(props[k] as JsonSchema, depth + 1)]));
    }
    case 'array':
      return [placeholderOf(itemsOf(schema) ?? {}, depth + 1)];
    case 'string':
      return 'x';
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 0;
    case 'boolean':
      return false;
    case 'null':
      return null;
    default:
      return null;
  }
}

function child(schema: JsonSchema, segment: string): JsonSchema | undefined {
  const types = typesOf(schema);
  if (types.includes('object')) {
    const props = properties(schema);
    if (Object.hasOwn(props, segment) && isSchema(props[segment])) return props[segment] as JsonSchema;
    if (isSchema(schema.additionalProperties)) return schema.additionalProperties;
    return undefined;
  }
  if (types.includes('array') && /^(0|[1-9]\d*)$/.test(segment)) return itemsOf(schema);
  return undefined;
}

function unionOf(schema: JsonSchema): JsonSchema[] | undefined {
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const list = schema[key];
    if (Array.isArray(list) && list.length > 0) return list.filter(isSchema);
  }
  return undefined;
}

function typesOf(schema: JsonSchema): string[] {
  const type = schema.type;
  if (typeof type === 'string') return [type];
  if (Array.isArray(type)) return type.filter((t): t is string => typeof t === 'string');
  if (isSchema(schema.properties)) return ['object'];
  if (schema.items !== undefined) return ['array'];
  return [];
}

function properties(schema: JsonSchema): Record<string, unknown> {
  return isSchema(schema.properties) ? (schema.properties as Record<string, unknown>) : {};
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
