import { verifyOutput } from './semantic';

const text = `Kestrel Ridge Foods Inc. is headquartered in Boise, Idaho.
Net sales were $ 1,418,702 thousand in fiscal 2025. The company employs 4,250 people.`;
const input = {
  documents: [{ id: 'krf', text }],
  schema: {
    type: 'object',
    properties: { company: { type: 'string' }, city: { type: 'string' }, employees: { type: 'integer' } },
    required: ['company', 'city', 'employees'],
    additionalProperties: false,
  },
};
const verify = (output: unknown, given: unknown = input) => verifyOutput('data.extract@1', JSON.stringify(output), given);

describe('data.extract@1: data conforms to the client schema and every value is quoted verbatim', () => {
  const grounded = {
    data: { company: 'Kestrel Ridge Foods Inc.', city: 'Boise', employees: 4250 },
    evidence: [
      { path: '/company', documentId: 'krf', quote: 'Kestrel Ridge Foods Inc. is headquartered' },
      { path: '/city', documentId: 'krf', quote: 'headquartered in Boise, Idaho.' },
      { path: '/employees', documentId: 'krf', quote: 'The company employs 4,250 people.' },
    ],
  };

  it('accepts data whose every leaf is in its evidence quote, numbers as written', async () => {
    expect(await verify(grounded)).toMatchObject({ ok: true });
  });

  it('rejects a value not in its quote, a value without evidence, a quote not in the document, data off the schema', async () => {
    const result = await verify({
      data: { company: 'Kestrel Ridge Foods Inc.', city: 'Boise', employees: 4300, founded: 1962 },
      evidence: [
        { path: '/company', documentId: 'krf', quote: 'Kestrel Ridge Foods Inc. is headquartered in Boise.' },
        { path: '/city', documentId: 'krf', quote: 'headquartered in Boise, Idaho.' },
        { path: '/employees', documentId: 'krf', quote: 'The company employs 4,250 people.' },
        { path: '/ceo', documentId: 'nope', quote: 'x' },
      ],
    });
    expect(result).toEqual({
      ok: false,
      kind: 'semantic',
      errors: [
        'data: must NOT have additional properties',
        'evidence.0: quote "Kestrel Ridge Foods Inc. is headquartered in Boise." is not in document krf; quote its words verbatim',
        'evidence.3: no document "nope"; the documents are krf',
        'data/founded: "1962" has no evidence; add { path: "/founded", documentId, quote } quoting where it is written',
        'data/employees: "4300" is not in its evidence quote; copy the value as the document writes it',
        'data/company: "Kestrel Ridge Foods Inc." has no evidence; add { path: "/company", documentId, quote } quoting where it is written',
      ],
    });
  });

  it('cannot judge against an unusable client schema (the input is at fault, not the answer)', async () => {
    await expect(verify(grounded, { ...input, schema: { type: 'string', pattern: '(a+)+$' } })).rejects.toThrow('the extraction schema is unusable');
  });
});
