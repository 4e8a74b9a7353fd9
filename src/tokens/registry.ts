import type { Dispatcher } from 'undici';
import type { Logger } from 'pino';
import type { ClientConfig, ProxyConfig } from '../config/index.ts';
import { TokenKeeper, type TokenStatus } from './keeper.ts';
import type { TokenObserver } from './observer.ts';

/** One keeper per (client, region) named by the routes; created up front so status lists them all. */
export class TokenRegistry {
  readonly #keepers = new Map<string, TokenKeeper>();

  constructor(config: ProxyConfig, deps: { dispatcher: Dispatcher; logger: Logger; observer?: TokenObserver }) {
    const clients = new Map(config.clients.map((c) => [c.name, c]));
    for (const route of config.routes) {
      const key = keyOf(route.client, route.region);
      if (this.#keepers.has(key)) continue;
      const client = clients.get(route.client) as ClientConfig;
      this.#keepers.set(
        key,
        new TokenKeeper({ client, region: route.region, tokens: config.tokens, timeouts: config.timeouts, ...deps }),
      );
    }
  }

  /** The keeper of a (client, region) that a route names; undefined for pairs no route uses. */
  keeper(client: string, region: string): TokenKeeper | undefined {
    return this.#keepers.get(keyOf(client, region));
  }

  statuses(): TokenStatus[] {
    return [...this.#keepers.values()].map((k) => k.status());
  }

  close(): void {
    for (const keeper of this.#keepers.values()) keeper.close();
  }
}

function keyOf(client: string, region: string): string {
  return JSON.stringify([client, region]);
}
