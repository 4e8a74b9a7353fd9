import type { FastifyInstance } from 'fastify';
import type { TokenStatus } from '../tokens/index.ts';

/** What the admin endpoints may read. They own no state: the server hands them views. */
export interface AdminState {
  isReady(): boolean;
  status(): StatusReport;
}

export interface StatusReport {
  readonly version: string;
  readonly startedAt: string;
  readonly ready: boolean;
  readonly routes: readonly RouteView[];
  readonly clients: readonly ClientView[];
  readonly tokens: readonly TokenStatus[];
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

export function registerAdmin(app: FastifyInstance, state: AdminState): void {
  app.get(HEALTHZ, async () => ({ status: 'ok' }));
  app.get(READYZ, async (_request, reply) => {
    const ready = state.isReady();
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'shutting down' });
  });
  app.get('/-/status', async (_request, reply) => reply.header('cache-control', 'no-store').send(state.status()));
}
