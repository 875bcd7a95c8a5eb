import fc from 'fast-check';
import { PyFloat, pythonRepr } from './python-repr';
import { bodyHash, sha3Hex, synapseBodyHash, defineSynapse, stringifyJson } from './synapse';

// Every expected string below was printed by CPython 3.11.7 (`repr(v)`, and hashlib.sha3_256 for
// the hashes) on the development machine; the empty-list hash is also quoted in BITTENSOR.md §2.
const VECTORS: [unknown, string][] = [
  ['hi', "'hi'"],
  ["it's", `"it's"`],
  ['say "hi"', `'say "hi"'`],
  [`both ' and "`, `'both \\' and "'`],
  ['back\\slash', "'back\\\\slash'"],
  ['tab\tnl\nreturn\r', "'tab\\tnl\\nreturn\\r'"],
  ['\x00\x1f\x7f', "'\\x00\\x1f\\x7f'"],
  ['é ü 中文', "'é ü 中文'"],
  ['\u200b zero-width', "'\\u200b zero-width'"],
  ['\u{1F600}', "'\u{1F600}'"],
  ['\xa0nbsp', "'\\xa0nbsp'"],
  ['\u2028', "'\\u2028'"],
  [['hi', 'there'], "['hi', 'there']"],
  [{ a: 1, b: [1, 2.5] }, "{'a': 1, 'b': [1, 2.5]}"],
  [null, 'None'],
  [true, 'True'],
  [false, 'False'],
  [0, '0'],
  [-7, '-7'],
  [new PyFloat(12), '12.0'],
  [0.1, '0.1'],
  [new PyFloat(1e16), '1e+16'],
  [1.5e-5, '1.5e-05'],
  [0.0001, '0.0001'],
  [123456789.125, '123456789.125'],
  [new PyFloat(-0), '-0.0'],
  [2n ** 70n, '1180591620717411303424'],
  [[], '[]'],
  [{}, '{}'],
  [[null, { k: [true, 'x'] }], "[None, {'k': [True, 'x']}]"],
];

describe('pythonRepr', () => {
  it.each(VECTORS)('repr(%p) matches CPython', (value, expected) => {
    expect(pythonRepr(value)).toBe(expected);
  });

  it('round-trips any float through its repr (shortest digits, like CPython)', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(Number(pythonRepr(new PyFloat(x)).replace(/^(-?)inf$/, '$1Infinity'))).toBe(x);
      }),
    );
  });

  it('refuses values model_dump cannot produce', () => {
    expect(() => pythonRepr(new Date())).toThrow('no Python repr');
  });
});

describe('bodyHash', () => {
  it('is sha3_256("") with no hash fields (BITTENSOR.md §2)', () => {
    expect(bodyHash({ anything: 1 }, [])).toBe('a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a');
    expect(sha3Hex('')).toBe('a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a');
  });

  it('hashes str() of each field in order (CPython: get_hash("".join(get_hash(str(d[f])) ...)))', () => {
    const d = { messages: ['hi', 'there'], task: "it's", n: new PyFloat(12) };
    expect(bodyHash(d, ['messages', 'task', 'n'])).toBe('1e436af552487c883b69eb0c475a11c027f6fa4ca117b9d15a534c7c09d957c5');
  });

  it('applies float fields and defaults from a definition', () => {
    const def = defineSynapse({
      name: 'Demo',
      fields: { messages: { default: [] }, task: { default: '' }, n: { default: 0, float: true } },
      requiredHashFields: ['messages', 'task', 'n'],
    });
    expect(synapseBodyHash(def, { messages: ['hi', 'there'], task: "it's", n: 12 })).toBe('1e436af552487c883b69eb0c475a11c027f6fa4ca117b9d15a534c7c09d957c5');
  });

  it('hashes the numbers nested in float fields as Python floats (CPython: str([1.0, 0.5]))', () => {
    const def = defineSynapse({
      name: 'Nested',
      fields: { weights: { default: [], float: true }, scores: { default: {}, float: true } },
      requiredHashFields: ['weights', 'scores'],
    });
    // hashlib.sha3_256 over str([1.0, 0.5]) and str({'a': 2.0, 'b': [3.0]}), as the SDK's body hash.
    expect(synapseBodyHash(def, { weights: [1, 0.5], scores: { a: 2, b: [3] } })).toBe('cccb07b4f8490e5dada4cf29cd8ae2c98329bda1995fea131dac2bf340125fbc');
  });

  it('rejects hash fields that are not fields', () => {
    expect(() => defineSynapse({ name: 'Bad', fields: {}, requiredHashFields: ['x'] })).toThrow('not a declared field');
  });

  it('writes nonces above 2^53 as exact JSON integers', () => {
    expect(stringifyJson({ nonce: 1712345678901234567n })).toBe('{"nonce":1712345678901234567}');
  });
});
