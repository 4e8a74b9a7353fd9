import { SAFE_METHODS, type AccessConfig, type AllowRule } from '../config/index.ts';
import { AccessError } from './errors.ts';

const SAFE: ReadonlySet<string> = new Set(SAFE_METHODS);
const MAX_SHOWN_PATH = 200;

/** A pattern segment: a literal (compared byte for byte), ONE (`*`) or ANY (`**`). */
type PatternSegment = string | typeof ONE | typeof ANY;
const ONE = Symbol('*');
const ANY = Symbol('**');

interface CompiledRule {
  readonly methods: ReadonlySet<string> | undefined;
  readonly patterns: readonly (readonly PatternSegment[])[];
}

/**
 * One rule set (a route's, an API key's, a JWT claim value's): readOnly and allow, compiled once.
 * The path matched is the one within the route, without its query, exactly as the caller sent it:
 * nothing is decoded, so an encoded or differently cased path never matches a literal it is not.
 */
export class AccessRules {
  /** Where the rules are configured, for the log's refusedBy: `routes[/glp/global]`, `inbound.apiKeys[ci]`. */
  readonly at: string;
  /** The rules as configured (stand-ins carry them). */
  readonly config: AccessConfig;
  readonly #allow: readonly CompiledRule[] | undefined;

  private constructor(config: AccessConfig, at: string) {
    this.at = at;
    this.config = config;
    this.#allow = config.allow?.map(compileRule);
  }

  /** The compiled rules, or undefined when `config` has none (nothing to check). */
  static of(config: AccessConfig, at: string): AccessRules | undefined {
    return config.readOnly || config.allow !== undefined ? new AccessRules(config, at) : undefined;
  }

  /**
   * Why `method` on `pathAndQuery` (within the route) is refused; undefined when it passes. For the
   * message: `who` has these rules (`route /glp/global`, `key:ci`), `where` follows the request
   * (` on route /glp/global`).
   */
  check(method: string, pathAndQuery: string, who: string, where = ''): AccessError | undefined {
    const path = withoutQuery(pathAndQuery);
    const request = `${method} ${shown(path)}${where}`;
    if (this.config.readOnly && !SAFE.has(method)) {
      return new AccessError('GREENLAKE_PROXY_READ_ONLY', `${who} is read-only: ${request} is refused (only ${SAFE_METHODS.join(', ')} pass)`, `${this.at}.readOnly`);
    }
    if (this.#allow !== undefined && !permits(this.#allow, method, segmentsOf(path))) {
      return new AccessError('GREENLAKE_PROXY_NOT_ALLOWED', `${who}'s allow rules do not permit ${request}`, `${this.at}.allow`);
    }
    return undefined;
  }
}

function permits(rules: readonly CompiledRule[], method: string, segments: readonly string[]): boolean {
  return rules.some((rule) => (rule.methods === undefined || rule.methods.has(method)) && rule.patterns.some((pattern) => matches(pattern, segments)));
}

function compileRule(rule: AllowRule): CompiledRule {
  return { methods: rule.methods === undefined ? undefined : new Set(rule.methods), patterns: rule.paths.map(compilePattern) };
}

/** Patterns were checked at load (config/schema.ts checkPathPattern): `/`-separated, no empty segments. */
function compilePattern(pattern: string): PatternSegment[] {
  return segmentsOf(pattern).map((segment) => (segment === '*' ? ONE : segment === '**' ? ANY : segment));
}

/** `''` and `/` (the route's root) have no segments; `/a/` has two, the second empty. */
function segmentsOf(path: string): string[] {
  return path === '' || path === '/' ? [] : path.slice(1).split('/');
}

/**
 * Wildcard matching over segments, `*` as one segment and `**` as any run of them: the classic
 * greedy walk that backtracks only to the last `**`, so a long hostile path costs at most
 * (pattern length x path length) comparisons, never an exponential search.
 */
function matches(pattern: readonly PatternSegment[], segments: readonly string[]): boolean {
  let p = 0;
  let s = 0;
  let lastAny = -1;
  let resumeAt = 0;
  while (s < segments.length) {
    const part = pattern[p];
    if (part === ANY) {
      lastAny = p++;
      resumeAt = s;
    } else if (part !== undefined && matchesOne(part, segments[s] as string)) {
      p++;
      s++;
    } else if (lastAny !== -1) {
      p = lastAny + 1;
      s = ++resumeAt;
    } else {
      return false;
    }
  }
  while (pattern[p] === ANY) p++;
  return p === pattern.length;
}

function matchesOne(part: string | typeof ONE, segment: string): boolean {
  return part === ONE ? isOneSegment(segment) : part === segment;
}

/**
 * What `*` stands for: one non-empty segment that stays one whatever an upstream decodes (once
 * or twice, with Unicode compatibility forms folded): no encoded `/` or `\`, no dot segment.
 */
function isOneSegment(segment: string): boolean {
  if (segment === '' || segment.includes('\\')) return false;
  if (!segment.includes('%')) return segment !== '.' && segment !== '..';
  const decoded = decodedTwice(segment).normalize('NFKC');
  return !/[/\\]/.test(decoded) && decoded !== '.' && decoded !== '..';
}

const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

function decodedTwice(text: string): string {
  let out = text;
  for (let i = 0; i < 2 && out.includes('%'); i++) out = out.replace(PERCENT_RUN, (run) => Buffer.from(run.replaceAll('%', ''), 'hex').toString('utf8'));
  return out;
}

function withoutQuery(pathAndQuery: string): string {
  const queryAt = pathAndQuery.indexOf('?');
  return queryAt === -1 ? pathAndQuery : pathAndQuery.slice(0, queryAt);
}

function shown(path: string): string {
  const text = path === '' ? '/' : path;
  return text.length > MAX_SHOWN_PATH ? `${text.slice(0, MAX_SHOWN_PATH)}...` : text;
}
