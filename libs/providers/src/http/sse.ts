import { StreamFormatError } from './gateway-http';

/**
 * Server-Sent Events as OpenAI-compatible gateways send them: `data: <json>` lines separated by
 * blank lines, ended by `data: [DONE]`. Text arrives in arbitrary pieces; each complete `data:`
 * payload is handed on once. A line longer than `maxLineChars` is refused (a stream without
 * newlines would otherwise grow the buffer without bound).
 */
export class SseDataReader {
  private buffer = '';
  /** Whether `data: [DONE]` was seen. */
  done = false;

  constructor(
    private readonly onData: (data: string) => void,
    private readonly maxLineChars: number,
  ) {}

  push(text: string): void {
    this.buffer += text;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).replace(/\r$/, '');
      this.buffer = this.buffer.slice(nl + 1);
      this.line(line);
    }
    if (this.buffer.length > this.maxLineChars) throw new StreamFormatError(`SSE line longer than ${this.maxLineChars} characters`);
  }

  /** Flushes a final unterminated line. */
  end(): void {
    if (this.buffer) this.line(this.buffer.replace(/\r$/, ''));
    this.buffer = '';
  }

  private line(line: string): void {
    if (!line.startsWith('data:')) return; // comments (`: keep-alive`), event names, blank separators
    const data = line.slice(5).trim();
    if (data === '[DONE]') this.done = true;
    else if (!this.done && data !== '') this.onData(data);
  }
}
