import { DEFAULT_LIMITS, UntrustedJsonError } from '@orchestra/contracts';
import { CANONICAL_JSON_MAX_DEPTH, canonicalJson } from './agreement';
import { extractJson, standardize } from './standardize';

describe('extractJson on untrusted text', () => {
  it('finds JSON whole, in a ```json fence, or as the first balanced block', () => {
    expect(extractJson('{"a":1}')).toEqual({ found: true, value: { a: 1 } });
    expect(extractJson('Sure:\n```json\n{"a":2}\n```\nbye')).toEqual({ found: true, value: { a: 2 } });
    expect(extractJson('Sure:\n```\n[3]\n```')).toEqual({ found: true, value: [3] });
    expect(extractJson('the answer is {"a":"}"} ok')).toEqual({ found: true, value: { a: '}' } });
  });

  it('refuses JSON nested past the depth limit, saying so, in every candidate form', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    for (const text of [deep, `prose ${deep} prose`, '```json\n' + deep + '\n```']) {
      const found = extractJson(text);
      expect(found).toEqual({ found: false, why: `JSON nested deeper than ${DEFAULT_LIMITS.maxJsonDepth} levels` });
    }
    expect(extractJson('['.repeat(10) + ']'.repeat(10), 5)).toMatchObject({ found: false });
    expect(extractJson('['.repeat(5) + ']'.repeat(5), 5)).toMatchObject({ found: true });
  });

  it('finds nothing in text made of unclosed fences and brackets', () => {
    expect(extractJson('```'.repeat(100_000))).toEqual({ found: false, why: 'no JSON value found in the output' });
    expect(extractJson('{'.repeat(100_000)).found).toBe(false);
  });
});

describe('standardize', () => {
  it('rejects a deep answer as not_json with a bounded error', () => {
    const verdict = standardize('code.python@1', '{"code":' + '['.repeat(50_000) + ']'.repeat(50_000) + '}');
    expect(verdict).toMatchObject({ ok: false, kind: 'not_json' });
    const errors = (verdict as { errors: string[] }).errors;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^JSON nested deeper than 64 levels \(starts: /);
    expect(errors[0].length).toBeLessThan(300);
  });

  it('cuts issue lines that quote a miner’s keys', () => {
    const verdict = standardize('code.python@1', JSON.stringify({ ['k'.repeat(10_000)]: 1 }));
    expect(verdict.ok).toBe(false);
    for (const error of (verdict as { errors: string[] }).errors) expect(error.length).toBeLessThanOrEqual(340);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level, and refuses a value too deep to walk with a typed error', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"e":3,"f":2}]},"b":1}');
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => canonicalJson(deep)).toThrow(UntrustedJsonError);
    expect(() => canonicalJson(deep)).toThrow(`JSON nested deeper than ${CANONICAL_JSON_MAX_DEPTH} levels`);
  });
});
