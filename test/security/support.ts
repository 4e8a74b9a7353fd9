import { connect } from 'node:net';

export interface RawAnswer {
  /** 0 when the server closed the connection without answering. */
  readonly status: number;
  readonly head: string;
  readonly body: string;
}

/**
 * Writes request bytes exactly as given, for what undici refuses to send (absolute-form
 * targets, CR/LF, oversized or unfinished headers), and reads until the server closes.
 * `chunks` are written in turn, `pauseMs` apart (slow clients).
 */
export function rawHttp(url: string, chunks: string | readonly string[], pauseMs = 0): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const parts = typeof chunks === 'string' ? [chunks] : chunks;
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // The server may reset a connection it already answered: the answer is what counts.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') return;
      reject(err);
    });
    socket.on('close', () => resolve(parse(Buffer.concat(received).toString('latin1'))));
    socket.on('connect', () => void writeInTurn(parts, pauseMs, (part) => !socket.destroyed && socket.write(part)));
  });
}

async function writeInTurn(parts: readonly string[], pauseMs: number, write: (part: string) => unknown): Promise<void> {
  for (const [index, part] of parts.entries()) {
    if (index > 0 && pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    write(part);
  }
}

function parse(text: string): RawAnswer {
  const end = text.indexOf('\r\n\r\n');
  const head = end === -1 ? text : text.slice(0, end);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, head, body: end === -1 ? '' : text.slice(end + 4) };
}

/** One request with `Connection: close`, so the server closes after answering. */
export function rawRequest(url: string, requestLine: string, headers: readonly string[] = []): Promise<RawAnswer> {
  const host = new URL(url).host;
  return rawHttp(url, `${requestLine}\r\nHost: ${host}\r\n${[...headers, 'Connection: close'].join('\r\n')}\r\n\r\n`);
}

export { freePort } from '../helpers/index.ts';
