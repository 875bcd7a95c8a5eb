import { JobStateSchema, jobEvent } from '@orchestra/contracts';
import { ADDRESS_REDACTED, clientEvent, clientJobState, redactAddresses } from './client-view';

describe('the client view of a job', () => {
  it('replaces network addresses with a marker, and leaves other numbers alone', () => {
    expect(redactAddresses('uid 2 failed: 503 Service at 203.0.113.7:8091/OnDemandRequest unavailable')).toBe(
      `uid 2 failed: 503 Service at ${ADDRESS_REDACTED}/OnDemandRequest unavailable`,
    );
    expect(redactAddresses('at [2001:db8::1]:8091 and 2001:db8::7 and ::ffff:198.51.100.1')).toBe(`at ${ADDRESS_REDACTED} and ${ADDRESS_REDACTED} and ${ADDRESS_REDACTED}`);
    expect(redactAddresses('v1.2.3 at 04:05:06 for 12.5% of 0.000622 TAO, rows 1, 8')).toBe('v1.2.3 at 04:05:06 for 12.5% of 0.000622 TAO, rows 1, 8');
  });

  it('keeps attempts, verdicts and reasons, without coldkeys or addresses', () => {
    const state = JobStateSchema.parse({
      jobId: 'job_1',
      tenant: 'acme',
      goal: 'g',
      inputs: {},
      limits: { maxTao: 1, maxAttemptsPerStep: 4, deadlineMs: 60_000, maxMinerCalls: 32 },
      status: 'failed',
      submittedAt: '2026-12-01T00:00:00.000Z',
      updatedAt: '2026-12-01T00:00:01.000Z',
      deadlineAt: '2026-12-01T00:01:00.000Z',
      spend: { totalTao: 0 },
      error: { code: 'step_failed', message: 'step data failed: uid 1 failed: 408 timeout at 10.0.0.5:8091' },
      steps: [
        {
          id: 'data',
          capability: 'data.financials',
          netuid: 13,
          schemaId: 'data.financials@1',
          input: {},
          deps: [],
          maxAttempts: 1,
          status: 'failed',
          attempts: [
            {
              attempt: 1,
              status: 'rejected',
              dispatchedAt: '2026-12-01T00:00:00.000Z',
              uid: 1,
              hotkey: '5Hot',
              coldkey: '5Cold',
              reason: 'uid 1 failed: 408 timeout at 10.0.0.5:8091',
              errors: ['answer from 10.0.0.5:8091'],
              rejectedAs: 'miner_error',
            },
          ],
        },
      ],
    });
    const view = clientJobState(state);
    const attempt = view.steps[0].attempts[0];
    expect(attempt).not.toHaveProperty('coldkey');
    expect(attempt).toMatchObject({
      uid: 1,
      hotkey: '5Hot',
      rejectedAs: 'miner_error',
      reason: `uid 1 failed: 408 timeout at ${ADDRESS_REDACTED}`,
      errors: [`answer from ${ADDRESS_REDACTED}`],
    });
    expect(view.error?.message).toBe(`step data failed: uid 1 failed: 408 timeout at ${ADDRESS_REDACTED}`);
  });

  it('strips addresses and coldkeys from progress events, and refuses what is not one', () => {
    const stored = JSON.stringify(
      jobEvent('job_1', {
        event: 'step.hired',
        service: 'dispatcher',
        stepId: 'data',
        attempt: 1,
        uid: 2,
        message: 'hired uid 2 on SN13 (127.0.0.1:40303)',
        data: { hotkey: '5Hot', coldkey: '5Cold' },
      }),
    );
    const view = clientEvent(stored);
    expect(view?.event).toBe('step.hired');
    const payload = (JSON.parse(view?.data ?? '{}') as { payload: { message: string; data: Record<string, unknown> } }).payload;
    expect(payload.message).toBe(`hired uid 2 on SN13 (${ADDRESS_REDACTED})`);
    expect(payload.data).toEqual({ hotkey: '5Hot' });
    expect(clientEvent('{"not":"an event"}')).toBeUndefined();
    expect(clientEvent('garbage')).toBeUndefined();
  });
});
