import { connect, createServer as createNetServer, type Socket } from 'node:net';

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

/** One request as a raw upstream received it: its bytes up to the end of the head. */
export interface RawUpstreamRequest {
  readonly head: string;
  readonly requestLine: string;
}

export interface RawUpstream {
  readonly url: string;
  /** Request heads in the order their bytes arrived. */
  readonly received: RawUpstreamRequest[];
  close(): Promise<void>;
}

/**
 * An upstream on 127.0.0.1:0 that answers each request head with the bytes `answer` gives
 * (then leaves the connection open unless `answer` closes it), for answers no HTTP library
 * would write: 304 with Content-Length, unsolicited 100, UTF-8 header bytes, broken framing.
 */
export async function rawUpstream(answer: (request: RawUpstreamRequest, socket: Socket) => void): Promise<RawUpstream> {
  const received: RawUpstreamRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (let end = pending.indexOf('\r\n\r\n'); end !== -1; end = pending.indexOf('\r\n\r\n')) {
        const head = pending.subarray(0, end).toString('latin1');
        pending = pending.subarray(end + 4);
        const request = { head, requestLine: head.split('\r\n', 1)[0] ?? '' };
        received.push(request);
        answer(request, socket);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Writes `bytes` on a fresh connection and collects every byte until the server closes (or `until` holds). */
export function rawExchange(url: string, bytes: Buffer | string, until?: (received: Buffer) => boolean): Promise<Buffer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port) });
    const received: Buffer[] = [];
    const done = (): void => {
      socket.destroy();
      resolve(Buffer.concat(received));
    };
    socket.on('data', (chunk: Buffer) => {
      received.push(chunk);
      if (until?.(Buffer.concat(received))) done();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' || err.code === 'EPIPE' ? undefined : reject(err)));
    socket.on('close', done);
    socket.on('connect', () => socket.write(bytes));
  });
}
