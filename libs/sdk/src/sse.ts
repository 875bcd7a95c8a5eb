import { ProtocolError } from './errors';

/** One Server-Sent Event as sent: its id, event name and data lines joined. */
export interface SseFrame {
  readonly id?: string;
  readonly event?: string;
  readonly data: string;
}

/**
 * The frames of an SSE body, as they arrive. A frame longer than `maxFrameBytes` is a
 * ProtocolError: the server bounds its events, so an endless line is not an event.
 */
export async function* sseFrames(body: AsyncIterable<Uint8Array>, maxFrameBytes: number): AsyncGenerator<SseFrame> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = frameEnd(buffer)) >= 0) {
      const raw = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^(\r\n|\n|\r){2}/, '');
      const frame = parseFrame(raw);
      if (frame) yield frame;
    }
    if (buffer.length > maxFrameBytes) throw new ProtocolError(`An event from the API is over ${maxFrameBytes} bytes; the stream is not what the API sends.`);
  }
}

function frameEnd(buffer: string): number {
  const match = /\r\n\r\n|\n\n|\r\r/.exec(buffer);
  return match ? match.index : -1;
}

/** A frame's fields; undefined for a comment-only (keep-alive) frame. */
function parseFrame(raw: string): SseFrame | undefined {
  let id: string | undefined;
  let event: string | undefined;
  const data: string[] = [];
  for (const line of raw.split(/\r\n|\n|\r/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
  }
  if (id === undefined && event === undefined && data.length === 0) return undefined;
  return { id, event, data: data.join('\n') };
}
