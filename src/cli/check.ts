import { readSecret, type ClientConfig, type ProxyConfig } from '../config/index.ts';
import { createHttpAgent } from '../net/index.ts';
import { clientCredentialsRequest, requestToken } from '../tokens/index.ts';
import { loadFromCli } from './load.ts';
import type { CliOptions, Env } from './run.ts';

/** Validates the configuration; with --online, asks each client's token endpoint for one token. */
export async function runCheck(options: CliOptions, env: Env): Promise<number> {
  const config = await loadFromCli(options, env);
  const out = process.stdout;
  out.write(`configuration OK (${config.source}): ${config.clients.length} client(s), ${config.routes.length} route(s), `);
  out.write(`listening on ${config.listen.host}:${config.listen.port}\n`);
  if (!options.online) return 0;
  const results = await Promise.all(config.clients.map((c) => checkClient(c, config)));
  for (const line of results) out.write(`${line.ok ? 'OK  ' : 'FAIL'}  ${line.text}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}

async function checkClient(client: ClientConfig, config: ProxyConfig): Promise<{ ok: boolean; text: string }> {
  const agent = createHttpAgent({ caFile: config.caFile, timeouts: config.timeouts });
  try {
    const request = clientCredentialsRequest(client, await readSecret(client), config.timeouts.tokenRequestMs, agent);
    const issued = await requestToken(request, config.tokens.defaultLifetimeSeconds * 1000);
    const seconds = Math.round((issued.expiresAt - Date.now()) / 1000);
    return { ok: true, text: `${client.name}: token issued by ${client.tokenUrl}, valid for ${seconds} s (from ${issued.lifetimeSource})` };
  } catch (err) {
    return { ok: false, text: `${client.name}: ${(err as Error).message}` };
  } finally {
    await agent.close();
  }
}
