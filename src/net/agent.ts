import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { Agent } from 'undici';
import type { TimeoutsConfig } from '../config/index.ts';

export interface AgentOptions {
  readonly caFile: string | undefined;
  readonly timeouts: TimeoutsConfig;
}

/**
 * The one HTTP client for upstreams and token endpoints: keep-alive pools per origin,
 * certificates always verified. Passing our own Agent matters: @fastify/reply-from
 * turns verification off in the agent it builds for itself.
 */
export function createHttpAgent({ caFile, timeouts }: AgentOptions): Agent {
  return new Agent({
    connect: {
      timeout: timeouts.upstreamConnectMs,
      rejectUnauthorized: true,
      ...(caFile !== undefined && { ca: trustedCertificates(caFile) }),
    },
    headersTimeout: timeouts.upstreamHeadersMs,
    bodyTimeout: timeouts.upstreamBodyMs,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 10 * 60_000,
  });
}

/** Node's defaults (which include NODE_EXTRA_CA_CERTS) plus the configured file. */
function trustedCertificates(caFile: string): string[] {
  return [...tls.getCACertificates('default'), readFileSync(caFile, 'utf8')];
}
