import { decodeSourceToken, encodeSourceToken, sourceKeyOf, uidOfAxonSource, axonSource } from './sources';
import { reputationKey, reputationKeyOfSource, sourceReputationKey } from './reputation';

/** NATS subject tokens and KV keys: what a reputation key's source token must stay within. */
const SUBJECT_TOKEN = /^[A-Za-z0-9_-]+$/;
const KV_KEY = /^[-/_=.a-zA-Z0-9]+$/;

describe('source ids in keys and subjects', () => {
  const ids = ['deepseek-ai/DeepSeek-V3-0324', 'chutesai/Llama-4:free', 'a_b', 'a.b c', 'résumé/模型', '..', '*', '>', '_2f'];

  it.each(ids)('encodes %j as one subject token that decodes back', (id) => {
    const token = encodeSourceToken(id);
    expect(token).toMatch(SUBJECT_TOKEN);
    expect(decodeSourceToken(token)).toBe(id);
  });

  it('never gives two sources the same token (the escape character is escaped too)', () => {
    const tokens = new Set(ids.map(encodeSourceToken));
    expect(tokens.size).toBe(ids.length);
    expect(encodeSourceToken('a/b')).not.toBe(encodeSourceToken('a_2fb'));
  });

  it('refuses tokens it could not have produced', () => {
    expect(decodeSourceToken('a/b')).toBeUndefined();
    expect(decodeSourceToken('_zz')).toBeUndefined();
    expect(decodeSourceToken('_41')).toBeUndefined(); // "A" is never escaped
  });

  it('keys gateway reputation per (provider, source, capability) in three dot-separated tokens', () => {
    const key = sourceReputationKey('chutes', 'deepseek-ai/DeepSeek-V3:free', 'text.analysis');
    expect(key).toBe('chutes.deepseek-ai_2fDeepSeek-V3_3afree.text-analysis');
    expect(key).toMatch(KV_KEY);
    expect(key.split('.')).toHaveLength(3);
  });

  it('keeps the keys of miner UIDs as they were, so old evidence still counts', () => {
    expect(reputationKeyOfSource('axon', 'uid7', 13, 'data.financials')).toBe(reputationKey(13, 7, 'data.financials'));
    expect(reputationKeyOfSource('axon', 'not-a-uid', 13, 'data.financials')).toBeUndefined();
    expect(reputationKeyOfSource('desearch', 'web', 22, 'web.search')).toBe('desearch.web.web-search');
  });

  it('names the source of records written before providers by their UID', () => {
    expect(sourceKeyOf({ uid: 7 })).toBe('axon:uid7');
    expect(sourceKeyOf({ provider: 'chutes', source: 'm/x', uid: null })).toBe('chutes:m/x');
    expect(sourceKeyOf({ uid: null, source: null })).toBeUndefined();
    expect(uidOfAxonSource(axonSource(42))).toBe(42);
    expect(uidOfAxonSource('uid')).toBeUndefined();
  });
});
