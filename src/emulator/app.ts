/** The emulator's fastify instance: streaming bodies, token endpoint, control, guarded API routes. */
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { installApiGuard, keptBodyOf } from './api-guard.ts';
import type { EmulatorContext } from './context.ts';
import { registerControlRoutes } from './control.ts';
import { sendGreenLakeError } from './replies.ts';
import { ALL_RESOURCES, registerResources } from './resources/index.ts';
import { pathOf } from './request-parts.ts';
import { registerTestRoutes } from './test-routes.ts';
import { CLASSIC_TOKEN_PATH, registerTokenEndpoint } from './token-endpoint.ts';
import type { EmulatorOptions } from './types.ts';

export const JWKS_PATH = '/.well-known/jwks.json';

export function createApp(options: EmulatorOptions, ctx: EmulatorContext): FastifyInstance {
  const app = newFastify(options);
  // Bodies stay streams whatever their type: routes and the API guard read and hash
  // them as they arrive, so a 1 GiB upload never sits in memory.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));

  app.get(JWKS_PATH, () => ctx.keys.jwks);
  app.get('/.well-known/openid-configuration', () => ({
    issuer: ctx.origin(),
    token_endpoint: ctx.origin() + CLASSIC_TOKEN_PATH,
    jwks_uri: ctx.origin() + JWKS_PATH,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
  }));
  app.register(async (tokenScope) => registerTokenEndpoint(tokenScope, ctx));
  app.register(async (controlScope) => registerControlRoutes(controlScope, ctx));
  app.register(async (apiScope) => {
    installApiGuard(apiScope, ctx);
    apiScope.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) =>
      sendGreenLakeError(reply, error.statusCode ?? 500, error.message),
    );
    registerResources(apiScope, { store: ctx.resources, nextAsyncFails: () => ctx.asyncFault.take() !== undefined, bodyOf: keptBodyOf }, ALL_RESOURCES);
    registerTestRoutes(apiScope);
    apiScope.all('/*', (request, reply) => sendGreenLakeError(reply, 404, `No resource at ${request.method} ${pathOf(request)}`));
  });
  return app;
}

/**
 * A stray `%` (as in `/echo/100%`) would make the router answer 400 before any hook runs;
 * escaping it for routing lets such requests reach /echo and the journal, which still
 * see the URL as received (fastify keeps it as request.originalUrl).
 */
function routableUrl(url: string): string {
  const queryStart = url.indexOf('?');
  const path = queryStart < 0 ? url : url.slice(0, queryStart);
  const escaped = path.replace(/%(?![0-9A-Fa-f]{2})/g, '%25');
  return escaped === path ? url : escaped + url.slice(path.length);
}

function newFastify(options: EmulatorOptions): FastifyInstance {
  const common = {
    logger: options.logger === true ? { level: 'info', redact: ['req.headers.authorization'] } : false,
    // close() must not wait for keep-alive sockets or hanging token requests.
    forceCloseConnections: true,
    bodyLimit: Number.MAX_SAFE_INTEGER,
    routerOptions: { maxParamLength: 1000 },
    rewriteUrl: (request: { url?: string }) => routableUrl(request.url ?? '/'),
  };
  if (options.tls === undefined) return Fastify(common);
  // The https instance differs from the http one only in its server type, which no route here uses.
  return Fastify({ ...common, https: { key: options.tls.key, cert: options.tls.cert } }) as unknown as FastifyInstance;
}
