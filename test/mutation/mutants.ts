/**
 * The mutants `npm run mutation` plants, one at a time. Each is one small bug of the kind a real
 * change introduces, in the core modules, with the tests aimed at it. `find` must occur exactly
 * once in `file` (else the mutant is reported as not applicable: update it with the code).
 */
export interface Mutant {
  readonly id: string;
  readonly file: string;
  readonly find: string;
  readonly replace: string;
  /** Test files that should catch it. */
  readonly tests: readonly string[];
  /** The bug, in words. */
  readonly what: string;
}

const TOKENS = ['test/tokens.test.ts', 'test/token-hardening.test.ts'];
const SHARED = ['test/store-redis.test.ts', 'test/store-redis-locks.test.ts'];
const TOKENS_SHARED = SHARED;
const STORE = SHARED;
const PROXY_HEADERS = ['test/forwarding.test.ts', 'test/security/http-edges.test.ts', 'test/security/api-keys.test.ts'];
const PROXY_FWD = ['test/forwarding.test.ts'];
const PROXY_TOKENS = ['test/tokens.test.ts'];
const TOKEN_PATHS = ['test/token-endpoint-paths.test.ts'];
const LOCATION = ['test/location-prefix.test.ts', 'test/forwarding.test.ts'];
const FUZZ = ['test/security/fuzz.test.ts'];
/** The route-table checks, each escape sent by name (the fuzz alone misses the ones a base path makes harmless). */
const PATH_ESCAPES = ['test/security/hygiene.test.ts', ...FUZZ];
const EDGES = ['test/security/http-edges.test.ts'];
const BUDGET = ['test/rate-limit-budget.test.ts'];
const BUDGET_SHARED = ['test/store-redis.test.ts'];
const API_KEYS = ['test/security/api-keys.test.ts'];
const LOCAL_TOKEN = ['test/local-token.test.ts', 'test/local-token-units.test.ts'];
const ADMIN = ['test/security/admin-scope.test.ts'];
const BROWSER = ['test/security/browser.test.ts'];
const EXPOSURE = ['test/security/browser.test.ts'];
const RATE = ['test/security/rate-limit.test.ts'];
const SEAL = ['test/store-seal.test.ts'];
const STORE_LIMITS = ['test/store-redis-locks.test.ts', 'test/store-redis.test.ts'];
const ACCESS = ['test/security/access-rules.test.ts'];
const EXEC = ['test/cli-exec.test.ts', 'test/cli-exec-lifecycle.test.ts'];

function m(id: string, file: string, find: string, replace: string, tests: readonly string[], what: string): Mutant {
  return { id, file, find, replace, tests, what };
}

export const MUTANTS: readonly Mutant[] = [
  {
    id: 'tokens-min-ttl-boundary',
    file: 'src/tokens/keeper.ts',
    find: 'if (lifetimeSeconds <= tokens.minTtlSeconds) {',
    replace: 'if (lifetimeSeconds < tokens.minTtlSeconds) {',
    tests: ['test/tokens.test.ts', 'test/token-hardening.test.ts'],
    what: 'a token living exactly minTtlSeconds is taken as usable',
  },
  // tokens/
  m('tokens-usable-until-inclusive', 'src/tokens/keeper.ts', 'return token && Date.now() < this.#usableUntil(token) ? token.value : undefined;', 'return token && Date.now() <= this.#usableUntil(token) + 60_000 ? token.value : undefined;', TOKENS, 'a cached token is served for a minute past its refresh point'),
  m('tokens-invalidate-newer', 'src/tokens/keeper.ts', "if (this.#token?.value !== token) return true;", "if (this.#token === undefined) return true;", TOKENS, 'a late 401 for an old token drops the newer one'),
  m('tokens-forced-interval-flip', 'src/tokens/keeper.ts', 'if (now - this.#lastForcedAt < FORCED_REFRESH_INTERVAL_MS) {', 'if (now - this.#lastForcedAt > FORCED_REFRESH_INTERVAL_MS) {', TOKENS, 'the forced-refresh guard is inverted'),
  m('tokens-invalidate-no-callback', 'src/tokens/keeper.ts', 'this.#deps.onInvalidate?.(token);', '', TOKENS_SHARED, 'a refused token is not dropped from the shared store'),
  m('tokens-no-background-retry', 'src/tokens/keeper.ts', 'this.#scheduleRefresh(cooldown);\n    return err;', 'return err;', TOKENS, 'a failed refresh is never retried in the background'),
  m('tokens-background-no-token-check', 'src/tokens/keeper.ts', 'if (this.#token === undefined && !this.#demand) return;', 'if (this.#token === undefined) return;', TOKENS, 'failing keepers with waiting requests never retry in the background'),
  m('tokens-expired-kept', 'src/tokens/keeper.ts', 'if (this.#token && now >= this.#token.expiresAt) this.#token = undefined;', '', TOKENS, 'an expired token stays cached after a failed refresh'),
  m('tokens-cooldown-for-requests', 'src/tokens/keeper.ts', 'if (this.#lastError && delay > 0 && !background) return', 'if (this.#lastError && delay < 0 && !background) return', TOKENS, 'requests during the cool-down hit the token endpoint'),
  m('tokens-retry-attempt-off-by-one', 'src/tokens/keeper.ts', 'attempt < maxAttempts &&', 'attempt <= maxAttempts &&', TOKENS, 'one token request more than maxAttempts'),
  m('tokens-retry-after-ignored', 'src/tokens/keeper.ts', 'return Math.max(jittered, retryAfterMs ?? 0);', 'return jittered;', TOKENS, 'Retry-After of the token endpoint is ignored'),
  m('tokens-status-200-only', 'src/tokens/request-token.ts', 'if (statusCode !== 200) throw', 'if (statusCode >= 400) throw', TOKENS, 'a 2xx/3xx other than 200 is read as a token answer'),
  m('tokens-retryable-4xx', 'src/tokens/request-token.ts', 'const retryable = status === 429 || status === 408 || status >= 500;', 'const retryable = status === 429 || status === 408 || status >= 400;', TOKENS, 'a 400/401 from the token endpoint is retried'),
  m('tokens-expires-in-loses', 'src/tokens/request-token.ts', "if (body.expires_in !== undefined && Number.isFinite(expiresIn) && expiresIn > 0) {", "if (exp === undefined && body.expires_in !== undefined && Number.isFinite(expiresIn) && expiresIn > 0) {", TOKENS, 'the JWT exp wins over expires_in'),
  m('tokens-token-type-unchecked', 'src/tokens/request-token.ts', "body.token_type.toLowerCase() !== 'bearer'", "body.token_type.toLowerCase() === 'mac'", TOKENS, 'a non-bearer token_type is accepted'),
  m('tokens-answer-cap-off', 'src/tokens/request-token.ts', 'if (size > maxBytes) throw tooLarge();', '', TOKENS, 'a chunked token answer is read without a cap'),
  m('tokens-basic-not-encoded', 'src/tokens/request-token.ts', "const raw = req.basicEncoding === 'raw';", 'const raw = true;', ['test/oauth.test.ts'], 'client_secret_basic credentials are not form-encoded'),
  m('tokens-shared-fresh-flip', 'src/tokens/shared.ts', 'if (fresh(shared.value)) return shared.value;', 'if (shared.value !== undefined) return shared.value;', SHARED, 'a stale shared token is taken'),
  m('tokens-shared-refused-taken', 'src/tokens/shared.ts', 'if (token === undefined || token.accessToken === refused) return false;', 'if (token === undefined) return false;', SHARED, 'a token refused upstream is read back from the store'),
  m('tokens-shared-no-reread', 'src/tokens/shared.ts', 'if (again.ok && fresh(again.value)) return again.value;', '', SHARED, 'the lock holder does not re-read the store and fetches again'),
  m('tokens-shared-no-unlock', 'src/tokens/shared.ts', 'void attempt(() => store.unlock(slot, lockId)).catch(() => {});', '', SHARED, 'the lock is never released'),
  m('tokens-shared-write-not-awaited', 'src/tokens/shared.ts', "if (write === 'first') await written;", '', SHARED, 'the lock holder releases before its token is written'),
  // proxy/
  m('proxy-connection-named-kept', 'src/proxy/headers.ts', '(named !== undefined && named.includes(name))', '(named !== undefined && named.includes(name) && false)', PROXY_HEADERS, 'headers named in Connection pass'),
  m('proxy-connection-case', 'src/proxy/headers.ts', "return connection.split(',').map((s) => s.trim().toLowerCase());", "return connection.split(',').map((s) => s.trim());", PROXY_HEADERS, 'Connection-named headers are matched case-sensitively'),
  m('proxy-drop-cookie-upstream', 'src/proxy/headers.ts', "  'cookie',\n", '', PROXY_HEADERS, 'the caller cookie is forwarded upstream'),
  m('proxy-drop-api-key-upstream', 'src/proxy/headers.ts', "  'x-api-key',\n", '', PROXY_HEADERS, "the caller's X-API-Key is forwarded upstream"),
  m('proxy-method-override-kept', 'src/proxy/headers.ts', "  'x-http-method-override',\n", '', PROXY_HEADERS, 'X-HTTP-Method-Override reaches upstream'),
  m('proxy-basic-bearer-passes', 'src/proxy/headers.ts', '/^basic /i.test(authorization)', '/^(basic|bearer) /i.test(authorization)', TOKEN_PATHS, "the caller's Bearer reaches the token endpoint"),
  m('proxy-location-boundary', 'src/proxy/headers.ts', "return rest === '' || '/?#'.includes(rest.charAt(0)) ? rest : undefined;", 'return rest;', LOCATION, '/base matches /basement in Location'),
  m('proxy-location-network-path', 'src/proxy/headers.ts', "return location.startsWith('//') ? location : rootRelative(location, route);", 'return rootRelative(location, route);', LOCATION, 'a //host Location is mapped as a path'),
  m('proxy-location-not-rewritten', 'src/proxy/headers.ts', "if (typeof out.location === 'string') out.location = rewriteLocation(out.location, route, proxyOrigin);", '', LOCATION, 'Location is passed unchanged'),
  m('proxy-request-id-down', 'src/proxy/headers.ts', "out['x-request-id'] = requestId;\n  return out;\n}\n\n/**\n * Where", "return out;\n}\n\n/**\n * Where", PROXY_FWD, 'the answer carries no x-request-id'),
  m('proxy-dot-segments', 'src/proxy/route-table.ts', "if (decoded.split('/').some(isDotSegment)) throw", "if (decoded.split('/').slice(1, -1).some(isDotSegment)) throw", PATH_ESCAPES, 'a trailing /.. passes'),
  m('proxy-double-slash', 'src/proxy/route-table.ts', "if (decoded.startsWith('//')) throw", "if (decoded.startsWith('///')) throw", PATH_ESCAPES, '//host after the prefix passes'),
  m('proxy-decode-once', 'src/proxy/route-table.ts', "for (let i = 0; i < 2 && out.includes('%'); i++) {", "for (let i = 0; i < 1 && out.includes('%'); i++) {", PATH_ESCAPES, 'double-encoded dot segments pass'),
  m('proxy-two-hosts', 'src/proxy/request-checks.ts', 'if (hosts > 1) return', 'if (hosts > 2) return', EDGES, 'two Host headers pass'),
  m('proxy-transfer-coding', 'src/proxy/request-checks.ts', "codings.trim().toLowerCase() !== 'chunked'", "!codings.includes('chunked')", EDGES, 'gzip, chunked passes'),
  m('proxy-401-no-replay-check', 'src/proxy/forward.ts', 'if (renewed && body.replayable) {', 'if (body.replayable) {', PROXY_TOKENS, 'a 401 is replayed with the same token'),
  m('proxy-429-nonidempotent', 'src/budget/budget.ts', "if (!this.#settings.retryIdempotent || !replayable || !IDEMPOTENT_METHODS.has(key.method)) return false;", 'if (!this.#settings.retryIdempotent || !replayable) return false;', BUDGET, 'a POST answered 429 is retried'),
  // budget/
  m('budget-retry-allowance', 'src/budget/budget.ts', 'if (until !== undefined && until - Date.now() > allowanceMs) return false;', '', BUDGET, 'a 429 is retried past maxWaitMs'),
  m('budget-hold-deadline', 'src/budget/budget.ts', 'if (until > deadline) return finish(', 'if (until > deadline + 60_000) return finish(', BUDGET, 'a hold outlasts the allowance'),
  m('budget-remaining-zero', 'src/budget/budget.ts', 'else if (reading.remaining === 0) until = reading.resetAt ?? reading.retryAt;', '', BUDGET, 'remaining 0 does not close the budget'),
  m('budget-block-later-kept', 'src/budget/budget.ts', 'if (current !== undefined && current >= until) return false;', 'if (current !== undefined) return false;', BUDGET, 'a later reset does not extend a closed budget'),
  m('budget-reopen-inclusive', 'src/budget/budget.ts', 'if (Date.now() < until) return until;', 'if (Date.now() < until + 60_000) return until;', BUDGET, 'a budget stays closed a minute past its reset'),
  m('budget-no-share', 'src/budget/budget.ts', 'if (this.#close(key, until)) this.#share?.publish(key, until - now);', 'this.#close(key, until);', BUDGET_SHARED, 'a closed budget is not told to other replicas'),
  m('budget-epoch-seconds', 'src/budget/headers.ts', 'if (value > EPOCH_SECONDS_FROM) return notBeyond(value * 1000, now);', '', BUDGET, 'an epoch-seconds reset is read as seconds from now'),
  // inbound/
  m('inbound-api-key-any', 'src/inbound/authenticate.ts', "if (typeof apiKey === 'string') return this.#keys.find(apiKey) ?? notAccepted();", "if (typeof apiKey === 'string') return this.#keys.find(apiKey) ?? missing();", API_KEYS, 'a wrong X-API-Key is reported as missing'),
  m('inbound-stand-in-expiry', 'src/inbound/stand-ins.ts', 'return claims.exp > this.#now() ? principalOf(claims) : undefined;', 'return principalOf(claims);', LOCAL_TOKEN, 'an expired stand-in token is accepted'),
  m('inbound-stand-in-mac', 'src/inbound/stand-ins.ts', 'if (presented.length !== MAC_BYTES || !timingSafeEqual(presented, this.#mac(body))) return undefined;', 'if (presented.length !== MAC_BYTES) return undefined;', LOCAL_TOKEN, 'a forged stand-in is accepted'),
  m('inbound-no-stand-in-exchange', 'src/inbound/local-tokens.ts', "if (looksLikeStandIn(secret)) return refused(", "if (looksLikeStandIn(secret) && false) return refused(", LOCAL_TOKEN, 'a stand-in is exchanged for a new one'),
  m('inbound-route-scope', 'src/inbound/principal.ts', 'if (principal.routes !== undefined && !principal.routes.has(route)) return', 'if (principal.routes === undefined && !principal.routes) return', API_KEYS, "a key's route scope is ignored"),
  m('inbound-method-scope', 'src/inbound/principal.ts', 'if (principal.methods !== undefined && !principal.methods.has(method)) return', 'if (principal.methods !== undefined && principal.methods.size === 0) return', API_KEYS, "a key's method scope is ignored"),
  m('inbound-admin-scope', 'src/inbound/principal.ts', 'if (principal.admin) return undefined;', 'return undefined;', ADMIN, 'any key reaches the admin routes'),
  m('inbound-read-only-off', 'src/inbound/access.ts', 'if (this.config.readOnly && !SAFE.has(method)) {', 'if (false) {', ACCESS, 'a read-only route, key or JWT takes writes'),
  m('inbound-one-segment-slash', 'src/inbound/access.ts', "return !/[/\\\\]/.test(decoded) && decoded !== '.' && decoded !== '..';", "return decoded !== '.' && decoded !== '..';", ACCESS, '* matches a segment with an encoded slash'),
  m('inbound-literal-case', 'src/inbound/access.ts', 'part === segment;', 'part.toLowerCase() === segment.toLowerCase();', ACCESS, 'a literal pattern matches another case'),
  m('inbound-grant-clients', 'src/inbound/principal.ts', 'if (grant.clients !== undefined && !grant.clients.has(client)) continue;', '', ACCESS, "one claim value's rights lift another's read-only"),
  m('inbound-origin-case', 'src/inbound/browser.ts', 'if (allowedOrigins.has(origin.toLowerCase())) return undefined;', 'if (allowedOrigins.has(origin.toLowerCase()) || origin === "null") return undefined;', BROWSER, 'Origin: null passes'),
  m('inbound-same-site', 'src/inbound/browser.ts', "if (fetchSite === 'cross-site' || fetchSite === 'same-site') {", "if (fetchSite === 'cross-site') {", BROWSER, 'same-site browser requests pass'),
  m('inbound-host-check', 'src/inbound/hosts.ts', 'if (name === undefined || !this.#names.has(name)) return notAllowed();', 'if (name === undefined) return notAllowed();', EXPOSURE, 'any Host header passes (DNS rebinding)'),
  m('inbound-rate-limit-off', 'src/inbound/rate-limit.ts', 'if (decision.isAllowed || !decision.isExceeded) return undefined;', 'return undefined;', RATE, 'the inbound rate limit never refuses'),
  // store/
  m('store-unlock-any', 'src/store/redis.ts', 'await this.#run(() => this.#redis.eval(COMPARE_AND_DELETE, 1, this.#lockKey(slot), lockId));', 'await this.#run(() => this.#redis.del(this.#lockKey(slot)));', STORE, "a replica whose lock expired deletes the new holder's lock"),
  m('store-lock-not-nx', 'src/store/redis.ts', "this.#redis.set(this.#lockKey(slot), id, 'PX', ttlMs, 'NX')", "this.#redis.set(this.#lockKey(slot), id, 'PX', ttlMs)", STORE, 'two replicas both take the lock'),
  m('store-forget-any', 'src/store/redis.ts', 'if (value === null || this.#parse(value, key)?.accessToken !== accessToken) return;', 'if (value === null) return;', STORE, 'a 401 for an old token deletes the new shared token'),
  m('store-write-no-ttl', 'src/store/redis.ts', "this.#redis.set(key, this.#sealer.seal(plain, key), 'PX', ttl)", 'this.#redis.set(key, this.#sealer.seal(plain, key))', STORE, 'a shared token outlives its expiry in Redis'),
  m('store-seal-key-bound', 'src/store/seal.ts', 'if (version !== VERSION || keyId !== this.keyId ||', 'if (version !== VERSION ||', SEAL, 'a value sealed under another key id is opened'),
  m('store-budget-replay', 'src/store/budget-messages.ts', 'if (this.#seen.has(message.n) || this.#seen.size >= NONCES_KEPT) return undefined;', 'if (this.#seen.size >= NONCES_KEPT) return undefined;', STORE_LIMITS, 'a replayed budget message is taken again'),
  m('store-budget-stale', 'src/store/budget-messages.ts', 'if (age > MESSAGE_FRESH_MS || age < -MESSAGE_FRESH_MS) return undefined;', '', STORE_LIMITS, 'an old budget message is taken'),
  // cli/exec
  m('exec-secret-variables-kept', 'src/cli/exec-environment.ts', '...(config.secretVariables ?? [])', '', EXEC, "variables the config file's secrets came from reach the child"),
  m('exec-secret-values-kept', 'src/cli/exec-environment.ts', '|| holdsSecret(value, secrets)', '', EXEC, "a variable holding the secret's value reaches the child"),
  m('exec-read-only-ignored', 'src/cli/exec.ts', 'const scoped = options.readOnly ? withReadOnlyRoutes(config) : config;', 'const scoped = config;', EXEC, '--read-only lets writes through'),
  m('exec-token-not-required', 'src/cli/exec.ts', 'options.requireToken || ', '', EXEC, '--require-token asks nothing of callers'),
  m('exec-no-drain', 'src/cli/exec.ts', '    await gateway.close();', '    await gateway.close(0);', EXEC, 'in-flight requests are cut when the child exits'),
  m('exec-signal-status', 'src/cli/exec-child.ts', 'code ?? 128 + ', 'code ?? 1 + 0 * ', EXEC, 'a child killed by a signal gives exit status 1'),
  m('exec-ctrl-c-twice', 'src/cli/exec-child.ts', 'if (TERMINAL_SIGNALS.has(signal) && terminalReachesChild()) return;', '', EXEC, 'Ctrl-C from a terminal reaches the child twice'),
];
