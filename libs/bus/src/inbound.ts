import { Envelope, MessageKind } from '@orchestra/contracts';
import { JsMsg } from '@nats-io/jetstream';
import { PoisonMessageError } from './errors';

const decoder = new TextDecoder();

/**
 * A message as a handler sees it: where it came from, how often it was delivered, and
 * `parse(kind)` to validate it as one of the contracts' envelopes. A body that is not
 * JSON or not a valid envelope raises PoisonMessageError, which dead-letters it.
 */
export class InboundMessage {
  constructor(private readonly msg: JsMsg) {}

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

  /** The `type` field of the envelope, when the body is a JSON object that has one. */
  peekType(): string | undefined {
    try {
      const type = (JSON.parse(this.text()) as { type?: unknown }).type;
      return typeof type === 'string' ? type : undefined;
    } catch {
      return undefined;
    }
  }

  /** Validates the body as an envelope of `kind`. */
  parse<T extends string, P, I>(kind: MessageKind<T, P, I>): Envelope<T, P> {
    let json: unknown;
    try {
      json = JSON.parse(this.text());
    } catch (error) {
      throw new PoisonMessageError(`body of ${this.subject} is not JSON`, { cause: error });
    }
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
