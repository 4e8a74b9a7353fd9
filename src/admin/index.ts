import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BudgetStatus } from '../budget/index.ts';
import type { RouteRequestStats } from '../metrics/index.ts';
import { ProxyError } from '../proxy/index.ts';
import type { TokenStatus } from '../tokens/index.ts';
import { renderStatusPage } from './status-page.ts';

/** What the admin endpoints may read and ask for. They own no state: the server hands them views. */
export interface AdminState {
  isReady(): boolean;
  status(): StatusReport;
  metrics(): Promise<{ readonly contentType: string; readonly text: string }>;
  /** Asks the process to shut down gracefully, as SIGTERM would (POST /-/quit). */
  requestQuit(): void;
}

export interface StatusReport {
  readonly version: string;
  readonly startedAt: string;
  readonly ready: boolean;
  readonly routes: readonly RouteView[];
  readonly clients: readonly ClientView[];
  readonly tokens: readonly TokenStatus[];
  readonly requests: readonly RouteRequestStats[];
  /** GreenLake rate-limit budgets per client (or tenant) and API (src/budget); absent where no server keeps any. */
  readonly rateLimits?: BudgetStatus;
}

export interface RouteView {
  readonly name: string;
  readonly prefix: string | null;
  readonly port: number | null;
  readonly upstream: string;
  readonly client: string;
  readonly region: string;
}

/** A client as people may see it: never the secret. */
export interface ClientView {
  readonly name: string;
  readonly clientId: string;
  readonly tokenUrl: string;
  readonly authMethod: string;
  readonly secretFrom: 'config' | 'file';
}

/** Liveness and readiness: open to probes even when callers need a key (they reveal nothing). */
const HEALTHZ = '/-/healthz';
const READYZ = '/-/readyz';
export const PROBE_PATHS: readonly string[] = [HEALTHZ, READYZ];

/**
 * `all`: every endpoint (the proxy's own listeners). `operations`: probes and metrics only,
 * for the separate admin listener that a kubelet or Prometheus reaches on the pod address.
 */
export type AdminScope = 'all' | 'operations';

export function registerAdmin(app: FastifyInstance, state: AdminState, scope: AdminScope = 'all'): void {
  app.get(HEALTHZ, async () => ({ status: 'ok' }));
  app.get(READYZ, async (_request, reply) => {
    const ready = state.isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'shutting down' });
  });
  app.get('/-/metrics', async (_request, reply) => {
    const { contentType, text } = await state.metrics();
    return reply.header('cache-control', 'no-store').type(contentType).send(text);
  });
  if (scope === 'operations') return;
  app.get('/-/status', async (_request, reply) => reply.header('cache-control', 'no-store').send(state.status()));
  app.get('/-/', async (_request, reply) =>
    reply.header('cache-control', 'no-store').type('text/html; charset=utf-8').send(renderStatusPage(state.status())),
  );
  app.post('/-/quit', async (request, reply) => quit(request, reply, state));
}

/** For Jobs whose sidecar must end with them: only from this machine, never from the network. */
function quit(request: FastifyRequest, reply: FastifyReply, state: AdminState): FastifyReply {
  if (!isLocalPeer(request)) {
    throw new ProxyError('GREENLAKE_PROXY_FORBIDDEN', 'POST /-/quit is only accepted from a loopback address or the Unix socket');
  }
  setImmediate(() => state.requestQuit());
  return reply.code(202).send({ status: 'shutting down' });
}

/** On a Unix socket (a listener whose address is a path) every peer is on this machine. */
function isLocalPeer(request: FastifyRequest): boolean {
  return typeof request.server.server.address() === 'string' || isLoopbackPeer(request.socket.remoteAddress);
}

function isLoopbackPeer(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
