import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import type { InboundConfig } from '../config/index.ts';
import { KeyRing } from './api-keys.ts';
import { Authenticator } from './authenticate.ts';
import { checkBrowserRequest } from './browser.ts';
import { InboundError } from './errors.ts';
import { HostAllowList } from './hosts.ts';
import { checkAdminScope, checkScope, type Principal } from './principal.ts';
import type { JwtVerifier } from './jwt.ts';
import type { RateLimiter, SharedCounter } from './rate-limit.ts';
import { checkRequiredHeader, requiredHeader, type RequiredHeader } from './required-header.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the caller's key or token has been accepted; undefined without inbound authentication. */
    principal: Principal | undefined;
  }
}

export interface InboundOptions {
  readonly config: InboundConfig;
  /** The listen address: part of the Host allow-list. */
  readonly listenHost: string;
  /** Routes open without key, required header or rate limit: the health probes. */
  readonly openRoutes: readonly string[];
  /** For fetching the JWKS (it trusts caFile). */
  readonly dispatcher?: Dispatcher;
  /** Where replicas count rate limits together (Redis); without it, each process counts its own. */
  readonly counter?: SharedCounter;
  /** The separate admin listener's address, when there is one: its own Host allow-list. */
  readonly adminHost?: string | undefined;
}

/** Everything that decides whether a caller may use the proxy, for the listeners of one gateway. */
export interface Inbound {
  /**
   * The cheap header checks (Host, browser origin, required header), for the listener's own
   * onRequest hook to call: a second onRequest hook cost 1.2 % of a proxied request's
   * instructions (callgrind), for Fastify's hook machinery alone.
   */
  screen(request: FastifyRequest): InboundError | undefined;
  /** Adds this listener's authentication and rate-limit hook, when either is configured. */
  register(app: FastifyInstance): Promise<void>;
  /** Before forwarding: throws InboundError when the principal may not use this method, route or client. */
  authorize(request: FastifyRequest, route: string, client: string): void;
  /** The separate admin listener's checks: Host (against its own address) and browser origin. */
  screenOperations(request: FastifyRequest): InboundError | undefined;
  /**
   * A reloaded configuration (SIGHUP): keys, JWT settings, hosts, origins and the required
   * header apply to the next request, on open connections too. Returns what still needs a restart.
   */
  reconfigure(config: InboundConfig): Promise<string[]>;
}

const ADMIN_PREFIX = '/-/';

export function createInbound(options: InboundOptions): Inbound {
  const openRoutes: ReadonlySet<string> = new Set(options.openRoutes);
  let config = options.config;
  let checks = requestChecks(config, options.listenHost, openRoutes);
  let operationsChecks = requestChecks(config, options.adminHost ?? options.listenHost, openRoutes);
  // Made with the first listener's app and shared by all, so a key has one budget whichever port it uses.
  let shared: Promise<Admission | undefined> | undefined;
  return {
    screen(request) {
      return firstRefusal(request, checks);
    },
    screenOperations(request) {
      const headers = request.headers;
      return operationsChecks.hosts.check(headers.host) ?? checkBrowserRequest(headers.origin, headers['sec-fetch-site'], operationsChecks.origins);
    },
    async register(app) {
      app.decorateRequest('principal', undefined);
      const admission = await (shared ??= admissionFor(app, options, openRoutes));
      if (admission !== undefined) app.addHook('onRequest', (request, reply) => admit(request, reply, admission));
    },
    authorize(request, route, client) {
      const principal = request.principal;
      if (principal === undefined) return;
      const refusal = checkScope(principal, request.method, route, client);
      if (refusal !== undefined) throw refusal;
    },
    async reconfigure(next) {
      const needRestart = restartNeeded(config, next);
      const before = config;
      config = next;
      checks = requestChecks(next, options.listenHost, openRoutes);
      operationsChecks = requestChecks(next, options.adminHost ?? options.listenHost, openRoutes);
      const admission = await shared;
      if (admission !== undefined) admission.authenticator = await reloadedAuthenticator(next, before, admission.authenticator, options.dispatcher);
      // Started with neither keys, JWT nor rate limit: no hook checks callers, and adding one needs a restart.
      else if (hasAuthentication(next)) needRestart.push('inbound.apiKeys/inbound.jwt (the proxy started without inbound authentication)');
      return needRestart;
    },
  };
}

function requestChecks(config: InboundConfig, listenHost: string, openRoutes: ReadonlySet<string>): RequestChecks {
  return {
    hosts: new HostAllowList(listenHost, config.allowedHosts),
    origins: new Set(config.allowedOrigins),
    header: config.requireHeader === undefined ? undefined : requiredHeader(config.requireHeader),
    openRoutes,
  };
}

/** What a running process cannot change about callers: the rate-limit plugin and the parser's header limit are set up once. */
function restartNeeded(before: InboundConfig, after: InboundConfig): string[] {
  const fixed: Array<[string, (c: InboundConfig) => unknown]> = [
    ['inbound.rateLimit', (c) => c.rateLimit],
    ['inbound.maxHeaderBytes', (c) => c.maxHeaderBytes],
    ['inbound.maxReplayMemoryBytes', (c) => c.maxReplayMemoryBytes],
  ];
  return fixed.filter(([, pick]) => JSON.stringify(pick(before)) !== JSON.stringify(pick(after))).map(([name]) => name);
}

function hasAuthentication(config: InboundConfig): boolean {
  return config.apiKeys.length > 0 || config.jwt !== undefined;
}

interface RequestChecks {
  readonly hosts: HostAllowList;
  readonly origins: ReadonlySet<string>;
  readonly header: RequiredHeader | undefined;
  readonly openRoutes: ReadonlySet<string>;
}

/** Cheap header checks, in order: Host (every request), browser origin (every request), required header. */
function firstRefusal(request: FastifyRequest, checks: RequestChecks): InboundError | undefined {
  const headers = request.headers;
  return (
    checks.hosts.check(headers.host) ??
    checkBrowserRequest(headers.origin, headers['sec-fetch-site'], checks.origins) ??
    (checks.header === undefined || isOpen(request, checks.openRoutes)
      ? undefined
      : checkRequiredHeader(headers[checks.header.name], checks.header))
  );
}

/**
 * Authentication and rate limiting, when configured. jose and @fastify/rate-limit are loaded
 * only then: a laptop or sidecar proxy never pays their memory and start time.
 */
async function admissionFor(app: FastifyInstance, options: InboundOptions, openRoutes: ReadonlySet<string>): Promise<Admission | undefined> {
  const { config } = options;
  const authenticator = await newAuthenticator(config, options.dispatcher);
  const limiter =
    config.rateLimit === undefined ? undefined : await (await import('./rate-limit.ts')).createRateLimiter(app, config.rateLimit, options.counter);
  return authenticator === undefined && limiter === undefined ? undefined : { authenticator, limiter, openRoutes };
}

async function newAuthenticator(config: InboundConfig, dispatcher: Dispatcher | undefined): Promise<Authenticator | undefined> {
  const jwt = config.jwt === undefined ? undefined : new (await import('./jwt.ts')).JwtVerifier(config.jwt, dispatcher);
  return authenticatorOf(new KeyRing(config.apiKeys), jwt);
}

function authenticatorOf(keys: KeyRing, jwt: JwtVerifier | undefined): Authenticator | undefined {
  return keys.size > 0 || jwt !== undefined ? new Authenticator(keys, jwt) : undefined;
}

/** The reloaded keys, always; the JWT verifier is kept when its settings did not change (with the JWKS it fetched). */
async function reloadedAuthenticator(next: InboundConfig, before: InboundConfig, current: Authenticator | undefined, dispatcher: Dispatcher | undefined): Promise<Authenticator | undefined> {
  const kept = current?.jwt !== undefined && JSON.stringify(next.jwt) === JSON.stringify(before.jwt) ? current.jwt : undefined;
  if (kept === undefined) return newAuthenticator(next, dispatcher);
  return authenticatorOf(new KeyRing(next.apiKeys), kept);
}

interface Admission {
  /** Replaced on reload: the next request on any connection uses the new one. */
  authenticator: Authenticator | undefined;
  readonly limiter: RateLimiter | undefined;
  readonly openRoutes: ReadonlySet<string>;
}

/**
 * Authenticates, then counts the request (failed attempts too, per address), then refuses if
 * either said no; the admin endpoints need the admin scope besides.
 */
async function admit(request: FastifyRequest, reply: FastifyReply, admission: Admission): Promise<void> {
  const { authenticator, limiter, openRoutes } = admission;
  if (isOpen(request, openRoutes)) return;
  const outcome = authenticator === undefined ? undefined : await authenticator.authenticate(request.headers);
  if (outcome !== undefined && !(outcome instanceof InboundError)) request.principal = outcome;
  const limited = limiter === undefined ? undefined : await limiter(request, reply);
  if (limited !== undefined) throw limited;
  if (outcome instanceof InboundError) throw outcome;
  if (outcome !== undefined && request.raw.url?.startsWith(ADMIN_PREFIX)) {
    const refusal = checkAdminScope(outcome);
    if (refusal !== undefined) throw refusal;
  }
}

function isOpen(request: FastifyRequest, openRoutes: ReadonlySet<string>): boolean {
  return request.routeOptions.url !== undefined && openRoutes.has(request.routeOptions.url);
}
