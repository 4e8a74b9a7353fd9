/** The emulated GreenLake, Compute Ops Management and Data Services endpoints. */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { AUDIT_LOGS, DEVICES, SERVERS, STORAGE_SYSTEMS, VOLUMES } from './data.ts';
import { pageOf } from './paging.ts';
import { sendGreenLakeError } from './replies.ts';
import { pathOf, queryOf } from './request-parts.ts';

interface AsyncOperation {
  id: string;
  type: 'async-operations';
  status: 'SUCCEEDED';
  resultType: 'devices';
  createdAt: string;
  endedAt: string;
}

export function registerApiRoutes(app: FastifyInstance): void {
  registerList(app, '/compute-ops-mgmt/v1/servers', SERVERS);
  // find-my-way percent-decodes path parameters: %2B arrives here as `+`.
  app.get<{ Params: { id: string } }>('/compute-ops-mgmt/v1/servers/:id', (request, reply) => {
    const server = SERVERS.find((candidate) => candidate.id === request.params.id);
    return server ?? sendGreenLakeError(reply, 404, `Server ${request.params.id} not found`);
  });

  registerList(app, '/api/v1/storage-systems', STORAGE_SYSTEMS);
  registerList(app, '/api/v1/volumes', VOLUMES);

  registerList(app, '/devices/v1/devices', DEVICES);
  registerAsyncDeviceOperations(app);
  registerList(app, '/audit-log/v1/logs', AUDIT_LOGS);

  app.all('/*', (request, reply) => sendGreenLakeError(reply, 404, `No resource at ${request.method} ${pathOf(request)}`));
}

function registerList(app: FastifyInstance, path: string, items: readonly unknown[]): void {
  app.get(path, (request, reply) => {
    const result = pageOf(items, queryOf(request));
    return result.ok ? result.page : sendGreenLakeError(reply, 400, result.message);
  });
}

/** POST /devices/v1/devices answers 202 and a relative Location to poll, like GreenLake. */
function registerAsyncDeviceOperations(app: FastifyInstance): void {
  const operations = new Map<string, AsyncOperation>();
  app.post('/devices/v1/devices', (_request, reply) => {
    const operation = newSucceededOperation();
    operations.set(operation.id, operation);
    const location = `/devices/v1/async-operations/${operation.id}`;
    return reply.code(202).header('location', location).send({ id: operation.id, status: 'INITIALIZED', location });
  });
  app.get<{ Params: { id: string } }>('/devices/v1/async-operations/:id', (request, reply) => {
    const operation = operations.get(request.params.id);
    return operation ?? sendGreenLakeError(reply, 404, `Async operation ${request.params.id} not found`);
  });
}

function newSucceededOperation(): AsyncOperation {
  const now = new Date().toISOString();
  return { id: randomUUID(), type: 'async-operations', status: 'SUCCEEDED', resultType: 'devices', createdAt: now, endedAt: now };
}
