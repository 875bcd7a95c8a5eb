import { DEFAULT_LIMITS, LimitsConfigError, sizeLimits } from './limits';
import { UntrustedJsonError, jsonDepthExceeds, parseUntrustedJson, parseUntrustedJsonSequence, truncateText, valueDepthExceeds } from './untrusted';

describe('truncateText', () => {
  it('keeps short text and cuts long text with a marker naming what was cut', () => {
    expect(truncateText('short', 10)).toBe('short');
    expect(truncateText('x'.repeat(400_000), 100)).toBe(`${'x'.repeat(100)}…[truncated 399900 chars]`);
  });

  it('never leaves half a surrogate pair', () => {
    const cut = truncateText(`${'a'.repeat(9)}😀tail`, 10);
    expect(cut.startsWith(`${'a'.repeat(9)}…`)).toBe(true);
    expect(() => encodeURIComponent(cut)).not.toThrow();
  });
});

describe('parseUntrustedJson', () => {
  it('parses ordinary JSON', () => {
    expect(parseUntrustedJson('{"a":[1,{"b":"[[[["}]}')).toEqual({ a: [1, { b: '[[[[' }] });
  });

  it('refuses nesting past the limit before parsing, whatever the size', () => {
    expect(jsonDepthExceeds('['.repeat(100_000), 64)).toBe(true);
    expect(() => parseUntrustedJson('['.repeat(100_000) + ']'.repeat(100_000))).toThrow(expect.objectContaining({ kind: 'too_deep' }));
    expect(() => parseUntrustedJson('[[1]]', { maxDepth: 1 })).toThrow(UntrustedJsonError);
    expect(parseUntrustedJson('[[1]]', { maxDepth: 2 })).toEqual([[1]]);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepthExceeds(JSON.stringify({ s: '\\"[[[[[[' }), 2)).toBe(false);
  });

  it('says not_json and too_large rather than throwing SyntaxError', () => {
    expect(() => parseUntrustedJson('{nope')).toThrow(expect.objectContaining({ kind: 'not_json' }));
    expect(() => parseUntrustedJson('"abcdef"', { maxChars: 3 })).toThrow(expect.objectContaining({ kind: 'too_large' }));
  });
});

describe('valueDepthExceeds', () => {
  it('walks parsed values iteratively, at any depth', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(valueDepthExceeds(deep, 64)).toBe(true);
    expect(valueDepthExceeds({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(valueDepthExceeds({ a: [{ b: 1 }] }, 2)).toBe(true);
  });
});

describe('sizeLimits', () => {
  it('derives the record budget from the server max_payload', () => {
    expect(sizeLimits({})).toEqual(DEFAULT_LIMITS);
    expect(sizeLimits({}, 8 * 1024 * 1024).recordBudgetBytes).toBe(8 * 1024 * 1024 - 16 * 1024);
  });

  it('lists every bad setting at once', () => {
    const attempt = () => sizeLimits({ ORCH_TEXT_LIMIT_CHARS: 'lots', ORCH_RECORD_BUDGET_BYTES: String(2 * 1024 * 1024) });
    expect(attempt).toThrow(LimitsConfigError);
    expect(attempt).toThrow(/ORCH_TEXT_LIMIT_CHARS.*ORCH_RECORD_BUDGET_BYTES/);
  });

  it('refuses a body limit that would let a client outgrow the record budget', () => {
    expect(() => sizeLimits({ ORCH_MAX_BODY_BYTES: String(900 * 1024) })).toThrow(/half the job record budget/);
  });
});

describe('parseUntrustedJsonSequence', () => {
  it('splits concatenated objects and arrays, with or without whitespace between them, braces inside strings included', () => {
    const text = '{"type":"search","content":[{"title":"a } b","link":"x"}]}{"type":"completion","content":"\\"{["}\n [1,2]';
    expect(parseUntrustedJsonSequence(text)).toEqual([{ type: 'search', content: [{ title: 'a } b', link: 'x' }] }, { type: 'completion', content: '"{[' }, [1, 2]]);
    expect(parseUntrustedJsonSequence('')).toEqual([]);
  });

  it('refuses scalars, stray text, an unfinished value, too deep a value and too many values, as UntrustedJsonError', () => {
    const kind = (text: string, limits = {}) => {
      try {
        parseUntrustedJsonSequence(text, limits);
      } catch (error) {
        return error instanceof UntrustedJsonError ? error.kind : 'other';
      }
      return 'parsed';
    };
    expect(kind('{"a":1} 42')).toBe('not_json');
    expect(kind('{"a":1}garbage')).toBe('not_json');
    expect(kind('{"a":1}{"b":')).toBe('not_json');
    expect(kind('{"a":1}{"b":nope}')).toBe('not_json');
    expect(kind('['.repeat(100_000) + ']'.repeat(100_000))).toBe('too_deep');
    expect(kind('{}{}{}', { maxValues: 2 })).toBe('too_large');
    expect(kind('{}{}', { maxChars: 3 })).toBe('too_large');
  });
});
