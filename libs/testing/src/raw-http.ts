import { connect } from 'node:net';

/**
 * HTTP spoken by hand over a socket, for what fetch cannot send: oversized or malformed
 * heads, bytes that are not HTTP, and clients that trickle their request.
 */

/** A response as read off the socket. */
export interface RawHttpResponse {
  /** 0 when the server closed without answering. */
  readonly status: number;
  /** Header names lower-cased. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Parses what a server wrote on a connection that carried one response. */
export function parseRawHttpResponse(text: string): RawHttpResponse {
  const split = text.indexOf('\r\n\r\n');
  const head = split < 0 ? text : text.slice(0, split);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.filter((line) => line.includes(':')).map((line) => [line.slice(0, line.indexOf(':')).trim().toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine.split(' ')[1] ?? 0) || 0, headers, body: split < 0 ? '' : text.slice(split + 4) };
}

/** Bytes to keep sending, one piece every `everyMs`, until the server closes the connection. */
export interface Trickle {
  readonly everyMs: number;
  /** The i-th piece (from 0). */
  readonly next: (i: number) => string;
}

/**
 * Opens a connection to `host:port`, writes `head`, then (with `trickle`) keeps writing a
 * piece at a time, until the server closes the connection; resolves with what the server
 * wrote and how many pieces were sent. A reset while writing is the server hanging up,
 * not a failure: the answer is whatever it wrote before.
 */
export function rawHttpExchange(port: number, head: string, trickle?: Trickle, host = '127.0.0.1'): Promise<{ response: RawHttpResponse; trickled: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host);
    const chunks: Buffer[] = [];
    let trickled = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
    });
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ response: parseRawHttpResponse(Buffer.concat(chunks).toString('utf8')), trickled });
    });
    socket.write(head);
    if (trickle) {
      timer = setInterval(() => {
        if (socket.writable) socket.write(trickle.next(trickled++));
      }, trickle.everyMs);
    }
  });
}
