import { Reputation, decayReputation, observeReputation, reputationKey } from './reputation';

const HOUR = 3_600_000;
const t0 = new Date('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(t0.getTime() + ms);

describe('reputation records', () => {
  it('keys one entry per subnet, UID and capability, in KV key characters', () => {
    expect(reputationKey(13, 7, 'data.financials')).toBe('sn13.uid7.data-financials');
  });

  it('counts calls, answers and verdicts, and keeps an EWMA of latency', () => {
    let rep: Reputation | undefined;
    rep = observeReputation(rep, { kind: 'call', answered: true, latencyMs: 100 }, t0, HOUR);
    rep = observeReputation(rep, { kind: 'call', answered: false, latencyMs: 200 }, t0, HOUR);
    rep = observeReputation(rep, { kind: 'verdict', verdict: 'semantics' }, t0, HOUR);
    rep = observeReputation(rep, { kind: 'verdict', verdict: 'schema' }, t0, HOUR);
    expect(rep).toEqual({ calls: 2, answered: 1, judged: 2, conforming: 1, accepted: 0, latencyMs: 130, updatedAt: t0.toISOString() });
  });

  it('retracts an acceptance when the answer is outvoted by a quorum (never below zero)', () => {
    let rep = observeReputation(undefined, { kind: 'verdict', verdict: 'accepted' }, t0, HOUR);
    rep = observeReputation(rep, { kind: 'outvoted' }, t0, HOUR);
    expect(rep).toMatchObject({ judged: 1, conforming: 1, accepted: 0 });
    expect(observeReputation(rep, { kind: 'outvoted' }, t0, HOUR).accepted).toBe(0);
  });

  it('halves every count per half-life, so old evidence fades', () => {
    const rep = observeReputation(undefined, { kind: 'call', answered: false, latencyMs: 50 }, t0, HOUR);
    expect(decayReputation(rep, at(HOUR), HOUR)).toMatchObject({ calls: 0.5, answered: 0, latencyMs: 50, updatedAt: at(HOUR).toISOString() });
    expect(decayReputation(rep, at(3 * HOUR), HOUR).calls).toBeCloseTo(0.125);
  });

  it('lets an aborted hedge only raise the latency estimate, without counting a call', () => {
    const fast = observeReputation(undefined, { kind: 'call', answered: true, latencyMs: 10 }, t0, HOUR);
    const aborted = observeReputation(fast, { kind: 'aborted', latencyMs: 1_000 }, t0, HOUR);
    expect(aborted).toMatchObject({ calls: 1, latencyMs: 10 + 0.3 * 990 });
  });
});
