import { DEFAULT_LIMITS, Envelope, MessageKind, SizeLimits, UntrustedJsonError, parseUntrustedJson } from '@orchestra/contracts';
import { JsMsg } from '@nats-io/jetstream';
import { PoisonMessageError } from './errors';

const decoder = new TextDecoder();

/**
 * A message as a handler sees it: where it came from, how often it was delivered, and
 * `parse(kind)` to validate it as one of the contracts' envelopes. A body that is not
 * JSON, nests deeper than `maxJsonDepth`, or is not a valid envelope raises
 * PoisonMessageError, which dead-letters it. Anyone who can publish on a subject can
 * put anything there: the body is parsed as untrusted, once.
 */
export class InboundMessage {
  private json?: { value: unknown } | { error: UntrustedJsonError };

  constructor(
    private readonly msg: JsMsg,
    private readonly limits: Pick<SizeLimits, 'maxJsonDepth'> = DEFAULT_LIMITS,
  ) {}

  get subject(): string {
    return this.msg.subject;
  }

  /** 1 on first delivery. */
  get deliveryCount(): number {
    return this.msg.info.deliveryCount;
  }

  get streamSequence(): number {
    return this.msg.info.streamSequence;
  }

  /** The body as text. */
  text(): string {
    return decoder.decode(this.msg.data);
  }

  header(name: string): string | undefined {
    return this.msg.headers?.get(name) || undefined;
  }

  /** The body parsed as untrusted JSON (bounded depth), once; PoisonMessageError when it is not acceptable JSON. */
  body(): unknown {
    if (!this.json) {
      try {
        this.json = { value: parseUntrustedJson(this.text(), { maxDepth: this.limits.maxJsonDepth }) };
      } catch (error) {
        if (!(error instanceof UntrustedJsonError)) throw error;
        this.json = { error };
      }
    }
    if ('error' in this.json)
      throw new PoisonMessageError(`body of ${this.subject} (${this.msg.data.length} bytes) is not acceptable JSON: ${this.json.error.message}`, { cause: this.json.error });
    return this.json.value;
  }

  /** The `type` field of the envelope, when the body is a JSON object that has one. */
  peekType(): string | undefined {
    try {
      const body = this.body();
      const type = body !== null && typeof body === 'object' ? (body as { type?: unknown }).type : undefined;
      return typeof type === 'string' ? type : undefined;
    } catch {
      return undefined;
    }
  }

  /** The envelope's `jobId`, when the body has a well-formed one (for logs and dead letters). */
  peekJobId(): string | undefined {
    try {
      const body = this.body();
      const jobId = body !== null && typeof body === 'object' ? (body as { jobId?: unknown }).jobId : undefined;
      return typeof jobId === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(jobId) ? jobId : undefined;
    } catch {
      return undefined;
    }
  }

  /** Validates the body as an envelope of `kind`. */
  parse<T extends string, P, I>(kind: MessageKind<T, P, I>): Envelope<T, P> {
    const json = this.body();
    const parsed = kind.envelope.safeParse(json);
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      throw new PoisonMessageError(`body of ${this.subject} is not a valid ${kind.type} v${kind.version} envelope: ${issues.join('; ')}`, {
        cause: parsed.error,
      });
    }
    return parsed.data;
  }

  /** Tells the server the handler is still working, resetting the ack deadline. */
  working(): void {
    this.msg.working();
  }
}
