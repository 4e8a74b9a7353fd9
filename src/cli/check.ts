import { accessSync, constants } from 'node:fs';
import pino from 'pino';
import { readSecret, type ClientConfig, type ProxyConfig } from '../config/index.ts';
import { createHttpAgent } from '../net/index.ts';
import { clientCredentialsRequest, requestToken } from '../tokens/index.ts';
import type { CliOptions, Env } from './command.ts';
import { loadFromCli } from './load.ts';
import { clientKeepers, regionsOf, shownUrl, tenantTokenUrl } from './tokens.ts';

interface Outcome {
  readonly ok: boolean;
  readonly text: string;
}

/** Validates the configuration and says what each client will do; with --online, gets one token per client and tenant. */
export async function runCheck(options: CliOptions, env: Env): Promise<number> {
  const config = await loadFromCli(options, env);
  const out = process.stdout;
  out.write(`configuration OK (${config.source}): ${config.clients.length} client(s), ${config.routes.length} route(s), `);
  const { socket } = config.listen;
  out.write(socket === undefined ? `listening on ${config.listen.host}:${config.listen.port}\n` : `listening on the socket ${socket.path} (mode 0${socket.mode.toString(8)})\n`);
  for (const client of config.clients) out.write(describeClient(client));
  if (!options.online) return 0;
  const results = (await Promise.all(config.clients.map((c) => checkClient(c, config)))).flat();
  for (const line of results) out.write(`${line.ok ? 'OK  ' : 'FAIL'}  ${line.text}\n`);
  return results.every((r) => r.ok) ? 0 : 1;
}

/** What a token request of this client will use; never the secret itself. */
function describeClient(client: ClientConfig): string {
  const secret = client.secret.kind === 'file' ? `secret file ${client.secret.path} (${readability(client.secret.path)})` : 'secret in the configuration';
  const lines = [`  client ${client.name}: token URL ${shownUrl(client.tokenUrl)}, ${client.authMethod}, ${secret}\n`];
  for (const tenant of client.tenants) {
    lines.push(`    tenant ${tenant.name}: token exchange at ${shownUrl(tenantTokenUrl(client, tenant))}\n`);
  }
  return lines.join('');
}

function readability(path: string): string {
  try {
    accessSync(path, constants.R_OK);
    return 'readable';
  } catch (err) {
    return `NOT readable: ${(err as { code?: string }).code ?? 'error'}`;
  }
}

async function checkClient(client: ClientConfig, config: ProxyConfig): Promise<Outcome[]> {
  const agent = createHttpAgent({ caFile: config.caFile, timeouts: config.timeouts });
  try {
    const own = await checkOwnToken(client, config, agent);
    if (!own.ok || client.tenants.length === 0) return [own];
    return [own, ...(await checkTenants(client, config, agent))];
  } finally {
    await agent.close();
  }
}

/** One attempt, no retries: the answer of the endpoint as it is now. */
async function checkOwnToken(client: ClientConfig, config: ProxyConfig, agent: ReturnType<typeof createHttpAgent>): Promise<Outcome> {
  try {
    const request = clientCredentialsRequest(client, await readSecret(client), config.timeouts.tokenRequestMs, agent);
    const issued = await requestToken(request, config.tokens.defaultLifetimeSeconds * 1000);
    const seconds = Math.round((issued.expiresAt - Date.now()) / 1000);
    return { ok: true, text: `${client.name}: token issued by ${shownUrl(client.tokenUrl)}, valid for ${seconds} s (from ${issued.lifetimeSource})` };
  } catch (err) {
    return { ok: false, text: `${client.name}: ${shownUrl(client.tokenUrl)}: ${(err as Error).message}` };
  }
}

/** Each tenant's token exchange, as serve makes it (the keeper's retries included). */
async function checkTenants(client: ClientConfig, config: ProxyConfig, agent: ReturnType<typeof createHttpAgent>): Promise<Outcome[]> {
  const keepers = clientKeepers(config, client, regionsOf(config, client)[0]!, agent, pino({ level: 'silent' }));
  try {
    return await Promise.all(
      client.tenants.map(async (tenant): Promise<Outcome> => {
        const name = `${client.name}/${tenant.name}`;
        const url = shownUrl(tenantTokenUrl(client, tenant));
        try {
          const keeper = keepers.tenant(tenant);
          await keeper.get();
          const expiresAt = keeper.status().expiresAt;
          const seconds = expiresAt === null ? '?' : Math.round((Date.parse(expiresAt) - Date.now()) / 1000);
          return { ok: true, text: `${name}: token exchanged at ${url}, valid for ${seconds} s` };
        } catch (err) {
          return { ok: false, text: `${name}: ${url}: ${(err as Error).message}` };
        }
      }),
    );
  } finally {
    keepers.close();
  }
}
