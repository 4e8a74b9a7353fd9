import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyConfig } from '../config/index.ts';
import { AccessRules } from './access.ts';
import type { AccessGrant, Principal } from './principal.ts';

const HASH_PREFIX = 'sha256:';
const GENERATED_KEY_PREFIX = 'glproxy_';

/** The configuration's form of a key: `sha256:<hex>`. Keys are random, so an unsalted hash is enough. */
export function hashKey(key: string): string {
  return HASH_PREFIX + createHash('sha256').update(key, 'utf8').digest('hex');
}

/** 256 random bits; the prefix lets secret scanners recognise a leaked key. */
export function generateKey(): string {
  return GENERATED_KEY_PREFIX + randomBytes(32).toString('base64url');
}

interface KnownKey {
  readonly digest: Buffer;
  readonly principal: Principal;
}

/** The configured keys, each known only by its digest. */
export class KeyRing {
  readonly #keys: readonly KnownKey[];

  constructor(keys: readonly ApiKeyConfig[]) {
    this.#keys = keys.map((key) => ({
      digest: Buffer.from(key.keyHash.slice(HASH_PREFIX.length), 'hex'),
      principal: {
        name: `key:${key.name}`,
        clients: new Set(key.clients),
        routes: key.routes === undefined ? undefined : new Set(key.routes),
        methods: key.methods === undefined ? undefined : new Set(key.methods),
        admin: key.admin,
        configPath: `inbound.apiKeys[${key.name}]`,
        access: keyAccess(key),
      },
    }));
  }

  get size(): number {
    return this.#keys.length;
  }

  /**
   * Compares the presented key's digest with every configured digest in constant time and
   * without stopping at a match, so the answer time says nothing about which key is close.
   */
  find(presented: string): Principal | undefined {
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let found: Principal | undefined;
    for (const key of this.#keys) {
      if (timingSafeEqual(digest, key.digest)) found ??= key.principal;
    }
    return found;
  }
}

function keyAccess(key: ApiKeyConfig): readonly AccessGrant[] | undefined {
  const rules = AccessRules.of(key, `inbound.apiKeys[${key.name}]`);
  return rules === undefined ? undefined : [{ clients: undefined, rules }];
}
