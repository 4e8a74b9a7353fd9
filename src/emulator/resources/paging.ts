/** The list envelopes and their query parameters: offset/limit, or an opaque `next` cursor. */
import type { Item, ListSpec } from './types.ts';

export type Query = Record<string, string | string[] | undefined>;

export class PagingError extends Error {}

export function pageOf(items: readonly Item[], query: Query, spec: ListSpec, requestUri: string): Item {
  const limit = integerParam(query, 'limit', spec.defaultLimit);
  const minimum = spec.paging === 'dscc' ? 0 : 1;
  if (limit === undefined || limit < minimum || limit > spec.maxLimit) {
    throw new PagingError(`limit must be an integer from ${minimum} to ${spec.maxLimit}`);
  }
  const offset = spec.paging === 'cursor' ? cursorOffset(query) : integerParam(query, 'offset', 0);
  if (offset === undefined) throw new PagingError('offset must be a non-negative integer');
  const page = items.slice(offset, offset + limit).map((item) => (spec.view ? spec.view(item) : item));
  const total = items.length;
  switch (spec.paging) {
    case 'offset':
      return { offset, count: page.length, total, items: page };
    case 'audit':
      return { offset, count: page.length, total, items: page, remainingRecords: offset + page.length < total };
    case 'count':
      return { items: page, count: page.length };
    case 'dscc':
      return { items: page, pageLimit: limit, pageOffset: offset, total, requestUri };
    case 'cursor': {
      // HPE's schema makes `next` required: the last page says so with an empty one.
      const next = offset + page.length < total ? encodeCursor(offset + page.length) : '';
      return { items: page, count: page.length, total, next };
    }
  }
}

/** undefined when present but not one non-negative integer. */
function integerParam(query: Query, name: string, fallback: number): number | undefined {
  const raw = query[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw)) return undefined;
  return Number(raw);
}

function cursorOffset(query: Query): number {
  const raw = query['next'];
  if (raw === undefined || raw === '') return 0;
  if (typeof raw !== 'string') throw new PagingError('next must be given once');
  const match = /^o(\d{1,9})$/.exec(Buffer.from(raw, 'base64url').toString('utf8'));
  if (match?.[1] === undefined) throw new PagingError('next is not a cursor this API issued');
  return Number(match[1]);
}

function encodeCursor(offset: number): string {
  return Buffer.from(`o${offset}`).toString('base64url');
}
