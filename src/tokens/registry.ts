import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import { normalWorkspaceId, type ClientConfig, type ProxyConfig, type RouteConfig, type TenantConfig } from '../config/index.ts';
import { TokenKeeper, type KeeperDeps, type TokenStatus } from './keeper.ts';
import type { TokenObserver } from './observer.ts';
import { sharedFetch, type TokenStore } from './shared.ts';
import { clientCredentials, tokenExchange, type TokenFetcher } from './sources.ts';

export interface RegistryDeps {
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  readonly observer?: TokenObserver;
  /** Tokens shared with other replicas (store.redis); undefined: this process's memory only. */
  readonly store?: TokenStore | undefined;
}

/**
 * One keeper per (client, region) named by the routes, and one per (client, region, tenant) a
 * route can use (MSP mode: its `tenant`, or every tenant of its client with `tenantHeader`);
 * created up front so status lists them all. A tenant keeper gets its token by exchanging the
 * token of the (client, region) keeper.
 */
export class TokenRegistry {
  readonly #keepers = new Map<string, TokenKeeper>();
  readonly #deps: RegistryDeps;

  readonly #fingerprints = new Map<TokenKeeper, string>();
  readonly #previous: TokenRegistry | undefined;
  #adoptedCount = 0;

  /**
   * `previous`: the registry of the configuration this one replaces (SIGHUP). Its keepers
   * whose client, region, tenant and settings are unchanged are taken over, tokens and all;
   * the rest are closed by `retire`.
   */
  constructor(config: ProxyConfig, deps: RegistryDeps, previous?: TokenRegistry) {
    this.#deps = deps;
    this.#previous = previous;
    const clients = new Map(config.clients.map((c) => [c.name, c]));
    for (const route of config.routes) {
      const client = clients.get(route.client) as ClientConfig;
      this.#ensure(config, client, route.region);
      for (const tenant of tenantsOf(route, client)) this.#ensure(config, client, route.region, tenant);
    }
  }

  /** The keeper of a (client, region), or of a tenant of it, that a route uses; undefined for those no route uses. */
  keeper(client: string, region: string, tenant?: string): TokenKeeper | undefined {
    return this.#keepers.get(keyOf(client, region, tenant));
  }

  /** The keeper of a tenant named by its name or its workspace ID (X-GreenLake-Workspace); undefined: no such tenant here. */
  tenantKeeper(client: string, region: string, nameOrId: string): TokenKeeper | undefined {
    const byName = this.keeper(client, region, nameOrId);
    if (byName !== undefined) return byName;
    const id = normalWorkspaceId(nameOrId);
    for (const keeper of this.#keepers.values()) {
      if (keeper.client === client && keeper.region === region && keeper.workspaceId === id) return keeper;
    }
    return undefined;
  }

  statuses(): TokenStatus[] {
    return [...this.#keepers.values()].map((k) => k.status());
  }

  close(): void {
    for (const keeper of this.#keepers.values()) keeper.close();
  }

  /** The keeper of (client, region[, tenant]), made if missing; a tenant's after the one whose token it exchanges. */
  #ensure(config: ProxyConfig, client: ClientConfig, region: string, tenant?: TenantConfig): TokenKeeper {
    const key = keyOf(client.name, region, tenant?.name);
    const existing = this.#keepers.get(key);
    if (existing !== undefined) return existing;
    const fingerprint = JSON.stringify([client, region, tenant ?? null, config.tokens, config.timeouts]);
    const adopted = this.#previous === undefined ? undefined : this.#previous.#adopt(key, fingerprint);
    if (adopted !== undefined) {
      this.#adoptedCount++;
      return this.#add(key, adopted, fingerprint);
    }
    const common = { client, region, tokens: config.tokens, timeouts: config.timeouts, ...this.#deps };
    let keeper: TokenKeeper;
    if (tenant === undefined) {
      keeper = new TokenKeeper({ ...common, ...this.#shared(config, clientCredentials(common), [client.clientId, client.tokenUrl, region]) });
    } else {
      const subject = this.#ensure(config, client, region);
      const tenantTokenUrl = client.tenantTokenUrl as string;
      const exchange = tokenExchange({ ...common, tenant, tenantTokenUrl, subject });
      const identity = [client.clientId, client.tokenUrl, region, tenantTokenUrl, tenant.workspaceId];
      keeper = new TokenKeeper({ ...common, tenant, ...this.#shared(config, exchange, identity) });
    }
    return this.#add(key, keeper, fingerprint);
  }

  /** The keeper's fetch strategy, through the shared store when there is one. */
  #shared(config: ProxyConfig, fetchToken: TokenFetcher, identity: readonly string[]): Pick<KeeperDeps, 'fetchToken' | 'onInvalidate'> {
    const store = this.#deps.store;
    if (store === undefined) return { fetchToken };
    const shared = sharedFetch(fetchToken, {
      store,
      slot: store.slot(identity),
      waitMs: config.timeouts.tokenWaitMs,
      lockTtlMs: config.store?.redis.lockTtlMs ?? defaultLockTtlMs(config),
      minTtlMs: config.tokens.minTtlSeconds * 1000,
    });
    return { fetchToken: shared.fetchToken, onInvalidate: shared.invalidate };
  }

  #add(key: string, keeper: TokenKeeper, fingerprint: string): TokenKeeper {
    this.#keepers.set(key, keeper);
    this.#fingerprints.set(keeper, fingerprint);
    return keeper;
  }

  /** Hands over a keeper whose configuration is unchanged; it is then no longer this registry's. */
  #adopt(key: string, fingerprint: string): TokenKeeper | undefined {
    const keeper = this.#keepers.get(key);
    if (keeper === undefined || this.#fingerprints.get(keeper) !== fingerprint) return undefined;
    this.#keepers.delete(key);
    return keeper;
  }

  /** After a reload: closes the keepers the new registry did not take over. */
  retire(): void {
    this.close();
    this.#keepers.clear();
  }

  /** How many keepers, tokens and all, this registry took over from the previous one. */
  get adoptedCount(): number {
    return this.#adoptedCount;
  }
}

/** The tenants a route can act on. */
function tenantsOf(route: RouteConfig, client: ClientConfig): TenantConfig[] {
  if (route.tenantHeader) return [...client.tenants];
  return client.tenants.filter((tenant) => tenant.name === route.tenant);
}

function keyOf(client: string, region: string, tenant?: string): string {
  return JSON.stringify(tenant === undefined ? [client, region] : [client, region, tenant]);
}

/**
 * Longer than the fetch made while holding it: up to two token calls (a token exchange retried
 * with a fresh subject token) plus a margin. A holder that dies leaves it to expire.
 */
function defaultLockTtlMs(config: ProxyConfig): number {
  return 2 * config.timeouts.tokenRequestMs + 1000;
}
