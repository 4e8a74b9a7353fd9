import type { ServerResponse } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Inbound, TokenRequestCredentials } from '../inbound/index.ts';
import { readRequestBody, ReplayMemory, type BodyHolding } from './request-body.ts';

/** A client-credentials form is a few hundred bytes. */
const MAX_FORM_BYTES = 64 * 1024;
/** Token forms are small and read whole; they never take from the proxy's replay memory. */
const FORM_HOLDING: BodyHolding = { maxBodyBytes: MAX_FORM_BYTES, holdMs: 10_000, memory: new ReplayMemory(16 * MAX_FORM_BYTES) };
const FORM_TYPE = 'application/x-www-form-urlencoded';
const CLIENT_CREDENTIALS = 'client_credentials';
const BASIC = /^basic +([A-Za-z0-9+/=]+) *$/i;

type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'unsupported_grant_type' | 'temporarily_unavailable';

class OAuthRefusal {
  readonly status: number;
  readonly error: OAuthErrorCode;
  readonly description: string;
  readonly headers: Record<string, string>;

  constructor(status: number, error: OAuthErrorCode, description: string, headers: Record<string, string> = {}) {
    this.status = status;
    this.error = error;
    this.description = description;
    this.headers = headers;
  }
}

/**
 * The local token endpoint (RFC 6749 §4.4, client credentials): answers a stand-in token in
 * GreenLake's token answer shape, for tools that insist on fetching a token themselves. The
 * stand-in never leaves the proxy: requests carrying it are forwarded with the real token,
 * as any caller's Authorization is replaced. Errors are OAuth's (§5.2), not GreenLake's.
 */
export async function answerTokenRequest(inbound: Inbound, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const presented = await readTokenRequest(request, reply.raw);
  if (presented instanceof OAuthRefusal) return sendRefusal(reply, presented);
  const grant = await inbound.grantStandIn(presented);
  if (!grant.ok) {
    const status = grant.error === 'invalid_client' ? 401 : 503;
    // §5.2: a client that tried HTTP Basic is told the scheme to use.
    const challenge: Record<string, string> = status === 401 && hasBasic(request.headers) ? { 'www-authenticate': 'Basic realm="greenlake-proxy"' } : {};
    return sendRefusal(reply, new OAuthRefusal(status, grant.error, grant.description, challenge));
  }
  return noStore(reply)
    .code(200)
    .type('application/json; charset=utf-8')
    .send({ access_token: grant.standIn.token, token_type: 'Bearer', expires_in: grant.standIn.expiresIn });
}

async function readTokenRequest(request: FastifyRequest, res: ServerResponse): Promise<TokenRequestCredentials | OAuthRefusal> {
  if (request.method !== 'POST') return new OAuthRefusal(405, 'invalid_request', 'the token endpoint takes POST', { allow: 'POST' });
  if (mediaType(request.headers['content-type']) !== FORM_TYPE) {
    return new OAuthRefusal(400, 'invalid_request', `the body must be ${FORM_TYPE}`);
  }
  const form = await readForm(request, res);
  if (form instanceof OAuthRefusal) return form;
  const grantType = form.get('grant_type');
  if (grantType === undefined) return new OAuthRefusal(400, 'invalid_request', 'grant_type is missing');
  if (grantType !== CLIENT_CREDENTIALS) return new OAuthRefusal(400, 'unsupported_grant_type', `only ${CLIENT_CREDENTIALS} is supported here`);
  const basic = basicCredentials(request.headers.authorization);
  if (basic instanceof OAuthRefusal) return basic;
  if (basic !== undefined && form.has('client_secret')) {
    return new OAuthRefusal(400, 'invalid_request', 'client credentials both in the Authorization header and in the body: use one method');
  }
  return {
    clientId: basic?.clientId ?? form.get('client_id'),
    clientSecret: basic?.clientSecret ?? form.get('client_secret'),
    headers: request.headers,
  };
}

/** §3.2: parameters sent without a value are omitted, and none may be repeated. */
async function readForm(request: FastifyRequest, res: ServerResponse): Promise<Map<string, string> | OAuthRefusal> {
  const body = await readRequestBody(request.raw, FORM_HOLDING, res);
  if (body.kind === 'stream') return new OAuthRefusal(400, 'invalid_request', `the body is larger than ${MAX_FORM_BYTES} bytes`);
  const params = new URLSearchParams(body.kind === 'buffered' ? body.bytes.toString('utf8') : '');
  const form = new Map<string, string>();
  for (const [name, value] of params) {
    if (form.has(name)) return new OAuthRefusal(400, 'invalid_request', `parameter ${safeName(name)} is repeated`);
    if (value !== '') form.set(name, value);
  }
  return form;
}

/** §2.3.1: ID and secret are form-encoded, joined by `:`, then base64-encoded. */
function basicCredentials(authorization: string | undefined): { clientId: string; clientSecret: string } | OAuthRefusal | undefined {
  if (authorization === undefined || !/^basic\b/i.test(authorization)) return undefined;
  const encoded = BASIC.exec(authorization)?.[1];
  const decoded = encoded === undefined ? '' : Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return new OAuthRefusal(400, 'invalid_request', 'the Basic authorization header is malformed', { 'www-authenticate': 'Basic realm="greenlake-proxy"' });
  return { clientId: formDecoded(decoded.slice(0, colon)), clientSecret: formDecoded(decoded.slice(colon + 1)) };
}

function formDecoded(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    // Many clients send the secret as it is: one with a stray % is still theirs.
    return text;
  }
}

function hasBasic(headers: IncomingHttpHeaders): boolean {
  return headers.authorization !== undefined && /^basic\b/i.test(headers.authorization);
}

function mediaType(contentType: string | undefined): string | undefined {
  return contentType?.split(';', 1)[0]?.trim().toLowerCase();
}

/** A parameter name goes into a message only if it is a plain word: it may be anything a caller typed. */
function safeName(name: string): string {
  return /^[\w.-]{1,64}$/.test(name) ? name : '(a parameter)';
}

function sendRefusal(reply: FastifyReply, refusal: OAuthRefusal): FastifyReply {
  return noStore(reply)
    .code(refusal.status)
    .headers(refusal.headers)
    .type('application/json; charset=utf-8')
    .send({ error: refusal.error, error_description: refusal.description });
}

/** §5.1: token answers, and their errors, are never cached. */
function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}
