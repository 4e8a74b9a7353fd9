/**
 * Test helpers, NOT part of GreenLake (bearer-protected like the real endpoints):
 * /echo/*, /download?bytes=N[&cutAfter=M], /upload, /redirect?to=..., /status/<code>.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { apiRecordOf } from './api-guard.ts';
import { sendGreenLakeError } from './replies.ts';
import { singleParam } from './request-parts.ts';
import { patternStream } from './streams.ts';

const MAX_DOWNLOAD_BYTES = 2 ** 40;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export function registerTestRoutes(app: FastifyInstance): void {
  app.all('/echo', echo);
  app.all('/echo/*', echo);
  app.get('/download', download);
  app.route({ method: ['POST', 'PUT'], url: '/upload', handler: upload });
  app.get('/redirect', redirect);
  app.get('/status/:code', status);
}

/** What arrived: rawUrl byte for byte, headers as received, the body's size and sha256. */
function echo(request: FastifyRequest) {
  const record = apiRecordOf(request);
  return {
    method: record.method,
    rawUrl: record.rawUrl,
    headers: record.headers,
    bodyBytes: record.bodyBytes,
    bodySha256: record.bodySha256,
  };
}

/**
 * N bytes of the pattern `byte i = i mod 251`, generated chunk by chunk. cutAfter=M: announces
 * N bytes but closes the connection after M, as an upstream that fails mid-answer does.
 */
function download(request: FastifyRequest, reply: FastifyReply) {
  const bytes = byteCount(singleParam(request, 'bytes') ?? '');
  if (!(bytes <= MAX_DOWNLOAD_BYTES)) {
    return sendGreenLakeError(reply, 400, `bytes must be an integer from 0 to ${MAX_DOWNLOAD_BYTES}`);
  }
  const cutParam = singleParam(request, 'cutAfter');
  if (cutParam !== undefined) {
    const cutAfter = byteCount(cutParam);
    if (!(cutAfter < bytes)) return sendGreenLakeError(reply, 400, 'cutAfter must be an integer below bytes');
    return sendCutShort(reply, bytes, cutAfter);
  }
  return reply
    .header('content-type', 'application/octet-stream')
    .header('content-length', String(bytes))
    .send(patternStream(bytes));
}

function byteCount(text: string): number {
  return /^\d{1,13}$/.test(text) ? Number(text) : Number.NaN;
}

function sendCutShort(reply: FastifyReply, announced: number, sent: number): void {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': announced });
  const body = patternStream(sent);
  body.pipe(res, { end: false });
  body.on('end', () => res.destroy());
}

/** The body was read and hashed as a stream by the guard. */
function upload(request: FastifyRequest) {
  const record = apiRecordOf(request);
  return { bytes: record.bodyBytes, sha256: record.bodySha256 };
}

/**
 * Location: `to` verbatim. With absolute=1 and a path in `to`, the Location is an
 * absolute URL on this emulator's own origin, built from the request's Host header.
 */
function redirect(request: FastifyRequest, reply: FastifyReply) {
  const to = singleParam(request, 'to');
  const code = Number(singleParam(request, 'status') ?? '302');
  if (to === undefined || to === '') return sendGreenLakeError(reply, 400, 'to is required');
  if (!REDIRECT_STATUSES.has(code)) return sendGreenLakeError(reply, 400, 'status must be 301, 302, 303, 307 or 308');
  const absolute = singleParam(request, 'absolute') === '1' && to.startsWith('/');
  const location = absolute ? `${request.protocol}://${request.headers.host ?? request.host}${to}` : to;
  return reply.code(code).header('location', location).send({ location });
}

/** Any status with GreenLake's error body; retryAfter=N adds Retry-After. */
function status(request: FastifyRequest<{ Params: { code: string } }>, reply: FastifyReply) {
  const code = /^\d{3}$/.test(request.params.code) ? Number(request.params.code) : 0;
  if (code < 200 || code > 599) return sendGreenLakeError(reply, 400, 'status code must be from 200 to 599');
  reply.header('x-emulator', '1');
  const retryAfter = singleParam(request, 'retryAfter');
  if (retryAfter !== undefined) reply.header('retry-after', retryAfter);
  return sendGreenLakeError(reply, code, `Status ${code} as requested`);
}

