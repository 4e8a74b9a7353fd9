import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import type { InboundConfig } from '../config/index.ts';
import { KeyRing } from './api-keys.ts';
import { Authenticator } from './authenticate.ts';
import { checkBrowserRequest } from './browser.ts';
import { InboundError } from './errors.ts';
import { HostAllowList } from './hosts.ts';
import { grantStandIn, type StandInGrant, type TokenRequestCredentials } from './local-tokens.ts';
import type { AccessRules } from './access.ts';
import { checkAccess, checkAdminScope, checkScope, type Principal } from './principal.ts';
import type { JwtVerifier } from './jwt.ts';
import type { RateLimiter, SharedCounter } from './rate-limit.ts';
import { checkRequiredHeader, requiredHeader, type RequiredHeader } from './required-header.ts';
import { standInSigningKey, StandIns } from './stand-ins.ts';
import { isTokenEndpointPath, LOCAL_TOKEN_ENDPOINT } from './token-paths.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the caller's key or token has been accepted; undefined without inbound authentication. */
    principal: Principal | undefined;
    /**
     * A token request (POST to a token endpoint path) whose headers proved no one: its client
     * credentials may still (local-tokens.ts); anything else about it is refused with this.
     */
    authRefusal: InboundError | undefined;
  }
}

/** The route a request is about to reach (a mounted route is one): its name, its client, its own rules. */
export interface AccessTarget {
  readonly name: string;
  readonly config: { readonly client: string };
  readonly rules: AccessRules | undefined;
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
  /** A secret the replicas share (store.redis's encryption key, base64), so each accepts the others' stand-ins; without it, a random one. */
  readonly standInSecret?: string | undefined;
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
  /**
   * Before forwarding: why the request may not go on (InboundError: unauthenticated; AccessError,
   * naming the rule: outside the principal's scope, or refused by the route's or the principal's
   * readOnly or allow rules, which must all pass); undefined when it may. `pathAndQuery`: after the route's prefix,
   * as sent (rules never look at the query).
   */
  authorize(request: FastifyRequest, target: AccessTarget, pathAndQuery: string): InboundError | undefined;
  /** Whether token endpoint paths are answered by the proxy (inbound.localTokens.enabled). */
  readonly issuesStandIns: boolean;
  /** The local token endpoint's decision: a stand-in, or why not. */
  grantStandIn(presented: TokenRequestCredentials): Promise<StandInGrant>;
  /** The separate admin listener's checks: Host (against its own address) and browser origin. */
  screenOperations(request: FastifyRequest): InboundError | undefined;
  /**
   * A reloaded configuration (SIGHUP): keys, JWT settings, hosts, origins and the required
   * header apply to the next request, on open connections too. Returns what still needs a restart.
   */
  reconfigure(config: InboundConfig): Promise<string[]>;
}

const ADMIN_PREFIX = '/-/';

/** The admin endpoints; the local token endpoint lives under /-/ too, but hands out API access only. */
function needsAdminScope(url: string): boolean {
  return url.startsWith(ADMIN_PREFIX) && url.split('?', 1)[0] !== LOCAL_TOKEN_ENDPOINT;
}

export function createInbound(options: InboundOptions): Inbound {
  const openRoutes: ReadonlySet<string> = new Set(options.openRoutes);
  let config = options.config;
  let checks = requestChecks(config, options.listenHost, openRoutes);
  let operationsChecks = requestChecks(config, options.adminHost ?? options.listenHost, openRoutes);
  // Made with the first listener's app and shared by all, so a key has one budget whichever port it uses.
  let shared: Promise<Admission | undefined> | undefined;
  // Shared by all listeners too: a stand-in got on one port works on every other.
  let standIns = new StandIns(standInSigningKey(config, options.standInSecret));
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
      app.decorateRequest('authRefusal', undefined);
      const admission = await (shared ??= admissionFor(app, options, openRoutes, standIns));
      if (admission !== undefined) app.addHook('onRequest', (request, reply) => admit(request, reply, admission));
    },
    authorize(request, target, path) {
      if (request.authRefusal !== undefined) return request.authRefusal;
      const { principal, method } = request;
      const { name: route, rules } = target;
      const client = target.config.client;
      return (
        (principal === undefined ? undefined : checkScope(principal, method, route, client)) ??
        rules?.check(method, path, `route ${route}`) ??
        (principal === undefined ? undefined : checkAccess(principal, method, path, route, client))
      );
    },
    get issuesStandIns() {
      return config.localTokens.enabled;
    },
    async grantStandIn(presented) {
      const admission = await shared;
      return grantStandIn(config.localTokens, admission?.authenticator, standIns, presented);
    },
    async reconfigure(next) {
      const needRestart = restartNeeded(config, next);
      const before = config;
      config = next;
      checks = requestChecks(next, options.listenHost, openRoutes);
      operationsChecks = requestChecks(next, options.adminHost ?? options.listenHost, openRoutes);
      // Stand-ins are signed over the keys and JWT settings: changed ones revoke every stand-in issued before.
      standIns = new StandIns(standInSigningKey(next, options.standInSecret));
      const admission = await shared;
      if (admission !== undefined) admission.authenticator = await reloadedAuthenticator(next, before, admission.authenticator, options.dispatcher, standIns);
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
async function admissionFor(app: FastifyInstance, options: InboundOptions, openRoutes: ReadonlySet<string>, standIns: StandIns): Promise<Admission | undefined> {
  const { config } = options;
  const authenticator = await newAuthenticator(config, options.dispatcher, standIns);
  const limiter =
    config.rateLimit === undefined ? undefined : await (await import('./rate-limit.ts')).createRateLimiter(app, config.rateLimit, options.counter);
  return authenticator === undefined && limiter === undefined ? undefined : { authenticator, limiter, openRoutes };
}

async function newAuthenticator(config: InboundConfig, dispatcher: Dispatcher | undefined, standIns: StandIns): Promise<Authenticator | undefined> {
  const jwt = config.jwt === undefined ? undefined : new (await import('./jwt.ts')).JwtVerifier(config.jwt, dispatcher);
  return authenticatorOf(new KeyRing(config.apiKeys), jwt, standIns);
}

function authenticatorOf(keys: KeyRing, jwt: JwtVerifier | undefined, standIns: StandIns): Authenticator | undefined {
  return keys.size > 0 || jwt !== undefined ? new Authenticator(keys, jwt, standIns) : undefined;
}

/** The reloaded keys, always; the JWT verifier is kept when its settings did not change (with the JWKS it fetched). */
async function reloadedAuthenticator(
  next: InboundConfig,
  before: InboundConfig,
  current: Authenticator | undefined,
  dispatcher: Dispatcher | undefined,
  standIns: StandIns,
): Promise<Authenticator | undefined> {
  const kept = current?.jwt !== undefined && JSON.stringify(next.jwt) === JSON.stringify(before.jwt) ? current.jwt : undefined;
  if (kept === undefined) return newAuthenticator(next, dispatcher, standIns);
  return authenticatorOf(new KeyRing(next.apiKeys), kept, standIns);
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
  if (outcome instanceof InboundError) {
    // Counted above like any attempt; the token endpoint judges its client credentials itself.
    if (request.method === 'POST' && isTokenEndpointPath(request.raw.url ?? '')) {
      request.authRefusal = outcome;
      return;
    }
    throw outcome;
  }
  if (outcome !== undefined && needsAdminScope(request.raw.url ?? '')) {
    const refusal = checkAdminScope(outcome);
    if (refusal !== undefined) throw refusal;
  }
}

function isOpen(request: FastifyRequest, openRoutes: ReadonlySet<string>): boolean {
  return request.routeOptions.url !== undefined && openRoutes.has(request.routeOptions.url);
}
