/** How a GreenLake resource is declared: data the engine turns into routes. */

export type Item = Record<string, unknown>;

/**
 * List envelopes as HPE documents them:
 * - offset: GreenLake platform and COM, `{offset, count, total, items}`
 * - audit: offset plus `remainingRecords` (audit logs v1)
 * - count: `{items, count}` (workspace credentials)
 * - dscc: Data Services v1, `{items, pageLimit, pageOffset, total, requestUri}`
 * - cursor: an opaque `next` instead of `offset` (wellness), `{items, count, total, next?}`
 */
export type PagingStyle = 'offset' | 'audit' | 'count' | 'dscc' | 'cursor';

/** glp: HPE_GL_ERROR_*; com: HPE-GL-COMPUTE_OPS-0SSS001; dscc: `{error, errorCode, traceId}`. */
export type ErrorStyle = 'glp' | 'com' | 'dscc';

/** platform: `ratelimit-*` headers; iam: `X-RateLimit-*`. */
export type RateHeaderStyle = 'platform' | 'iam';

/** A published per-API limit: `limit` requests per `windowSeconds`. */
export interface PublishedLimit {
  limit: number;
  windowSeconds: number;
}

export interface ListSpec {
  paging: PagingStyle;
  defaultLimit: number;
  maxLimit: number;
  /** The list's view of an item (summaries); the item itself when absent. */
  view?: (item: Item) => Item;
  rateLimit?: PublishedLimit;
}

export interface ReadSpec {
  rateLimit?: PublishedLimit;
}

/**
 * What a write answers:
 * - item: 200 with the item; created: 201 with the item and a Location
 * - message: 201 `{message}` and a Location (users, MSP tenants); accepted-empty: 202, empty body and a Location
 * - async: 202, relative Location to a GreenLake async operation, `{code, status, transactionId}`
 * - task: 202 `{taskUri, status, message}` (Data Services v1)
 * - no-content: 204
 */
export type WriteAnswer = 'item' | 'created' | 'message' | 'accepted-empty' | 'async' | 'task' | 'no-content';

export interface WriteContext {
  /** Deterministic within one emulator: `${resource}-${n}`-seeded uuids. */
  newId(): string;
  now(): string;
  /** The item addressed by the path (patch, put, delete), if any. */
  target: Item | undefined;
  /** Every item addressed by repeated `id` query parameters (bulk PATCH). */
  targets: Item[];
  /** Path parameters, e.g. systemId. */
  params: Record<string, string>;
  /** This resource's items, to change. */
  items: Map<string, Item>;
}

export interface WriteSpec {
  answer: WriteAnswer;
  /** Changes the store and returns the item to answer with (or the resource a task/async acts on). */
  apply?: (body: Item, context: WriteContext) => Item | undefined;
  /** Where the async operation is read: e.g. /devices/v1/async-operations. */
  asyncPath?: string;
  /** Overrides the answer's usual status (e.g. 200 for a PUT answering `{message}`). */
  status?: number;
  rateLimit?: PublishedLimit;
}

/** The states an asynchronous resource (async operation, DSCC task, COM job) moves through on each read. */
export interface Lifecycle {
  running(item: Item, now: string): void;
  succeeded(item: Item, now: string): void;
  failed(item: Item, now: string): void;
}

export interface CustomRoute {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  rateLimit?: PublishedLimit;
  /** Answers `{status, body?, headers?}`; `items` is this resource's collection. */
  handle(request: CustomRequest): CustomAnswer;
}

export interface CustomRequest {
  params: Record<string, string>;
  query: Record<string, string | string[] | undefined>;
  body: Item;
  items: Map<string, Item>;
  now: string;
}

export interface CustomAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export interface ResourceDeclaration {
  /** Unique; names the rate-limit budget and the store. */
  name: string;
  errors: ErrorStyle;
  rateHeaders?: RateHeaderStyle;
  /** The collection path; the item path is `${collection}/:id` unless itemPath says otherwise. */
  collection: string;
  itemPath?: string;
  /** The start data: the same every run. */
  seed?: () => Item[];
  /** Share another declaration's items (writes on another path), instead of seeding its own. */
  store?: string;
  /** How an item is shown by id and in write answers, when it keeps internal fields. */
  itemView?: (item: Item) => Item;
  /** The item's key; default `id`. */
  key?: string;
  list?: ListSpec;
  get?: ReadSpec;
  create?: WriteSpec;
  /** PATCH on the item path. */
  patch?: WriteSpec;
  /** PATCH on the collection with repeated `id` query parameters (devices, subscriptions). */
  patchMany?: WriteSpec;
  put?: WriteSpec;
  delete?: WriteSpec;
  lifecycle?: Lifecycle;
  routes?: CustomRoute[];
}
