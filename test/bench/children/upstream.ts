/**
 * The benchmark's upstream: a minimal node:http server in a process of its own.
 * - any request without `Authorization: Bearer <something>` → 401
 * - any path starting /api/v1/revoked with a JWT issued more than REVOKED_AFTER_S ago → 401,
 *   as GreenLake answers a revoked token: greenlake-proxy drops it, fetches another, replays (the soak)
 * - GET /download?bytes=N → N bytes of application/octet-stream
 * - POST|PUT /upload → reads the body to the end, answers {"bytes": N}
 * - anything else → a fixed JSON body of about 1 KiB
 * Reports `{ port }` over IPC once listening; exits when the parent goes away.
 */
import http from 'node:http';

const SMALL_BODY = Buffer.from(
  JSON.stringify({
    items: Array.from({ length: 8 }, (_, i) => ({
      id: `3f0c2a4e-8b1d-4c6e-9a7f-${String(i).padStart(12, '0')}`,
      name: `volume-${i}`,
      sizeMiB: 1024 * (i + 1),
      state: 'online',
    })),
    count: 8,
    offset: 0,
    total: 8,
  }),
);
const UNAUTHORIZED = Buffer.from('{"error":"unauthorized"}');
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
/** Age (seconds, by the JWT's iat) past which /api/v1/revoked refuses a token. */
const REVOKED_AFTER_S = 15;

/** Seconds since the bearer JWT's `iat`; 0 when it is not a JWT with one. */
function tokenAgeSeconds(auth: string): number {
  const payload = auth.slice(7).split('.')[1];
  if (payload === undefined) return 0;
  try {
    const { iat } = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { iat?: unknown };
    return typeof iat === 'number' ? Date.now() / 1000 - iat : 0;
  } catch {
    return 0;
  }
}

const server = http.createServer((req, res) => {
  const auth = req.headers.authorization;
  if (typeof auth !== 'string' || !auth.startsWith('Bearer ') || auth.length <= 7) {
    res.writeHead(401, { 'content-type': 'application/json', 'content-length': UNAUTHORIZED.length });
    res.end(UNAUTHORIZED);
    req.resume();
    return;
  }
  const url = req.url ?? '/';
  if (url.startsWith('/api/v1/revoked') && tokenAgeSeconds(auth) > REVOKED_AFTER_S) {
    res.writeHead(401, { 'content-type': 'application/json', 'content-length': UNAUTHORIZED.length });
    res.end(UNAUTHORIZED);
    req.resume();
    return;
  }
  if (url.startsWith('/download')) return download(url, res);
  if (url.startsWith('/upload')) return upload(req, res);
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': SMALL_BODY.length });
  res.end(SMALL_BODY);
});
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.requestTimeout = 0;

function download(url: string, res: http.ServerResponse): void {
  const bytes = Number(new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('bytes') ?? '0');
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes });
  let left = bytes;
  const pump = (): void => {
    while (left > 0) {
      const n = Math.min(left, CHUNK.length);
      left -= n;
      const more = res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n));
      if (!more) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

function upload(req: http.IncomingMessage, res: http.ServerResponse): void {
  let bytes = 0;
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  req.on('end', () => {
    const body = Buffer.from(JSON.stringify({ bytes }));
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
}

server.on('error', (err) => {
  process.send?.({ error: `upstream: cannot listen: ${err.message}` });
  process.exit(1);
});
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 });
});
process.on('disconnect', () => process.exit(0));
