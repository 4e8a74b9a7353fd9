/** GreenLake list paging: offset/limit (DSCC v1 also pageOffset/pageLimit). `filter` is accepted and ignored. */

export type Query = Record<string, string | string[] | undefined>;

export interface Page<T> {
  offset: number;
  count: number;
  total: number;
  items: T[];
}

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export type PageResult<T> = { ok: true; page: Page<T> } | { ok: false; message: string };

export function pageOf<T>(items: readonly T[], query: Query): PageResult<T> {
  const offset = integerParam(query, 'offset', 'pageOffset', 0);
  const limit = integerParam(query, 'limit', 'pageLimit', DEFAULT_LIMIT);
  if (offset === undefined) return { ok: false, message: 'offset must be a non-negative integer' };
  if (limit === undefined || limit < 1 || limit > MAX_LIMIT) {
    return { ok: false, message: `limit must be an integer from 1 to ${MAX_LIMIT}` };
  }
  const pageItems = items.slice(offset, offset + limit);
  return { ok: true, page: { offset, count: pageItems.length, total: items.length, items: pageItems } };
}

/** undefined when present but not a non-negative integer. */
function integerParam(query: Query, name: string, alias: string, fallback: number): number | undefined {
  const raw = query[name] ?? query[alias];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw)) return undefined;
  return Number(raw);
}
