import { MAX_CLIENT_SCHEMA_BYTES, compileClientSchema, conformsToClientSchema } from './client-schema';

describe("clients' JSON Schemas", () => {
  it('compiles a draft 2020-12 schema and judges values by it, saying where they fail', () => {
    const schema = {
      type: 'object',
      required: ['rows'],
      properties: { rows: { type: 'array', minItems: 1, items: { type: 'object', required: ['value'] } }, when: { type: 'string', format: 'date' } },
    };
    expect(compileClientSchema(schema).ok).toBe(true);
    expect(conformsToClientSchema(schema, { rows: [{ value: 1 }], when: '2026-01-01' })).toEqual({ ok: true });
    expect(conformsToClientSchema(schema, { rows: [{}] })).toEqual({ ok: false, errors: ["/rows/0: must have required property 'value'"] });
    expect(conformsToClientSchema(schema, { rows: [{ value: 1 }], when: 'yesterday' })).toEqual({ ok: false, errors: ['/when: must match format "date"'] });
  });

  it('refuses what is not a schema, and never fetches a remote $ref', () => {
    expect(compileClientSchema([])).toEqual({ ok: false, errors: ['a JSON Schema is an object'] });
    expect(compileClientSchema({ type: 'no-such-type' })).toMatchObject({ ok: false, errors: [expect.stringMatching(/^not a valid JSON Schema/)] });
    expect(compileClientSchema({ $ref: 'https://example.com/schema.json' })).toMatchObject({ ok: false, errors: [expect.stringMatching(/can't resolve reference|resolve/)] });
  });

  it('bounds size and depth before compiling', () => {
    const large = { enum: Array.from({ length: 4_000 }, (_, i) => `value-${i}`) };
    expect(compileClientSchema(large)).toMatchObject({ ok: false, errors: [expect.stringMatching(new RegExp(`over the limit of ${MAX_CLIENT_SCHEMA_BYTES}`))] });
    let deep: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 40; i++) deep = { type: 'array', items: deep };
    expect(compileClientSchema(deep)).toEqual({ ok: false, errors: ['the schema nests deeper than 32 levels'] });
  });

  it('refuses patterns that can backtrack for ever, and over-long ones, naming where they are', () => {
    for (const pattern of ['^(a+)+$', '(\\w*x?)*', '^(a|aa){2,}$', '(x)\\1', 'a'.repeat(201)]) {
      const checked = compileClientSchema({ type: 'object', properties: { name: { type: 'string', pattern } } });
      expect({ pattern, checked }).toMatchObject({ checked: { ok: false, errors: [expect.stringMatching(/^\/properties\/name\/pattern: /)] } });
    }
    expect(compileClientSchema({ patternProperties: { '^(a+)+$': {} } })).toMatchObject({ ok: false, errors: [expect.stringMatching(/^\/patternProperties\/\^\(a\+\)\+\$/)] });
    // Ordinary patterns pass.
    for (const pattern of ['^FY\\d{4}$', '^[A-Z]{1,5}(\\.[A-Z])?$', '^(ab)+$']) {
      expect({ pattern, ok: compileClientSchema({ type: 'string', pattern }).ok }).toEqual({ pattern, ok: true });
    }
  });
});
