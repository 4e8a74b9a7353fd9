/** State shared by the replicas of one gateway: tokens in Redis, sealed with the configured key. */
export { connectTimeoutMs, RedisTokenStore, type StoreObserver } from './redis.ts';
export { Sealer } from './seal.ts';
