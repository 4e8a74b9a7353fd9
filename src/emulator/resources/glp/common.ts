/** What the GreenLake platform declarations share: list specs, published limits, the async lifecycle. */
import type { ListSpec, PublishedLimit } from '../types.ts';

export const PER_MINUTE = (limit: number): PublishedLimit => ({ limit, windowSeconds: 60 });

/** GreenLake platform lists: `{offset, count, total, items}`. */
export function offsetList(defaultLimit: number, maxLimit: number, rateLimit?: PublishedLimit): ListSpec {
  return rateLimit === undefined ? { paging: 'offset', defaultLimit, maxLimit } : { paging: 'offset', defaultLimit, maxLimit, rateLimit };
}

/** Wellness lists page with an opaque `next` cursor. */
export const CURSOR_LIST: ListSpec = { paging: 'cursor', defaultLimit: 100, maxLimit: 100 };
