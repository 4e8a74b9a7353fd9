import type { FastifyRequest } from 'fastify';
import type { Query } from './resources/paging.ts';

/** The path of the request target as received, without the query. */
export function pathOf(request: FastifyRequest): string {
  return request.originalUrl.split('?')[0] ?? '';
}

/** Fastify's default query parser yields strings, or arrays for repeated names. */
export function queryOf(request: FastifyRequest): Query {
  return request.query as Query;
}

/** A single query parameter; undefined when absent or repeated. */
export function singleParam(request: FastifyRequest, name: string): string | undefined {
  const value = queryOf(request)[name];
  return typeof value === 'string' ? value : undefined;
}
