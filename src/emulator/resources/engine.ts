/**
 * The resource engine: turns each ResourceDeclaration into GreenLake-shaped routes (list with
 * paging and filters, item by id, create, patch, put, delete, asynchronous answers).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { asyncAnswer, taskAnswer } from './async.ts';
import { ResourceError, sendStyledError } from './errors.ts';
import { FilterError, parseFilters } from './filter.ts';
import { PagingError, pageOf } from './paging.ts';
import type { Query } from './paging.ts';
import type { ResourceStore } from './store.ts';
import type { ErrorStyle, Item, PublishedLimit, RateHeaderStyle, ResourceDeclaration, WriteContext, WriteSpec } from './types.ts';

export interface EngineDeps {
  readonly store: ResourceStore;
  /** Whether the asynchronous item created now must end FAILED (a fault switch). */
  nextAsyncFails(): boolean;
  /** The request body, read by the API guard; undefined when too large to keep. */
  bodyOf(request: FastifyRequest): Buffer | undefined;
}

/** What the API guard learns about a route: its rate-limit budget and error style. */
export interface ApiRouteInfo {
  budget: string;
  limit: PublishedLimit | undefined;
  headers: RateHeaderStyle;
  errors: ErrorStyle;
}

/** Our stand-in for the platform APIs whose limit HPE does not publish (not an HPE figure). */
export const UNPUBLISHED_PLATFORM_LIMIT: PublishedLimit = { limit: 600, windowSeconds: 60 };

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
type Handler = (request: FastifyRequest, reply: FastifyReply) => unknown;

export function registerResources(app: FastifyInstance, deps: EngineDeps, declarations: readonly ResourceDeclaration[]): void {
  const byCollection = new Map(declarations.map((declaration) => [declaration.collection, declaration]));
  for (const declaration of declarations) registerDeclaration(app, deps, declaration, byCollection);
}

function registerDeclaration(
  app: FastifyInstance,
  deps: EngineDeps,
  declaration: ResourceDeclaration,
  byCollection: ReadonlyMap<string, ResourceDeclaration>,
): void {
  const itemPath = declaration.itemPath ?? `${declaration.collection}/:id`;
  const route = (method: Method, url: string, limit: PublishedLimit | undefined, handler: Handler) => {
    const api: ApiRouteInfo = {
      budget: `${method} ${url}`,
      // Every platform API is limited and says so in its headers; HPE publishes only some of the numbers.
      limit: limit ?? (declaration.errors === 'glp' ? UNPUBLISHED_PLATFORM_LIMIT : undefined),
      headers: declaration.rateHeaders ?? 'platform',
      errors: declaration.errors,
    };
    app.route({
      method,
      url,
      config: { api },
      handler: async (request, reply) => {
        try {
          return await handler(request, reply);
        } catch (error) {
          if (error instanceof ResourceError) return sendStyledError(reply, declaration.errors, error.status, error.message);
          if (error instanceof PagingError) return sendStyledError(reply, declaration.errors, 400, error.message);
          if (error instanceof FilterError) return sendStyledError(reply, declaration.errors, 400, `Invalid filter: ${error.message}`);
          throw error;
        }
      },
    });
  };
  const items = () => deps.store.collection(declaration.store ?? declaration.name);
  const label = declaration.collection.split('/').pop() ?? declaration.name;
  const find = (request: FastifyRequest) => {
    const id = (request.params as Record<string, string>)['id'] ?? '';
    const item = items().get(id);
    if (item === undefined) throw new ResourceError(404, `No ${label} with id ${id}`);
    return item;
  };

  // Custom routes first: a fixed segment (…/tags) must not be taken for an id.
  for (const custom of declaration.routes ?? []) {
    route(custom.method, custom.path, custom.rateLimit, (request, reply) => {
      const answer = custom.handle({
        params: request.params as Record<string, string>,
        query: request.query as Query,
        body: jsonBody(deps, request),
        items: items(),
        now: new Date().toISOString(),
      });
      reply.code(answer.status).headers(answer.headers ?? {});
      return answer.body === undefined ? reply.send() : reply.send(answer.body);
    });
  }
  const { list } = declaration;
  if (list !== undefined) {
    route('GET', declaration.collection, list.rateLimit, (request) => {
      const query = request.query as Query;
      const matches = [...items().values()].filter(parseFilters(query['filter']));
      return pageOf(matches, query, list, request.url);
    });
  }
  if (declaration.get !== undefined) {
    route('GET', itemPath, declaration.get.rateLimit, (request) => {
      const item = find(request);
      advance(deps, declaration, item);
      return declaration.itemView ? declaration.itemView(item) : item;
    });
  }
  const write = (method: Method, url: string, spec: WriteSpec | undefined, target: (request: FastifyRequest) => Pick<WriteContext, 'target' | 'targets'>) => {
    if (spec === undefined) return;
    route(method, url, spec.rateLimit, (request, reply) => {
      const params = request.params as Record<string, string>;
      const context: WriteContext = { ...target(request), params, items: items(), newId: () => deps.store.newId(), now: () => new Date().toISOString() };
      const body = jsonBody(deps, request);
      const applied = (spec.apply ?? defaultApply(method, declaration.key ?? 'id'))(body, context);
      return answerWrite(deps, declaration, spec, applied, reply, byCollection);
    });
  };
  const none = () => ({ target: undefined, targets: [] });
  write('POST', declaration.collection, declaration.create, none);
  write('PATCH', itemPath, declaration.patch, (request) => ({ target: find(request), targets: [] }));
  write('PATCH', declaration.collection, declaration.patchMany, (request) => ({ target: undefined, targets: targetsOf(request, items()) }));
  write('PUT', itemPath, declaration.put, (request) => ({ target: find(request), targets: [] }));
  write('DELETE', itemPath, declaration.delete, (request) => ({ target: find(request), targets: [] }));
}

/** Repeated `id` query parameters, as in PATCH /devices/v1/devices?id=A&id=B. */
function targetsOf(request: FastifyRequest, items: Map<string, Item>): Item[] {
  const raw = (request.query as Query)['id'];
  const ids = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (ids.length === 0) throw new ResourceError(400, 'At least one id query parameter is required');
  return ids.map((id) => items.get(id)).filter((item): item is Item => item !== undefined);
}

function jsonBody(deps: EngineDeps, request: FastifyRequest): Item {
  const raw = deps.bodyOf(request);
  if (raw === undefined) throw new ResourceError(413, 'Request body is too large');
  const text = raw.toString('utf8').trim();
  if (text === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ResourceError(400, 'Request body must be JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ResourceError(400, 'Request body must be a JSON object');
  return parsed as Item;
}

function defaultApply(method: Method, key: string): NonNullable<WriteSpec['apply']> {
  return (body, context) => {
    const { items } = context;
    const now = context.now();
    if (method === 'POST') {
      const item: Item = { [key]: context.newId(), ...body, generation: 1, createdAt: now, updatedAt: now };
      items.set(String(item[key]), item);
      return item;
    }
    if (method === 'DELETE') {
      if (context.target !== undefined) items.delete(String(context.target[key]));
      return context.target;
    }
    for (const target of context.target === undefined ? context.targets : [context.target]) {
      Object.assign(target, body, { updatedAt: now, generation: Number(target['generation'] ?? 0) + 1 });
    }
    return context.target ?? context.targets[0];
  };
}

function answerWrite(
  deps: EngineDeps,
  declaration: ResourceDeclaration,
  spec: WriteSpec,
  applied: Item | undefined,
  reply: FastifyReply,
  byCollection: ReadonlyMap<string, ResourceDeclaration>,
): FastifyReply {
  const shown = applied !== undefined && declaration.itemView ? declaration.itemView(applied) : applied;
  const location = applied === undefined ? declaration.collection : `${declaration.collection}/${encodeURIComponent(String(applied[declaration.key ?? 'id']))}`;
  if (applied !== undefined && declaration.lifecycle !== undefined) deps.store.track(applied, deps.nextAsyncFails());
  switch (spec.answer) {
    case 'item':
      return reply.code(spec.status ?? 200).send(shown ?? {});
    case 'created':
      return reply.code(spec.status ?? 201).header('location', location).send(shown ?? {});
    case 'message':
      return reply.code(spec.status ?? 201).header('location', location).send({ message: `The ${declaration.name} request was accepted` });
    case 'accepted-empty':
      return reply.code(202).header('location', location).send();
    case 'no-content':
      return reply.code(204).send();
    case 'async':
      return asyncAnswer(deps, reply, asyncTarget(spec, byCollection), declaration.name, applied);
    case 'task':
      return taskAnswer(deps, reply, asyncTarget({ ...spec, asyncPath: spec.asyncPath ?? '/api/v1/tasks' }, byCollection), applied);
  }
}

function asyncTarget(spec: WriteSpec, byCollection: ReadonlyMap<string, ResourceDeclaration>): ResourceDeclaration {
  const target = spec.asyncPath === undefined ? undefined : byCollection.get(spec.asyncPath);
  if (target === undefined) throw new Error(`No asynchronous resource at ${spec.asyncPath ?? '(none)'}`);
  return target;
}

/** An asynchronous item moves one state on each read: running first, then its end state. */
function advance(deps: EngineDeps, declaration: ResourceDeclaration, item: Item): void {
  const { lifecycle } = declaration;
  if (lifecycle === undefined) return;
  const progress = deps.store.advance(item);
  if (progress === undefined) return;
  const now = new Date().toISOString();
  if (progress.step === 1) lifecycle.running(item, now);
  else if (progress.step === 2) (progress.fails ? lifecycle.failed : lifecycle.succeeded)(item, now);
}
