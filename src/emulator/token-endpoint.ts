/**
 * The OAuth token endpoint: the classic /as/token.oauth2 and the workspace-scoped
 * /authorization/v2/oauth2/<workspace>/token (which also does RFC 8693 token exchange).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { presentedCredentials } from './client-auth.ts';
import type { PresentedCredentials } from './client-auth.ts';
import type { EmulatorContext } from './context.ts';
import { oauthError } from './errors.ts';
import { pause } from './pause.ts';
import { pathOf } from './request-parts.ts';
import { readSmallBody } from './streams.ts';
import { defaultWorkspaceId } from './token-issuer.ts';
import type { IssueOptions, IssuerKind, TokenSubject } from './token-issuer.ts';
import type { EmulatorClient, TokenFault, TokenRequestRecord } from './types.ts';

export const CLASSIC_TOKEN_PATH = '/as/token.oauth2';
export function workspaceTokenPath(workspaceId: string): string {
  return `/authorization/v2/oauth2/${workspaceId}/token`;
}

const CLIENT_CREDENTIALS = 'client_credentials';
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const WORKSPACE_ID = /^[0-9a-f]{1,64}$/i;
const MAX_FORM_BYTES = 64 * 1024;
const DEFAULT_SUB = 'api.user@example.com';
/** What a `malformed` fault answers: 200, claims JSON, is not a token answer (not even JSON). */
const MALFORMED_BODY = '{"access_token": "eyJhbGciOiJSUzI1NiJ9.trunc';

interface TokenAnswer {
  status: number;
  body: string | object;
  headers?: Record<string, string>;
}

type Form = { ok: true; params: ReadonlyMap<string, string> } | { ok: false; message: string };

interface TokenRequest {
  form: Form;
  credentials: PresentedCredentials;
  /** From the URL; undefined on the classic endpoint. */
  workspaceId: string | undefined;
}

export function registerTokenEndpoint(app: FastifyInstance, ctx: EmulatorContext): void {
  app.post(CLASSIC_TOKEN_PATH, (request, reply) => handleTokenRequest(ctx, request, reply, undefined));
  app.post<{ Params: { workspaceId: string } }>(workspaceTokenPath(':workspaceId'), (request, reply) =>
    handleTokenRequest(ctx, request, reply, request.params.workspaceId),
  );
}

async function handleTokenRequest(
  ctx: EmulatorContext,
  request: FastifyRequest,
  reply: FastifyReply,
  workspaceId: string | undefined,
): Promise<void> {
  const at = Date.now();
  const form = await readForm(request);
  const credentials = presentedCredentials(request.headers.authorization, form.ok ? form.params : undefined);
  const record: TokenRequestRecord = {
    at,
    clientId: credentials.clientId,
    authMethod: credentials.method,
    grantType: form.ok ? form.params.get('grant_type') : undefined,
    status: 0,
    path: pathOf(request),
  };
  ctx.journal.addTokenRequest(record);

  const answer = await answerWithFaults(ctx, { form, credentials, workspaceId });
  if (answer === undefined) {
    // A hang, or the emulator closed during a delay: never answer; close() destroys the socket.
    reply.hijack();
    return;
  }
  record.status = answer.status;
  reply
    .code(answer.status)
    .headers({ 'content-type': 'application/json;charset=UTF-8', 'cache-control': 'no-store', pragma: 'no-cache' })
    .headers(answer.headers ?? {})
    .send(answer.body);
}

async function readForm(request: FastifyRequest): Promise<Form> {
  const contentType = request.headers['content-type'] ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType)) {
    return { ok: false, message: 'Content-Type must be application/x-www-form-urlencoded' };
  }
  const body = await readSmallBody(request.raw, MAX_FORM_BYTES);
  if (body === undefined) return { ok: false, message: 'Request body is too large' };
  const params = new Map<string, string>();
  for (const [name, value] of new URLSearchParams(body.toString('utf8'))) {
    if (params.has(name)) return { ok: false, message: `Parameter ${name} is repeated` };
    params.set(name, value);
  }
  return { ok: true, params };
}

/** undefined: do not answer at all. */
async function answerWithFaults(ctx: EmulatorContext, tokenRequest: TokenRequest): Promise<TokenAnswer | undefined> {
  const fault = ctx.tokenFault.take();
  switch (fault?.kind) {
    case 'status':
      return faultStatusAnswer(fault);
    case 'malformed':
      return { status: 200, body: MALFORMED_BODY };
    case 'hang':
      return undefined;
    case 'delay':
      if (!(await pause(fault.ms, ctx.closing))) return undefined;
      break;
  }
  const shape: AnswerShape = { withExpiresIn: fault?.kind !== 'no-expires-in' };
  if (fault?.kind === 'exp-differs') shape.expSeconds = fault.expSeconds;
  return decideTokenAnswer(ctx, tokenRequest, shape);
}

/** How the token answer is bent by a fault: no `expires_in`, or a JWT exp that differs from it. */
interface AnswerShape {
  withExpiresIn: boolean;
  expSeconds?: number;
}

function faultStatusAnswer(fault: Extract<TokenFault, { kind: 'status' }>): TokenAnswer {
  const headers: Record<string, string> = {};
  if (fault.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
  if (fault.body !== undefined) {
    if (!isJson(fault.body)) headers['content-type'] = 'text/plain;charset=UTF-8';
    return { status: fault.status, body: fault.body, headers };
  }
  const error = fault.status >= 500 ? 'server_error' : fault.status === 429 ? 'too_many_requests' : 'invalid_request';
  return { status: fault.status, body: oauthError(error, `Injected fault: HTTP ${fault.status}`), headers };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

async function decideTokenAnswer(ctx: EmulatorContext, tokenRequest: TokenRequest, shape: AnswerShape): Promise<TokenAnswer> {
  const { form, credentials, workspaceId } = tokenRequest;
  if (workspaceId !== undefined && !WORKSPACE_ID.test(workspaceId)) {
    return invalidRequest('The workspace id must be hexadecimal without hyphens');
  }
  if (!form.ok) return invalidRequest(form.message);
  if (credentials.problem !== undefined) return invalidRequest(credentials.problem);
  const grantType = form.params.get('grant_type');
  if (grantType === undefined) return invalidRequest('grant_type is required');
  if (grantType === CLIENT_CREDENTIALS) {
    return clientCredentialsGrant(ctx, credentials, workspaceId, shape);
  }
  if (grantType === TOKEN_EXCHANGE && workspaceId !== undefined) {
    return tokenExchangeGrant(ctx, form.params, credentials, workspaceId, shape);
  }
  return { status: 400, body: oauthError('unsupported_grant_type', `Grant type ${grantType} is not supported here`) };
}

async function clientCredentialsGrant(
  ctx: EmulatorContext,
  credentials: PresentedCredentials,
  workspaceId: string | undefined,
  shape: AnswerShape,
): Promise<TokenAnswer> {
  const authentication = authenticateClient(ctx, credentials);
  if (!authentication.ok) return authentication.answer;
  const { client } = authentication;
  const subject: TokenSubject = {
    clientId: client.clientId,
    sub: client.sub ?? DEFAULT_SUB,
    workspaceId: workspaceId ?? defaultWorkspaceId(client.clientId),
  };
  return issueToken(ctx, subject, { ...shape, kind: workspaceId === undefined ? 'classic' : 'workspace' }, {});
}

/** RFC 8693, as GreenLake's MSP mode uses it: an access token of ours buys one for the workspace in the URL. */
async function tokenExchangeGrant(
  ctx: EmulatorContext,
  params: ReadonlyMap<string, string>,
  credentials: PresentedCredentials,
  workspaceId: string,
  shape: AnswerShape,
): Promise<TokenAnswer> {
  if (credentials.method !== 'none') {
    const authentication = authenticateClient(ctx, credentials);
    if (!authentication.ok) return authentication.answer;
  }
  const subjectToken = params.get('subject_token');
  if (subjectToken === undefined) return invalidRequest('subject_token is required');
  if (params.get('subject_token_type') !== ACCESS_TOKEN_TYPE) {
    return invalidRequest(`subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
  }
  const verdict = await ctx.issuer.verify(subjectToken, ctx.origin());
  if (!verdict.ok) return invalidRequest(`subject_token is not valid: ${verdict.message}`);
  return issueToken(ctx, { ...verdict.subject, workspaceId }, { ...shape, kind: 'workspace' }, { issued_token_type: ACCESS_TOKEN_TYPE });
}

type Authentication = { ok: true; client: EmulatorClient } | { ok: false; answer: TokenAnswer };

function authenticateClient(ctx: EmulatorContext, credentials: PresentedCredentials): Authentication {
  const { clientId, clientSecret } = credentials;
  if (credentials.malformedBasic) return { ok: false, answer: invalidClient(credentials, 'Malformed Basic credentials') };
  if (clientId === undefined || clientSecret === undefined) {
    return { ok: false, answer: invalidRequest('client_id and client_secret are required') };
  }
  const client = ctx.clients.get(clientId);
  if (client === undefined || client.clientSecret !== clientSecret) {
    return { ok: false, answer: invalidClient(credentials, 'Client authentication failed') };
  }
  return { ok: true, client };
}

async function issueToken(
  ctx: EmulatorContext,
  subject: TokenSubject,
  shape: AnswerShape & { kind: IssuerKind },
  extra: Record<string, string>,
): Promise<TokenAnswer> {
  const options: IssueOptions = shape.expSeconds === undefined ? { kind: shape.kind } : { kind: shape.kind, expSeconds: shape.expSeconds };
  const { accessToken, expiresIn } = await ctx.issuer.issue(subject, ctx.origin(), options);
  const body = shape.withExpiresIn
    ? { access_token: accessToken, token_type: 'Bearer', expires_in: expiresIn, ...extra }
    : { access_token: accessToken, token_type: 'Bearer', ...extra };
  return { status: 200, body };
}

function invalidRequest(description: string): TokenAnswer {
  return { status: 400, body: oauthError('invalid_request', description) };
}

function invalidClient(credentials: PresentedCredentials, description: string): TokenAnswer {
  // RFC 6749 §5.2: a 401 to Basic authentication carries the matching challenge.
  const headers: Record<string, string> =
    credentials.method === 'client_secret_basic' ? { 'www-authenticate': 'Basic realm="greenlake-emulator"' } : {};
  return { status: 401, body: oauthError('invalid_client', description), headers };
}
