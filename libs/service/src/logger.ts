import type { LoggerService } from '@nestjs/common';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type Logger as Pino } from 'pino';
import { toJsonSafe } from './json-safe';
import { redactText } from './redact';

/** Severity of a log line, in increasing order of importance. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A structured log call: `msg` plus any JSON-able fields (ids, counts, errors).
 * Errors anywhere in the fields are serialised with their `cause` chain.
 */
export interface LogEntry {
  msg: string;
  [field: string]: unknown;
}

/** Options for {@link JsonLogger}. */
export interface JsonLoggerOptions {
  /** Service name written on every line (`service` field). */
  service: string;
  /** Minimum level written (a service's `LOG_LEVEL`, config.ts); defaults to `info`. */
  level?: LogLevel;
  /** Line sink; defaults to stdout. Receives one complete JSON line including `\n`. */
  write?: (line: string) => void;
}

/** Keys the logger owns; caller fields with these names are dropped, not allowed to spoof them. */
const RESERVED = new Set(['ts', 'time', 'level', 'service', 'msg', 'context', 'trace_id', 'span_id', 'trace_flags']);

/**
 * Parses a `LOG_LEVEL` value. Accepts the four levels plus Nest's names (`log`, `verbose`,
 * `fatal`) so either vocabulary works; returns undefined for anything else.
 */
export function parseLogLevel(value: string | undefined): LogLevel | undefined {
  switch (value?.trim().toLowerCase()) {
    case 'debug':
    case 'verbose':
      return 'debug';
    case 'info':
    case 'log':
      return 'info';
    case 'warn':
    case 'warning':
      return 'warn';
    case 'error':
    case 'fatal':
      return 'error';
    default:
      return undefined;
  }
}

/**
 * Nest `LoggerService` writing one JSON object per line through pino:
 * `{ ts, level, service, msg, context?, trace_id?, span_id?, trace_flags?, ...fields }`.
 *
 * Accepts both Nest's positional calls (`log(message, context)`,
 * `error(message, stack, context)`) and structured calls (`log({ msg, jobId, ... })`).
 * The active OpenTelemetry span, if any, contributes `trace_id`/`span_id` (the names of
 * OpenTelemetry's log data model) so a log line can be joined to its trace. Secrets are
 * removed from every field and from the message (redact.ts): a line may quote a config or
 * an error that carries a password, key, token, mnemonic or seed.
 */
export class JsonLogger implements LoggerService {
  private readonly service: string;
  private readonly threshold: number;
  private readonly pino: Pino;

  constructor(options: JsonLoggerOptions) {
    this.service = options.service;
    this.threshold = LEVEL_RANK[options.level ?? 'info'];
    const write = options.write;
    this.pino = pino(
      {
        // The threshold is applied here (Nest's level names map onto ours first).
        level: 'debug',
        base: { service: this.service },
        messageKey: 'msg',
        timestamp: () => `,"ts":"${new Date().toISOString()}"`,
        formatters: { level: (label) => ({ level: label }) },
        // Errors are already converted (cause chain kept, secrets removed) by toJsonSafe;
        // pino's serializer would fold the causes into the message.
        serializers: { err: (err: unknown) => err },
      },
      // Synchronous stdout by default: a crash handler's last line must not be lost in a buffer.
      write ? { write } : pino.destination({ dest: 1, sync: true }),
    );
  }

  /** Nest's `log` level, written as `info`. */
  log(message: unknown, ...params: unknown[]): void {
    this.emit('info', message, params);
  }

  /** Nest's `error(message, stack?, context?)`; also accepts an Error or a {@link LogEntry}. */
  error(message: unknown, ...params: unknown[]): void {
    this.emit('error', message, params);
  }

  /** Warning line. */
  warn(message: unknown, ...params: unknown[]): void {
    this.emit('warn', message, params);
  }

  /** Debug line, dropped unless the threshold is `debug`. */
  debug(message: unknown, ...params: unknown[]): void {
    this.emit('debug', message, params);
  }

  /** Nest's `verbose`, written as `debug`. */
  verbose(message: unknown, ...params: unknown[]): void {
    this.emit('debug', message, params);
  }

  /** Nest's `fatal`, written as `error` with `fatal: true`. */
  fatal(message: unknown, ...params: unknown[]): void {
    this.emit('error', message, params, { fatal: true });
  }

  /** True when lines at `level` are written; lets callers skip building expensive fields. */
  isEnabled(level: LogLevel): boolean {
    return LEVEL_RANK[level] >= this.threshold;
  }

  private emit(level: LogLevel, message: unknown, params: unknown[], extra?: Record<string, unknown>): void {
    if (!this.isEnabled(level)) return;

    // Nest appends the context as the last string argument; for `error` a preceding
    // string is the stack trace. Anything else is kept as a field rather than lost.
    const rest = [...params];
    while (rest.length > 0 && rest[rest.length - 1] === undefined) rest.pop();
    const contextName = typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;

    const fields: Record<string, unknown> = { ...extra };
    let msg: string;
    if (message instanceof Error) {
      msg = message.message;
      fields.err = message;
    } else if (isLogEntry(message)) {
      const { msg: entryMsg, ...entryFields } = message;
      msg = entryMsg;
      Object.assign(fields, entryFields);
    } else if (typeof message === 'string') {
      msg = message;
    } else if (typeof message === 'object' && message !== null) {
      // An object without `msg` is still worth keeping whole.
      msg = '';
      fields.data = message;
    } else {
      msg = String(message);
    }
    const extraArgs: unknown[] = [];
    for (const param of rest) {
      if (param === undefined) continue;
      if (typeof param === 'string' && level === 'error' && fields.stack === undefined) fields.stack = param;
      else if (param instanceof Error && fields.err === undefined) fields.err = param;
      else extraArgs.push(param);
    }
    if (extraArgs.length > 0) fields.args = extraArgs;

    const line: Record<string, unknown> = {};
    if (contextName !== undefined) line.context = contextName;
    const spanContext = trace.getSpan(context.active())?.spanContext();
    if (spanContext && isSpanContextValid(spanContext)) {
      line.trace_id = spanContext.traceId;
      line.span_id = spanContext.spanId;
      line.trace_flags = `0${spanContext.traceFlags.toString(16)}`;
    }
    // Converted as one object, so the top-level field names are checked for secrets too.
    for (const [key, value] of Object.entries(toJsonSafe(fields) as Record<string, unknown>)) {
      if (!RESERVED.has(key) && value !== undefined) line[key] = value;
    }
    this.pino[level](line, redactText(msg));
  }
}

function isLogEntry(value: unknown): value is LogEntry {
  return typeof value === 'object' && value !== null && typeof (value as { msg?: unknown }).msg === 'string';
}
