/**
 * Tiny servers of our own for what the emulator cannot show: a token endpoint whose answers a
 * test writes (lifetimes that differ from the JWT exp, huge or endless answers, echoed input),
 * and an upstream that takes any bearer token. Both record exactly what they received.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Tap } from './index.ts';

export interface Received {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** The body exactly as sent. */
  readonly body: string;
}

/** Answers one request; `n` counts from 1. */
export type Answerer = (req: Received, res: ServerResponse, n: number) => void;

export interface RecordingServer {
  readonly url: string;
  readonly received: Received[];
  /** Replaced by tests as they go. */
  answer: Answerer;
}

export async function recordingServer(t: Tap, answer: Answerer): Promise<RecordingServer> {
  const received: Received[] = [];
  const state: RecordingServer = { url: '', received, answer };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const record = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(record);
      state.answer(record, res, received.length);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return Object.assign(state, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A token answer: `tok-<n>` living `expiresIn` seconds (leave it out for none). */
export function tokenAnswer(expiresIn: number | undefined, accessToken?: string): Answerer {
  return (_req, res, n) =>
    sendJson(res, 200, { access_token: accessToken ?? `tok-${n}`, token_type: 'Bearer', ...(expiresIn !== undefined && { expires_in: expiresIn }) });
}

/** A token endpoint that answers `tok-<n>` living an hour unless told otherwise. */
export function tokenServer(t: Tap, answer: Answerer = tokenAnswer(3600)): Promise<RecordingServer> {
  return recordingServer(t, answer);
}

/** An upstream that answers 200 `{}` to anything; what it got shows which token was forwarded. */
export function anyTokenUpstream(t: Tap, answer: Answerer = (_req, res) => sendJson(res, 200, {})): Promise<RecordingServer> {
  return recordingServer(t, answer);
}

/** The bearer tokens an upstream saw, in order. */
export function bearersSeenBy(upstream: RecordingServer): string[] {
  return upstream.received.map((r) => String(r.headers.authorization ?? '').replace(/^Bearer /, ''));
}

/** A config whose one client gets its tokens from `tokens` and whose one route `/api` goes to `upstream`. */
export function configWith(tokens: RecordingServer, upstream: RecordingServer, client: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    listen: { host: '127.0.0.1', port: 0 },
    clients: [{ name: 'team', clientId: 'the-client', clientSecret: 'the-secret', tokenUrl: `${tokens.url}/oauth2/token`, ...client }],
    routes: [{ prefix: '/api', upstream: upstream.url }],
    ...extra,
  };
}

/** A JWT-shaped token (unsigned: the proxy only reads its exp) with the given claims. */
export function jwtWith(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`;
}
