/**
 * A second set of mutants, written without reading mutants.ts's list (issue 17: "a mutation run
 * by someone else, with mutants of their own"): `npm run mutation -- --set independent`. Same
 * shape and rules as mutants.ts. Each is aimed at the test files a developer changing that
 * module would run.
 */
import type { Mutant } from './mutants.ts';

const TOKENS = ['test/tokens.test.ts', 'test/token-hardening.test.ts', 'test/token-refresh-point.test.ts', 'test/token-cooldown-retry-after.test.ts'];
const TOKEN_REQUEST = ['test/tokens.test.ts', 'test/token-hardening.test.ts', 'test/oauth.test.ts'];
const MSP = ['test/msp.test.ts'];
const SHARED = ['test/store-redis.test.ts', 'test/store-redis-locks.test.ts'];
const FORWARDING = ['test/forwarding.test.ts', 'test/location-prefix.test.ts', 'test/security/http-edges.test.ts', 'test/nested-prefixes.test.ts', 'test/cut-chunked-answer.test.ts'];
const LOCATION = ['test/location-prefix.test.ts', 'test/forwarding.test.ts'];
const UPSTREAM_HEADERS = ['test/forwarding.test.ts', 'test/security/http-edges.test.ts', 'test/security/api-keys.test.ts', 'test/security/hygiene.test.ts', 'test/request-id.test.ts'];
const TOKEN_PATHS = ['test/token-endpoint-paths.test.ts', 'test/local-token.test.ts'];
const LOCAL_TOKEN = ['test/local-token.test.ts', 'test/local-token-units.test.ts'];
const BODIES = ['test/tokens.test.ts', 'test/forwarding.test.ts', 'test/security/slow-bodies.test.ts', 'test/replay-body-limit.test.ts'];
const API_KEYS = ['test/security/api-keys.test.ts', 'test/security/jwt.test.ts'];
const BROWSER = ['test/security/browser.test.ts', 'test/security/admin-scope.test.ts', 'test/host-name-case.test.ts'];
const JWT = ['test/security/jwt.test.ts'];
const ADMIN_LOCAL = ['test/local-token.test.ts', 'test/security/admin-scope.test.ts', 'test/stand-in-admin-scope.test.ts'];
const BUDGET = ['test/rate-limit-budget.test.ts', 'test/budget-api-path.test.ts', 'test/rate-limit-retry-after-first.test.ts'];
const BUDGET_MSP = ['test/rate-limit-budget.test.ts', 'test/msp.test.ts'];
const STORE = ['test/store-redis.test.ts', 'test/store-redis-locks.test.ts'];
const STORE_LIMITS = ['test/store-redis-limits.test.ts'];

function m(id: string, file: string, find: string, replace: string, tests: readonly string[], what: string): Mutant {
  return { id, file, find, replace, tests, what };
}

export const INDEPENDENT_MUTANTS: readonly Mutant[] = [
  // tokens/ (9)
  m('tokens-refresh-floor-as-ceiling', 'src/tokens/keeper.ts', 'const refreshIn = Math.max(MIN_REFRESH_DELAY_MS,', 'const refreshIn = Math.min(MIN_REFRESH_DELAY_MS,', TOKENS, 'the refresh floor became a ceiling: a token is refetched every second'),
  m('tokens-one-attempt-too-many', 'src/tokens/keeper.ts', 'err.retryable && attempt < maxAttempts', 'err.retryable && attempt <= maxAttempts', TOKENS, 'a round makes tokens.maxAttempts + 1 attempts'),
  m('tokens-4xx-retried', 'src/tokens/request-token.ts', 'const retryable = status === 429 || status === 408 || status >= 500;', 'const retryable = status === 429 || status === 408 || status >= 400;', TOKEN_REQUEST, 'a 400/401 from the token endpoint (bad credentials) is retried like an outage'),
  m('tokens-retry-after-as-ms', 'src/tokens/request-token.ts', 'return { retryAfterMs: Math.min(seconds * 1000, MAX_RETRY_AFTER_MS) };', 'return { retryAfterMs: Math.min(seconds, MAX_RETRY_AFTER_MS) };', TOKEN_REQUEST, "a token endpoint's Retry-After in seconds is read as milliseconds"),
  m('tokens-regions-share-keeper', 'src/tokens/registry.ts', 'return JSON.stringify(tenant === undefined ? [client, region] : [client, region, tenant]);', 'return JSON.stringify(tenant === undefined ? [client] : [client, region, tenant]);', TOKENS, 'routes of one client in two regions share one keeper and token'),
  m('tokens-workspace-id-not-normalised', 'src/tokens/registry.ts', 'keeper.workspaceId === id) return keeper;', 'keeper.workspaceId === nameOrId) return keeper;', MSP, 'X-GreenLake-Workspace with a workspace ID in UUID style or upper case finds no tenant'),
  m('tokens-exchange-retry-same-subject', 'src/tokens/sources.ts', 'if (!refusesSubject(err) || !deps.subject.invalidate(first)) throw err;', 'if (!refusesSubject(err)) throw err;', MSP, 'a refused MSP token is not dropped before the exchange is retried: the same one is sent again'),
  m('tokens-no-single-flight', 'src/tokens/keeper.ts', 'this.#withDeadline(this.#inflight ?? this.#startFetch(), waitMs)', 'this.#withDeadline(this.#startFetch(), waitMs)', TOKENS, 'concurrent requests on a cold cache each start their own token fetch'),
  m('tokens-shared-wait-past-deadline', 'src/tokens/shared.ts', 'const deadline = Date.now() + options.waitMs / 2;', 'const deadline = Date.now() + options.waitMs * 2;', SHARED, "a replica waits for another's lock longer than requests wait for a token"),

  // proxy/ (13)
  m('proxy-cookie-forwarded', 'src/proxy/headers.ts', "  'cookie',\n", '', UPSTREAM_HEADERS, "the caller's Cookie header is forwarded upstream"),
  m('proxy-bearer-to-token-endpoint', 'src/proxy/headers.ts', '/^basic /i.test(authorization)', '/^(basic|bearer) /i.test(authorization)', TOKEN_PATHS, "a forwarded token request carries the caller's Bearer credential (its proxy key) upstream"),
  m('proxy-location-query-not-under-base', 'src/proxy/headers.ts', "'/?#'.includes(rest.charAt(0))", "'/#'.includes(rest.charAt(0))", LOCATION, 'a Location of the base path followed by a query (/base?x) is not rewritten'),
  m('proxy-shortest-prefix-first', 'src/proxy/route-table.ts', 'b.mountPrefix.length - a.mountPrefix.length', 'a.mountPrefix.length - b.mountPrefix.length', FORWARDING, 'of nested prefixes (/a and /a/b) the shorter one wins'),
  m('proxy-prefix-then-query-unrouted', 'src/proxy/route-table.ts', "return next === '' || next === '/' || next === '?' ? rawUrl", "return next === '' || next === '/' ? rawUrl", FORWARDING, 'a request for the bare prefix with a query (/prefix?x=1) gets 404'),
  m('proxy-replays-streamed-body', 'src/proxy/forward.ts', 'if (renewed && body.replayable) {', 'if (renewed) {', BODIES, 'a 401 on a streamed (not held) body is replayed without its body'),
  m('proxy-token-path-gets-our-token', 'src/proxy/forward.ts', 'if (isTokenEndpointPath(match.upstreamPath)) return sendOnce(ctx, match, request, reply, body);', '', TOKEN_PATHS, "a token request forwarded upstream gets the proxy's token and is replayed on 401"),
  m('proxy-retry-after-zero', 'src/proxy/errors.ts', '{ retryAfterSeconds: Math.max(1, Math.ceil(err.nextAttemptInMs / 1000)) }', '{ retryAfterSeconds: Math.floor(err.nextAttemptInMs / 1000) }', TOKENS, 'the Retry-After of a token cool-down is rounded down, to 0 under a second'),
  m('proxy-cut-answer-ended', 'src/proxy/relay.ts', 'if (this.#sink !== null && !this.#sink.destroyed) this.#sink.destroy();', 'if (this.#sink !== null && !this.#sink.destroyed) this.#sink.end();', FORWARDING, 'an upstream answer cut short is ended as if whole'),
  m('proxy-tenant-list-taken-as-name', 'src/proxy/tenant.ts', "if (wanted === '' || wanted.includes(','))", "if (wanted === '')", MSP, 'X-GreenLake-Workspace naming two tenants is looked up as one name (403 unknown, not 400)'),
  m('proxy-body-at-limit-streams', 'src/proxy/request-body.ts', 'if (declared !== undefined && declared > holding.maxBodyBytes) return streamed(req, declared);', 'if (declared !== undefined && declared >= holding.maxBodyBytes) return streamed(req, declared);', BODIES, 'a body of exactly the replay limit is streamed, so a 401 on it is not replayed'),
  m('proxy-request-id-any-text', 'src/proxy/app.ts', "typeof inbound === 'string' && REQUEST_ID_PATTERN.test(inbound) ? inbound : randomUUID()", "typeof inbound === 'string' ? inbound : randomUUID()", UPSTREAM_HEADERS, "any caller X-Request-Id (any length, any characters) is taken as the request's id"),
  m('proxy-token-form-repeat-accepted', 'src/proxy/local-token.ts', 'if (form.has(name)) return new OAuthRefusal(400, \'invalid_request\', `parameter ${safeName(name)} is repeated`);', '', LOCAL_TOKEN, 'the local token endpoint accepts repeated form parameters (the last wins)'),
  m('proxy-downstream-request-id-dropped', 'src/proxy/headers.ts', "out['x-request-id'] = requestId;\n  return out;", 'return out;', UPSTREAM_HEADERS, "the answer carries the upstream's X-Request-Id (or none), not the proxy's"),

  // inbound/ (10)
  m('inbound-bearer-scheme-case', 'src/inbound/authenticate.ts', 'const BEARER = /^bearer +(\\S+) *$/i;', 'const BEARER = /^Bearer +(\\S+) *$/;', API_KEYS, 'the Bearer scheme is matched case-sensitively: "bearer <key>" is refused'),
  m('inbound-route-scope-skipped', 'src/inbound/principal.ts', '  if (principal.routes !== undefined && !principal.routes.has(route)) return forbidden(principal, `route ${route}`);\n', '', API_KEYS, "a key's routes list is not enforced"),
  m('inbound-same-site-allowed', 'src/inbound/browser.ts', "if (fetchSite === 'cross-site' || fetchSite === 'same-site') {", "if (fetchSite === 'cross-site') {", BROWSER, 'a request a browser labels Sec-Fetch-Site: same-site passes'),
  m('inbound-host-case-sensitive', 'src/inbound/hosts.ts', 'if (portAt <= 0 || portAt >= host.length) return host.toLowerCase();', 'if (portAt <= 0 || portAt >= host.length) return host;', BROWSER, 'a Host without a port is compared case-sensitively (Host: LOCALHOST refused)'),
  m('inbound-audience-not-checked', 'src/inbound/jwt.ts', '        audience: this.#config.audience,\n', '', JWT, "a JWT for another audience is accepted"),
  m('inbound-required-header-any-value', 'src/inbound/required-header.ts', 'if (value === required.value) return undefined;', 'if (value !== undefined) return undefined;', BROWSER, 'the required header passes with any value'),
  m('inbound-local-token-endpoint-needs-admin', 'src/inbound/guard.ts', "return url.startsWith(ADMIN_PREFIX) && url.split('?', 1)[0] !== LOCAL_TOKEN_ENDPOINT;", 'return url.startsWith(ADMIN_PREFIX);', ADMIN_LOCAL, '/-/oauth/token needs the admin scope: a plain API key gets no stand-in there'),
  m('inbound-stand-in-admin', 'src/inbound/stand-ins.ts', 'admin: false,', 'admin: true,', ADMIN_LOCAL, 'a stand-in token opens the admin endpoints'),
  m('inbound-local-client-id-ignored', 'src/inbound/local-tokens.ts', 'if (secretMatches && client.clientId === presented.clientId) found = true;', 'if (secretMatches) found = true;', LOCAL_TOKEN, 'localTokens.clients: a known secret with any client ID gets a stand-in'),
  m('inbound-token-path-case', 'src/inbound/token-paths.ts', 'const path = decodedOnce(pathOf(pathAndQuery)).toLowerCase();', 'const path = decodedOnce(pathOf(pathAndQuery));', TOKEN_PATHS, "an upper-case token path (/AS/TOKEN.OAUTH2) is not recognised: it gets the proxy's token"),

  // budget/ (5)
  m('budget-serials-not-generalised', 'src/budget/api-path.ts', 'return upper > 0 || length >= LONG_ID_FROM;', 'return length >= LONG_ID_FROM;', BUDGET, 'short IDs with capitals (serial numbers) are not generalised: each device has its own budget'),
  m('budget-reset-before-retry-after', 'src/budget/budget.ts', 'until = reading.retryAt ?? reading.resetAt ?? now + BLOCK_WITHOUT_RESET_MS;', 'until = reading.resetAt ?? reading.retryAt ?? now + BLOCK_WITHOUT_RESET_MS;', BUDGET, "a 429's Retry-After loses to its rate-limit reset"),
  m('budget-methods-share', 'src/budget/budget.ts', '${method} ${origin}${path}', '${origin}${path}', BUDGET, 'GET and POST of one path share one budget'),
  m('budget-tenants-share', 'src/budget/budget.ts', 'return budgetKey({ client: credential.client, tenant: credential.tenant, method,', 'return budgetKey({ client: credential.client, tenant: undefined, method,', BUDGET_MSP, "tenant workspaces share their MSP client's budgets"),
  m('budget-epoch-seconds-as-delay', 'src/budget/headers.ts', '  if (value > EPOCH_SECONDS_FROM) return notBeyond(value * 1000, now);\n', '', BUDGET, 'an X-RateLimit-Reset epoch in seconds is read as a delay'),

  // store/ (4)
  m('store-forget-other-token', 'src/store/redis.ts', 'this.#parse(value, key)?.accessToken !== accessToken) return;', 'this.#parse(value, key)?.accessToken === accessToken) return;', STORE, 'a refused token stays shared; a newer one is deleted instead'),
  m('store-lock-not-exclusive', 'src/store/redis.ts', "'PX', ttlMs, 'NX')", "'PX', ttlMs)", STORE, 'every replica gets the fetch lock'),
  m('store-replayed-message-accepted', 'src/store/budget-messages.ts', 'if (this.#seen.has(message.n) || this.#seen.size >= NONCES_KEPT) return undefined;', 'if (this.#seen.size >= NONCES_KEPT) return undefined;', STORE, 'a "budget closed" message published again is acted on again'),
  m('store-limit-name-plain', 'src/store/redis.ts', "name = `${this.#prefix}limit:${this.#sealer.name(['inbound-limit', caller])}`;", 'name = `${this.#prefix}limit:${caller}`;', STORE_LIMITS, "a rate-limit counter's Redis key names the key or address it counts"),
];
