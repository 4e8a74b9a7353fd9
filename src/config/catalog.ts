import type { CatalogEntry } from './types.ts';

/**
 * The built-in GreenLake routes. Spelled out one per line on purpose: a reader can grep
 * for a host or a region. New regions are added here (or by users in their config file).
 */
const entries: readonly CatalogEntry[] = [
  { prefix: '/glp/global', service: 'glp', region: 'global', upstream: 'https://global.api.greenlake.hpe.com' },

  { prefix: '/com/us-west', service: 'com', region: 'us-west', upstream: 'https://us-west.api.greenlake.hpe.com' },
  { prefix: '/com/eu-central', service: 'com', region: 'eu-central', upstream: 'https://eu-central.api.greenlake.hpe.com' },
  { prefix: '/com/ap-northeast', service: 'com', region: 'ap-northeast', upstream: 'https://ap-northeast.api.greenlake.hpe.com' },

  { prefix: '/dscc/us-west', service: 'dscc', region: 'us-west', upstream: 'https://us-west.api.greenlake.hpe.com' },
  { prefix: '/dscc/eu-west', service: 'dscc', region: 'eu-west', upstream: 'https://eu-west.api.greenlake.hpe.com' },
  { prefix: '/dscc/eu-central', service: 'dscc', region: 'eu-central', upstream: 'https://eu-central.api.greenlake.hpe.com' },
  { prefix: '/dscc/ap-northeast', service: 'dscc', region: 'ap-northeast', upstream: 'https://ap-northeast.api.greenlake.hpe.com' },

  { prefix: '/com/us-west2', service: 'com', region: 'us-west2', upstream: 'https://us-west2-api.compute.cloud.hpe.com' },
  { prefix: '/com/eu-central1', service: 'com', region: 'eu-central1', upstream: 'https://eu-central1-api.compute.cloud.hpe.com' },
  { prefix: '/com/ap-northeast1', service: 'com', region: 'ap-northeast1', upstream: 'https://ap-northeast1-api.compute.cloud.hpe.com' },

  { prefix: '/dscc/us1', service: 'dscc', region: 'us1', upstream: 'https://us1.data.cloud.hpe.com' },
  { prefix: '/dscc/eu1', service: 'dscc', region: 'eu1', upstream: 'https://eu1.data.cloud.hpe.com' },
  { prefix: '/dscc/jp1', service: 'dscc', region: 'jp1', upstream: 'https://jp1.data.cloud.hpe.com' },
  { prefix: '/dscc/uk1', service: 'dscc', region: 'uk1', upstream: 'https://uk1.data.cloud.hpe.com' },
  { prefix: '/dscc/uae1', service: 'dscc', region: 'uae1', upstream: 'https://uae1.data.cloud.hpe.com' },
];

export const catalog: readonly CatalogEntry[] = Object.freeze(entries.map((entry) => Object.freeze({ ...entry })));

export function findCatalogEntry(prefix: string): CatalogEntry | undefined {
  return catalog.find((entry) => entry.prefix === prefix);
}
