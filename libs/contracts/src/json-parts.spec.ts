import { forbiddenKeyPointer, jsonPointer, largestPart } from './json-parts';
import { jsonBytes } from './limits';

describe('jsonPointer', () => {
  it('escapes ~ and / as RFC 6901 says', () => {
    expect(jsonPointer([])).toBe('');
    expect(jsonPointer(['a/b', 'c~d', '0'])).toBe('/a~1b/c~0d/0');
  });
});

describe('largestPart', () => {
  it('names the field that makes a body large, not the root and not one small array item', () => {
    const entities = Array.from({ length: 20_000 }, (_, i) => `TICKER${i}`);
    const body = { goal: 'Analyze these financial filings', inputs: { periods: ['FY2023'], entities } };
    expect(largestPart(body)).toEqual({ pointer: '/inputs/entities', bytes: jsonBytes(entities) });
  });

  it('goes down to a single large string, escaping the keys on the way', () => {
    expect(largestPart({ goal: 'g', inputs: { 'a/b': 'x'.repeat(10_000) } }).pointer).toBe('/inputs/a~1b');
  });

  it('stops where no member dominates', () => {
    expect(largestPart({ a: 'x'.repeat(100), b: 'y'.repeat(100) }).pointer).toBe('');
    expect(largestPart('scalar')).toEqual({ pointer: '', bytes: 8 });
  });
});

describe('forbiddenKeyPointer', () => {
  it('finds __proto__ and constructor.prototype keys at any position', () => {
    expect(forbiddenKeyPointer(JSON.parse('{"goal":"g","inputs":{"__proto__":{"admin":true}}}'))).toBe('/inputs/__proto__');
    expect(forbiddenKeyPointer(JSON.parse('{"plan":[{"input":{"constructor":{"prototype":{"x":1}}}}]}'))).toBe('/plan/0/input/constructor/prototype');
  });

  it('lets ordinary keys, a constructor without prototype and such strings through', () => {
    expect(forbiddenKeyPointer({ goal: '__proto__', inputs: { constructor: 'Ford', proto: 1, prototype: 2 } })).toBeUndefined();
    expect(forbiddenKeyPointer([{ constructor: { name: 'x' } }])).toBeUndefined();
  });
});
