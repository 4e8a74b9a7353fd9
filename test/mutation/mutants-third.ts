/**
 * The third set (`npm run mutation -- --set third`): 30 mutants written by a third person who had
 * read neither mutants.ts nor mutants-independent.ts, only the Mutant type. Each is aimed at the
 * test files a developer changing that module would run.
 */
import type { Mutant } from './mutants.ts';

const KEEPER = ['test/tokens.test.ts', 'test/token-hardening.test.ts', 'test/token-cooldown-retry-after.test.ts'];
const TOKEN_REQUEST = ['test/tokens.test.ts', 'test/token-hardening.test.ts', 'test/oauth.test.ts'];
const SHARED = ['test/store-redis.test.ts', 'test/store-redis-locks.test.ts'];
const HEADERS = ['test/forwarding.test.ts', 'test/security/http-edges.test.ts'];
const TOKEN_PATHS = ['test/token-endpoint-paths.test.ts', 'test/oauth.test.ts'];
const LOCATION = ['test/location-prefix.test.ts', 'test/forwarding.test.ts'];
const ROUTES = ['test/forwarding.test.ts', 'test/nested-prefixes.test.ts', 'test/security/http-edges.test.ts'];
const REPLAY = ['test/replay-body-limit.test.ts', 'test/tokens.test.ts'];
const BUDGET = ['test/rate-limit-budget.test.ts', 'test/rate-limit-retry-after-first.test.ts'];
const ACCESS = ['test/security/access-rules.test.ts', 'test/security/allow-any-rule-permits.test.ts'];
const KEYS = ['test/security/api-keys.test.ts', 'test/security/access-rules.test.ts'];
const ADMIN = ['test/security/admin-scope.test.ts', 'test/security/api-keys.test.ts'];
const JWT = ['test/security/jwt.test.ts'];
const STORE = ['test/store-redis.test.ts', 'test/store-redis-locks.test.ts'];

const m = (id: string, file: string, find: string, replace: string, tests: readonly string[], what: string): Mutant => ({ id, file, find, replace, tests, what });

export const THIRD_MUTANTS: readonly Mutant[] = [
  // tokens/
  m('t3-tokens-late-401-drops-newer', 'src/tokens/keeper.ts', 'if (this.#token?.value !== token) return true;', 'if (this.#token === undefined) return true;', KEEPER, "a late 401 for an old token drops the newer token that replaced it"),
  m('t3-tokens-forced-refresh-unlimited', 'src/tokens/keeper.ts', 'if (now - this.#lastForcedAt < FORCED_REFRESH_INTERVAL_MS) {', 'if (now - this.#lastForcedAt < 0) {', KEEPER, 'every 401 drops the token: a path that always answers 401 costs one token fetch per request'),
  m('t3-tokens-cooldown-waits', 'src/tokens/keeper.ts', 'if (this.#lastError && delay > 0 && !background)', 'if (this.#lastError && delay > 60_000 && !background)', KEEPER, 'during a cool-down shorter than a minute requests wait for the next attempt instead of failing fast'),
  m('t3-tokens-failure-drops-usable', 'src/tokens/keeper.ts', 'if (this.#token && now >= this.#token.expiresAt) this.#token = undefined;', 'if (this.#token) this.#token = undefined;', KEEPER, 'a failed background refresh throws away a cached token that is still usable'),
  m('t3-tokens-basic-secret-raw', 'src/tokens/request-token.ts', '`${formEncode(req.clientId)}:${formEncode(req.clientSecret)}`', '`${formEncode(req.clientId)}:${req.clientSecret}`', TOKEN_REQUEST, 'client_secret_basic sends the secret without form-encoding it'),
  m('t3-tokens-4xx-retryable', 'src/tokens/request-token.ts', 'const retryable = status === 429 || status === 408 || status >= 500;', 'const retryable = status === 429 || status === 408 || status >= 400;', TOKEN_REQUEST, 'a 401/400 from the token endpoint (bad credentials) is retried and reported as unavailable, not rejected'),
  m('t3-tokens-shared-refused-reused', 'src/tokens/shared.ts', 'if (token === undefined || token.accessToken === refused) return false;', 'if (token === undefined) return false;', SHARED, 'a token the upstream refused is taken from the shared store again before its deletion lands'),
  // proxy/
  m('t3-proxy-method-override-passes', 'src/proxy/headers.ts', "  'x-http-method-override',\n", '', HEADERS, 'X-HTTP-Method-Override is forwarded upstream (a GET-only key could DELETE)'),
  m('t3-proxy-connection-named-upstream', 'src/proxy/headers.ts', '(named !== undefined && named.includes(name))', '(named !== undefined && named.includes(name) && dropped === DROPPED_DOWNSTREAM)', HEADERS, 'headers named in the caller\'s Connection header are forwarded upstream'),
  m('t3-proxy-bearer-to-token-endpoint', 'src/proxy/headers.ts', '/^basic /i.test(authorization)', '/^(basic|bearer) /i.test(authorization)', TOKEN_PATHS, "a token request passes the caller's Bearer credential (its proxy key) upstream"),
  m('t3-proxy-location-no-boundary', 'src/proxy/headers.ts', "return rest === '' || '/?#'.includes(rest.charAt(0)) ? rest : undefined;", 'return rest;', LOCATION, 'Location rewriting ignores path boundaries: /base also rewrites /basement'),
  m('t3-proxy-prefix-no-boundary', 'src/proxy/route-table.ts', "return next === '' || next === '/' || next === '?' ? rawUrl.slice(prefix.length) : undefined;", 'return rawUrl.slice(prefix.length);', ROUTES, 'a route prefix matches inside a segment: /glpx is routed as /glp + x'),
  m('t3-proxy-shortest-prefix-first', 'src/proxy/route-table.ts', 'b.mountPrefix.length - a.mountPrefix.length', 'a.mountPrefix.length - b.mountPrefix.length', ROUTES, 'routes are tried shortest prefix first: a nested route is shadowed by its parent'),
  m('t3-proxy-dot-segment-params', 'src/proxy/route-table.ts', "const name = segment.split(';', 1)[0];", 'const name = segment;', [...ROUTES, 'test/security/hygiene.test.ts'], 'a dot segment with ;params (..;/) is forwarded instead of refused'),
  m('t3-proxy-replay-streamed-body', 'src/proxy/forward.ts', 'if (renewed && body.replayable) {', 'if (renewed) {', REPLAY, 'after a 401 a request whose body was streamed (not held) is replayed without its body'),
  m('t3-proxy-429-full-allowance-again', 'src/proxy/forward.ts', 'return budget.settings.maxWaitMs - request.proxy.heldMs;', 'return budget.settings.maxWaitMs;', BUDGET, 'a request held and then answered 429 may be held a second full maxWaitMs'),
  m('t3-proxy-timeout-status-502', 'src/proxy/errors.ts', 'GREENLAKE_PROXY_UPSTREAM_TIMEOUT: 504,', 'GREENLAKE_PROXY_UPSTREAM_TIMEOUT: 502,', ['test/forwarding.test.ts'], 'an upstream timeout is answered 502 instead of 504'),
  // inbound/
  m('t3-inbound-read-only-ignored', 'src/inbound/access.ts', 'return config.readOnly || config.allow !== undefined ? new AccessRules(config, at) : undefined;', 'return config.allow !== undefined ? new AccessRules(config, at) : undefined;', ACCESS, 'readOnly without allow rules is never enforced'),
  m('t3-inbound-star-encoded-slash', 'src/inbound/access.ts', "return !/[/\\\\]/.test(decoded) && decoded !== '.' && decoded !== '..';", "return decoded !== '.' && decoded !== '..';", ACCESS, '`*` in an allow rule matches a segment with an encoded slash (a%2Fb), which an upstream may read as two'),
  m('t3-inbound-allow-every-rule', 'src/inbound/access.ts', 'return rules.some((rule) =>', 'return rules.every((rule) =>', ACCESS, 'a request must match every allow rule instead of one'),
  m('t3-inbound-allow-sees-query', 'src/inbound/access.ts', 'return queryAt === -1 ? pathAndQuery : pathAndQuery.slice(0, queryAt);', 'return pathAndQuery;', ACCESS, 'allow rules match against the path with its query: /devices?limit=1 is refused by a /devices rule'),
  m('t3-inbound-grant-client-negated', 'src/inbound/principal.ts', 'if (grant.clients !== undefined && !grant.clients.has(client)) continue;', 'if (grant.clients !== undefined && grant.clients.has(client)) continue;', [...JWT, ...ACCESS], "a JWT claim value's rules are applied to the other clients' routes instead of its own"),
  m('t3-inbound-key-methods-unchecked', 'src/inbound/principal.ts', "  if (principal.methods !== undefined && !principal.methods.has(method)) return forbidden(principal, `method ${method}`, 'methods');\n", '', KEYS, "an API key's methods list is not checked"),
  m('t3-inbound-admin-scope-negated', 'src/inbound/guard.ts', "if (outcome !== undefined && needsAdminScope(request.raw.url ?? '')) {", "if (outcome === undefined && needsAdminScope(request.raw.url ?? '')) {", ADMIN, 'a key without admin scope reaches the admin endpoints'),
  m('t3-inbound-jwt-bad-token-503', 'src/inbound/jwt.ts', 'JWKS_UNAVAILABLE_CODES.has(cause.code)', '!JWKS_UNAVAILABLE_CODES.has(cause.code)', JWT, 'a bad JWT is answered 503 (keys unavailable) instead of 401'),
  // budget/
  m('t3-budget-remaining-zero-reset-ignored', 'src/budget/budget.ts', 'else if (reading.remaining === 0) until = reading.resetAt ?? reading.retryAt;', 'else if (reading.remaining === 0) until = reading.retryAt;', BUDGET, 'remaining: 0 with only a reset header does not close the budget'),
  m('t3-budget-post-retried', 'src/budget/budget.ts', "if (!this.#settings.retryIdempotent || !replayable || !IDEMPOTENT_METHODS.has(key.method)) return false;", 'if (!this.#settings.retryIdempotent || !replayable) return false;', BUDGET, 'a POST answered 429 is sent again (not idempotent)'),
  m('t3-budget-later-reset-ignored', 'src/budget/budget.ts', 'if (current !== undefined && current >= until) return false;', 'if (current !== undefined && current <= until) return false;', [...BUDGET, 'test/budget-api-path.test.ts'], 'a later reset does not extend a closed budget, an earlier one shortens it'),
  // store/
  m('t3-store-unlock-anyones', 'src/store/redis.ts', 'this.#redis.eval(COMPARE_AND_DELETE, 1, this.#lockKey(slot), lockId)', 'this.#redis.del(this.#lockKey(slot))', STORE, "a replica whose lock expired deletes the new holder's lock"),
  m('t3-store-sealed-under-slot', 'src/store/redis.ts', "this.#redis.set(key, this.#sealer.seal(plain, key), 'PX', ttl)", "this.#redis.set(key, this.#sealer.seal(plain, slot), 'PX', ttl)", STORE, 'tokens are sealed under the slot, not the key name: no replica can open a shared token'),
];
