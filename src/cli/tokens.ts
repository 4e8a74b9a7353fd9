import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { WORKSPACE_ID_PLACEHOLDER, type ClientConfig, type ProxyConfig, type TenantConfig } from '../config/index.ts';
import { TokenRegistry, type TokenKeeper } from '../tokens/index.ts';
import { UsageError } from './command.ts';

/** The regions a client's routes use: a token is kept per (client, region). */
export function regionsOf(config: ProxyConfig, client: ClientConfig): string[] {
  const regions = [...new Set(config.routes.filter((r) => r.client === client.name).map((r) => r.region))];
  return regions.length > 0 ? regions : ['default'];
}

/** --region, refused unless one of the client's routes uses it. */
export function chosenRegion(config: ProxyConfig, client: ClientConfig, region: string | undefined): string {
  const known = regionsOf(config, client);
  if (region === undefined) return known[0]!;
  if (!known.includes(region)) throw new UsageError(`--region: client "${client.name}" has no route with region "${region}" (its regions: ${known.join(', ')})`);
  return region;
}

/** --client (default: the first), refused with the list of names when there is none of that name. */
export function chosenClient(config: ProxyConfig, name: string | undefined): ClientConfig {
  const client = name === undefined ? config.clients[0] : config.clients.find((c) => c.name === name);
  if (client === undefined) throw new UsageError(`--client: no client named "${name}" (clients: ${config.clients.map((c) => c.name).join(', ')})`);
  return client;
}

/** --tenant, refused unless the client declares it (by name or workspace ID). */
export function chosenTenant(client: ClientConfig, name: string | undefined): TenantConfig | undefined {
  if (name === undefined) return undefined;
  const tenant = client.tenants.find((t) => t.name === name || t.workspaceId === name.replaceAll('-', '').toLowerCase());
  if (tenant !== undefined) return tenant;
  const known = client.tenants.length === 0 ? 'it declares no tenants' : `its tenants: ${client.tenants.map((t) => t.name).join(', ')}`;
  throw new UsageError(`--tenant: client "${client.name}" has no tenant "${name}" (${known})`);
}

/**
 * Keepers for one client in one region, its own token and each tenant's, exactly as `serve`
 * would get them (token exchange included), without a route or a listener.
 */
export function clientKeepers(config: ProxyConfig, client: ClientConfig, region: string, dispatcher: Dispatcher, logger: Logger): {
  readonly own: TokenKeeper;
  tenant(t: TenantConfig): TokenKeeper;
  close(): void;
} {
  const route = { prefix: '/-/cli', port: undefined, upstream: 'http://127.0.0.1', client: client.name, region, tenant: undefined, tenantHeader: client.tenants.length > 0, readOnly: false, allow: undefined };
  const registry = new TokenRegistry({ ...config, routes: [route] }, { dispatcher, logger });
  const found = (keeper: TokenKeeper | undefined): TokenKeeper => {
    if (keeper === undefined) throw new Error('token keeper missing for the command line');
    return keeper;
  };
  return {
    own: found(registry.keeper(client.name, region)),
    tenant: (t) => found(registry.tenantKeeper(client.name, region, t.name)),
    close: () => registry.close(),
  };
}

/** A URL as shown to people: no user-info, query or fragment, which could hold a credential. */
export function shownUrl(url: string): string {
  const parsed = URL.parse(url);
  return parsed === null ? '(an invalid URL)' : `${parsed.origin}${parsed.pathname}`;
}

/** Where a tenant's token exchange goes. */
export function tenantTokenUrl(client: ClientConfig, tenant: TenantConfig): string {
  return (client.tenantTokenUrl ?? '').replaceAll(WORKSPACE_ID_PLACEHOLDER, tenant.workspaceId);
}
