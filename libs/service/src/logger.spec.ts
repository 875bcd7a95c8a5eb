import { Logger } from '@nestjs/common';
import { JsonLogger, parseLogLevel } from './logger';
import { initTracing, withSpan } from './tracing';

/** A logger whose lines are collected and parsed, so tests assert on real output. */
function capture(options: { level?: 'debug' | 'info' | 'warn' | 'error' } = {}) {
  const lines: Record<string, unknown>[] = [];
  const logger = new JsonLogger({
    service: 'test-svc',
    ...options,
    write: (line) => {
      expect(line.endsWith('\n')).toBe(true);
      expect(line.indexOf('\n')).toBe(line.length - 1);
      lines.push(JSON.parse(line));
    },
  });
  return { logger, lines };
}

describe('JsonLogger', () => {
  beforeAll(() => {
    initTracing('test-svc');
  });

  it('writes structured fields with the standard envelope', () => {
    const { logger, lines } = capture();
    logger.log({ msg: 'step hired', jobId: 'job-1', stepId: 'step-2', uid: 17, stake: 10n ** 20n });
    expect(lines).toEqual([
      {
        ts: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        level: 'info',
        service: 'test-svc',
        msg: 'step hired',
        jobId: 'job-1',
        stepId: 'step-2',
        uid: 17,
        stake: '100000000000000000000',
      },
    ]);
  });

  it("accepts Nest's positional calls, including through Nest's Logger", () => {
    const { logger, lines } = capture();
    logger.log('hello', 'MyContext');
    logger.error('it failed', 'Error: it failed\n    at x', 'Other');
    Logger.overrideLogger(logger);
    new Logger('Scoped').warn('careful');
    new Logger('Scoped').log({ msg: 'structured', n: 1 });
    expect(lines.map(({ level, msg, context, stack, n }) => ({ level, msg, context, stack, n }))).toEqual([
      { level: 'info', msg: 'hello', context: 'MyContext', stack: undefined, n: undefined },
      { level: 'error', msg: 'it failed', context: 'Other', stack: 'Error: it failed\n    at x', n: undefined },
      { level: 'warn', msg: 'careful', context: 'Scoped', stack: undefined, n: undefined },
      { level: 'info', msg: 'structured', context: 'Scoped', stack: undefined, n: 1 },
    ]);
  });

  it('carries the trace and span id of the active span', async () => {
    const { logger, lines } = capture();
    logger.log('outside');
    const ids = await withSpan('work', { jobId: 'job-1' }, (span) => {
      logger.log({ msg: 'inside', jobId: 'job-1' });
      return span.spanContext();
    });
    expect(lines[0]).not.toHaveProperty('trace_id');
    expect(lines[1]).toMatchObject({ msg: 'inside', trace_id: ids.traceId, span_id: ids.spanId, trace_flags: '01' });
    expect(ids.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('serialises errors with their cause chain', () => {
    const { logger, lines } = capture();
    const root = Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
    logger.error({ msg: 'publish failed', err: new TypeError('bad publish', { cause: root }) });
    logger.error(new RangeError('direct'));
    expect(lines[0]).toMatchObject({
      level: 'error',
      msg: 'publish failed',
      err: {
        name: 'TypeError',
        message: 'bad publish',
        stack: expect.stringContaining('TypeError: bad publish'),
        cause: { name: 'Error', message: 'connection refused', code: 'ECONNREFUSED', stack: expect.any(String) },
      },
    });
    expect(lines[1]).toMatchObject({ msg: 'direct', err: { name: 'RangeError', message: 'direct' } });
  });

  it('survives circular fields and does not let fields spoof the envelope', () => {
    const { logger, lines } = capture();
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = loop;
    logger.log({ msg: 'loop', loop, level: 'error', service: 'spoofed' });
    expect(lines[0]).toMatchObject({ level: 'info', service: 'test-svc', loop: { a: 1, self: '[Circular]' } });
  });

  it('applies the level threshold given, info by default', () => {
    const { logger, lines } = capture({ level: 'warn' });
    logger.debug('d');
    logger.log('i');
    logger.warn('w');
    logger.error('e');
    expect(lines.map((l) => l.msg)).toEqual(['w', 'e']);

    // LOG_LEVEL is read by the service's config (config.ts), never by the logger.
    const byDefault = capture();
    byDefault.logger.debug('dropped');
    byDefault.logger.log('kept');
    expect(byDefault.lines).toMatchObject([{ level: 'info', msg: 'kept' }]);
    expect(parseLogLevel('LOG')).toBe('info');
    expect(parseLogLevel('fatal')).toBe('error');
  });

  it('redacts secrets in fields, nested objects, errors and the message', () => {
    const { logger, lines } = capture();
    logger.log({
      msg: 'connecting to nats://orch-api:s3cr3t-pass@nats:4222',
      natsPassword: 'hunter2',
      config: { ORCH_CHUTES_API_KEY: 'cpk_live_1', gateway: { apiKey: 'k-2', 'x-api-key': 'k-3' }, hotkey: '5Grw…', tokens: 12 },
      wallet: { mnemonic: 'bottom drive obey lake curtain smoke basket hold race lonely fit walk', seed: '0xabc', ORCH_HOTKEY: '//Alice' },
      headers: { authorization: 'Bearer abcdefgh12345678' },
      err: Object.assign(new Error('refused: Authorization: Bearer abcdefgh12345678'), { password: 'p' }),
    });
    const line = JSON.stringify(lines[0]);
    for (const secret of ['s3cr3t-pass', 'hunter2', 'cpk_live_1', 'k-2', 'k-3', 'bottom drive', '0xabc', '//Alice', 'abcdefgh12345678', '"p"']) {
      expect(line).not.toContain(secret);
    }
    expect(lines[0]).toMatchObject({
      msg: 'connecting to nats://orch-api:[redacted]@nats:4222',
      natsPassword: '[redacted]',
      // Public identifiers and counts that merely look alike stay readable.
      config: { ORCH_CHUTES_API_KEY: '[redacted]', gateway: { apiKey: '[redacted]' }, hotkey: '5Grw…', tokens: 12 },
      wallet: { mnemonic: '[redacted]', seed: '[redacted]', ORCH_HOTKEY: '[redacted]' },
      err: { message: 'refused: Authorization: Bearer [redacted]', password: '[redacted]' },
    });
  });
});
