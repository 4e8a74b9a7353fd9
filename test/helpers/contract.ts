/**
 * Contract tests: one emulator per test file, a token from its workspace issuer, and each
 * request of HPE's sources (test/contract/requests.ts) sent to it with its answer checked:
 * status, body against our JSON Schemas of HPE's published schemas, Location, and the
 * ratelimit-* headers HPE documents on GreenLake platform APIs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { decodeJwt } from 'jose';
import type { Agent } from 'undici';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { DEMO_CLIENT, type Emulator } from '../../src/emulator/index.ts';
import type { ContractRequest, Family, Source } from '../contract/requests.ts';
import { requestsOf } from '../contract/requests.ts';
import { call, client, delay, emulator, type Answer, type Tap } from './index.ts';

const SCHEMA_DIR = new URL('../contract/schemas/', import.meta.url);
export const SCHEMA_BASE = 'https://greenlake-proxy.invalid/contract/';
const STRICT_BASE = 'https://greenlake-proxy.invalid/contract-documented-only/';

type Json = Record<string, unknown>;

/** CONTRACT_UNDOCUMENTED=1 lists, as TAP comments, the fields an answer has beyond HPE's (open) schema; off by default, it doubles the schema compiling. */
const LIST_UNDOCUMENTED = process.env['CONTRACT_UNDOCUMENTED'] === '1';

// ajv-formats is CommonJS: its default export arrives as the module object under type stripping.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (
  ajv: Ajv2020,
) => void;

let validators: { hpe: Ajv2020; documentedOnly: Ajv2020 } | undefined;

/** Two validators over the same schema files: as written (HPE's contract), and closed (every object lists all its fields). */
function schemas(): { hpe: Ajv2020; documentedOnly: Ajv2020 } {
  if (validators !== undefined) return validators;
  const files = readdirSync(SCHEMA_DIR).filter((name) => name.endsWith('.json'));
  const hpe = newAjv();
  const documentedOnly = newAjv();
  for (const name of files) {
    const schema = JSON.parse(readFileSync(new URL(name, SCHEMA_DIR), 'utf8')) as Json;
    hpe.addSchema(schema);
    documentedOnly.addSchema({ ...closed(schema), $id: STRICT_BASE + name });
  }
  validators = { hpe, documentedOnly };
  return validators;
}

function newAjv(): Ajv2020 {
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  addFormats(ajv);
  return ajv;
}

/** A copy in which every object schema that lists properties and says nothing of others forbids them. */
function closed(node: unknown): Json {
  if (Array.isArray(node)) return node.map(closed) as unknown as Json;
  if (typeof node !== 'object' || node === null) return node as Json;
  const copy: Json = {};
  for (const [key, value] of Object.entries(node)) copy[key] = key === 'enum' || key === 'const' ? value : closed(value);
  const types = ([] as unknown[]).concat(copy['type'] ?? []);
  if (copy['properties'] !== undefined && types.includes('object') && copy['additionalProperties'] === undefined) {
    copy['additionalProperties'] = false;
  }
  return copy;
}

/** `glp-devices#device` -> the compiled validator of that $defs entry. */
function validatorFor(ajv: Ajv2020, base: string, ref: string): ValidateFunction {
  const [file, def] = ref.split('#');
  const id = `${base}${file}.json${def === undefined || def === '' ? '' : `#/$defs/${def}`}`;
  const validate = ajv.getSchema(id);
  if (validate === undefined) throw new Error(`No schema ${ref} (${id})`);
  return validate;
}

/** Where the value breaks the schema: one line per error, `<JSON pointer> <what> (<schema path>)`. */
export function schemaErrors(ref: string, value: unknown): string[] {
  const validate = validatorFor(schemas().hpe, SCHEMA_BASE, ref);
  return validate(value) ? [] : (validate.errors ?? []).map(describe);
}

/** Fields the value carries that HPE's schema does not name (allowed: HPE's schemas are open). */
export function undocumentedFields(ref: string, value: unknown): string[] {
  const validate = validatorFor(schemas().documentedOnly, STRICT_BASE, ref);
  if (validate(value)) return [];
  const extra = (validate.errors ?? []).filter((error) => error.keyword === 'additionalProperties');
  return [...new Set(extra.map((error) => `${error.instancePath}/${String(error.params['additionalProperty'])}`))];
}

export function assertSchemaRefResolves(ref: string): void {
  validatorFor(schemas().hpe, SCHEMA_BASE, ref);
}

function describe(error: ErrorObject): string {
  const detail = error.keyword === 'enum' ? ` ${JSON.stringify(error.params['allowedValues'])}` : '';
  return `${error.instancePath || '/'} ${error.message ?? error.keyword}${detail} (${error.schemaPath})`;
}

export interface ContractSession {
  readonly emu: Emulator;
  readonly agent: Agent;
  /** A workspace-issuer access token (what GreenLake platform clients use). */
  readonly token: string;
  readonly claims: Json;
  /** Answers of the rows run so far, by request name. */
  readonly answers: Map<string, Answer>;
  /** An API call with the session's bearer token; `pathAndQuery` as sent. */
  api(method: string, pathAndQuery: string, body?: unknown): Promise<Answer>;
}

/**
 * Starts an emulator for this test file, behaving as GreenLake does (its published per-API rate
 * limits, and so the ratelimit-* headers, on), and gets a token from its workspace issuer, as
 * HPE's collection does.
 */
export async function contractSession(t: Tap): Promise<ContractSession> {
  const emu = await emulator(t, { publishedRateLimits: true });
  const agent = client(t);
  const classic = await requestToken(agent, emu.tokenUrl);
  const workspaceId = String(decodeJwt(classic)['platform_customer_id']);
  const token = await requestToken(agent, emu.workspaceTokenUrl(workspaceId));
  return {
    emu,
    agent,
    token,
    claims: decodeJwt(token) as Json,
    answers: new Map(),
    api: (method, pathAndQuery, body) =>
      call(agent, emu.url + pathAndQuery, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      }),
  };
}

export function clientCredentialsForm(): string {
  return new URLSearchParams({ grant_type: 'client_credentials', client_id: DEMO_CLIENT.clientId, client_secret: DEMO_CLIENT.clientSecret }).toString();
}

async function requestToken(agent: Agent, url: string): Promise<string> {
  const answer = await call(agent, url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: clientCredentialsForm(),
  });
  if (answer.status !== 200) throw new Error(`token request to ${url} answered ${answer.status}`);
  return String(answer.json()['access_token']);
}

/** Runs every row of one family, in table order, one subtest each named `METHOD path (HPE's name)`. */
export async function runFamily(t: Tap, session: ContractSession, family: Family): Promise<void> {
  for (const request of requestsOf(family)) {
    await t.test(`${request.method} ${request.path}${request.query === undefined ? '' : `?${request.query}`} (${request.name})`, (t) =>
      checkRequest(t, session, request),
    );
  }
}

/** Sends one row's request and checks its answer against what HPE documents; returns the answer. */
export async function checkRequest(t: Tap, session: ContractSession, request: ContractRequest): Promise<Answer | undefined> {
  const values = await resolveParams(session, request);
  if (typeof values === 'string') {
    t.fail(values);
    return undefined;
  }
  const target = fillPath(request.path, values) + fillQuery(request.query, values);
  const answer = await send(session, request, target, values);
  session.answers.set(request.name, answer);
  const excerpt = { body: answer.text.slice(0, 400) };
  if (!t.equal(answer.status, request.status, `${request.method} ${target} answers ${request.status}`, excerpt)) return answer;
  checkBody(t, request, answer);
  checkHeaders(t, request, answer);
  return answer;
}

function checkBody(t: Tap, request: ContractRequest, answer: Answer): void {
  if (request.schema === undefined) {
    t.equal(answer.text, '', 'the body is empty, as HPE documents');
    return;
  }
  let body: unknown;
  try {
    body = JSON.parse(answer.text);
  } catch {
    t.fail('the body is JSON', { body: answer.text.slice(0, 400) });
    return;
  }
  t.same(schemaErrors(request.schema, body), [], `the body matches ${request.schema}`);
  if (!LIST_UNDOCUMENTED) return;
  const extra = undocumentedFields(request.schema, body);
  if (extra.length > 0) t.comment(`fields HPE's schema ${request.schema} does not name: ${extra.join(', ')}`);
}

function checkHeaders(t: Tap, request: ContractRequest, answer: Answer): void {
  if (request.location !== undefined) {
    const location = answer.headers['location'];
    t.type(location, 'string', 'the answer carries a Location header');
    if (typeof request.location === 'string' && typeof location === 'string') {
      t.ok(location.startsWith(request.location), `Location ${location} starts with ${request.location}`);
    }
  }
  if (!request.family.startsWith('glp-')) return;
  t.same(schemaErrors('headers#platformRateLimit', answer.headers), [], 'ratelimit-limit, -remaining and -reset are there, as counts');
  const limit = Number(answer.headers['ratelimit-limit']);
  const remaining = Number(answer.headers['ratelimit-remaining']);
  t.ok(remaining <= limit, `ratelimit-remaining (${remaining}) is at most ratelimit-limit (${limit})`);
  t.notOk('retry-after' in answer.headers, 'no Retry-After: HPE documents none');
}

async function send(session: ContractSession, request: ContractRequest, target: string, values: ReadonlyMap<string, string>): Promise<Answer> {
  if (request.form === true) {
    return call(session.agent, session.emu.url + target, {
      method: request.method,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: clientCredentialsForm(),
    });
  }
  return session.api(request.method, target, request.body === undefined ? undefined : fillBody(request.body, values));
}

function fillPath(path: string, values: ReadonlyMap<string, string>): string {
  return path.replace(/:([A-Za-z][\w-]*)/g, (_match, name: string) => encodeURIComponent(values.get(name) ?? `:${name}`));
}

/** `a=x {v}&b=` -> `?a=x%20<v>&b=`: each value filled in and percent-encoded, names and order kept. */
function fillQuery(query: string | undefined, values: ReadonlyMap<string, string>): string {
  if (query === undefined) return '';
  const pairs = query.split('&').map((pair) => {
    const equals = pair.indexOf('=');
    const name = pair.slice(0, equals);
    const value = pair.slice(equals + 1).replace(/\{(\w+)\}/g, (_match, key: string) => values.get(key) ?? `{${key}}`);
    return `${name}=${encodeURIComponent(value)}`;
  });
  return `?${pairs.join('&')}`;
}

function fillBody(body: unknown, values: ReadonlyMap<string, string>): unknown {
  if (typeof body === 'string') return body.replace(/^\{(\w+)\}$/, (_match, key: string) => values.get(key) ?? body);
  if (Array.isArray(body)) return body.map((item) => fillBody(item, values));
  if (typeof body === 'object' && body !== null) {
    return Object.fromEntries(Object.entries(body).map(([key, value]) => [key, fillBody(value, values)]));
  }
  return body;
}

/** Every param's value, or a message saying which could not be found. */
async function resolveParams(session: ContractSession, request: ContractRequest): Promise<Map<string, string> | string> {
  const values = new Map<string, string>();
  for (const [name, source] of Object.entries(request.params ?? {})) {
    const value = await resolve(session, source);
    if (value === undefined) return `no value for ${name} from ${JSON.stringify(source)}`;
    values.set(name, value);
  }
  return values;
}

async function resolve(session: ContractSession, source: Source): Promise<string | undefined> {
  if ('value' in source) return source.value;
  if ('claim' in source) return stringOrUndefined(session.claims[source.claim]);
  if ('list' in source) return fromList(session, source);
  const answer = session.answers.get(source.answer);
  if (answer === undefined) return undefined;
  const raw = source.location === true ? answer.headers['location'] : fieldOf(safeJson(answer.text), source.field ?? '');
  const value = stringOrUndefined(raw);
  return value !== undefined && source.lastSegment === true ? lastSegment(value) : value;
}

async function fromList(session: ContractSession, source: Extract<Source, { list: string }>): Promise<string | undefined> {
  const answer = await session.api('GET', source.list);
  if (answer.status !== 200) return undefined;
  const items = fieldOf(safeJson(answer.text), 'items');
  if (!Array.isArray(items)) return undefined;
  const where = source.where;
  const candidates = where === undefined ? items : items.filter((item) => Object.entries(where).every(([key, wanted]) => fieldOf(item, key) === wanted));
  const index = source.index === 'last' ? candidates.length - 1 : (source.index ?? 0);
  return stringOrUndefined(fieldOf(candidates[index], source.field));
}

function fieldOf(value: unknown, path: string): unknown {
  let current = value;
  for (const key of path.split('.')) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Json)[key];
  }
  return current;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function stringOrUndefined(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function lastSegment(uri: string): string {
  const path = uri.split(/[?#]/)[0] ?? '';
  return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1));
}

const ASYNC_ORDER = ['INITIALIZED', 'RUNNING', 'SUCCEEDED'];
const MAX_POLLS = 60;

/**
 * Polls a GreenLake async operation until it leaves INITIALIZED/RUNNING, checking every answer
 * against `schema` (errors are prefixed with the status they were seen in); returns the statuses seen. Waits as HPE suggests, capped so a test stays
 * short (at most MAX_POLLS polls, which also bounds a hang).
 */
export async function pollAsync(t: Tap, session: ContractSession, path: string, schema: string): Promise<string[]> {
  const seen: string[] = [];
  const errors = new Set<string>();
  for (let poll = 0; poll < MAX_POLLS; poll++) {
    const answer = await session.api('GET', path);
    if (!t.equal(answer.status, 200, `GET ${path} answers 200`, { body: answer.text.slice(0, 400) })) break;
    const body = answer.json();
    for (const error of schemaErrors(schema, body)) errors.add(`${String(body['status'])}: ${error}`);
    const status = String(body['status']);
    if (seen.at(-1) !== status) seen.push(status);
    if (status !== 'INITIALIZED' && status !== 'RUNNING') break;
    const suggested = Number(body['suggestedPollingIntervalSeconds'] ?? 1);
    await delay(Math.min(Math.max(suggested, 0) * 1000, 250));
  }
  t.same([...errors], [], `every answer while polling matches ${schema}`);
  return seen;
}

/** True when the statuses only move forward through INITIALIZED, RUNNING, SUCCEEDED. */
export function movesForwardToSuccess(statuses: readonly string[]): boolean {
  const ranks = statuses.map((status) => ASYNC_ORDER.indexOf(status));
  return statuses.at(-1) === 'SUCCEEDED' && ranks.every((rank, i) => rank >= 0 && (i === 0 || rank > (ranks[i - 1] ?? -1)));
}
