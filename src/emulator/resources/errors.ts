/** Error bodies in each family's documented shape. */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { FastifyReply } from 'fastify';
import { greenLakeError } from '../errors.ts';
import type { ErrorStyle } from './types.ts';

/** A request the resource refuses: answered in the resource's error style. */
export class ResourceError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface ErrorExtras {
  /** GreenLake's `errorDetails[].retryAfterSeconds`, sent on 5xx. */
  retryAfterSeconds?: number;
}

export function styledError(style: ErrorStyle, status: number, message: string, extras: ErrorExtras = {}): Record<string, unknown> {
  if (style === 'dscc') return { error: message, errorCode: reasonName(status), traceId: randomUUID().replace(/-/g, '') };
  const body: Record<string, unknown> = { ...greenLakeError(status, message) };
  if (style === 'com') body['errorCode'] = `HPE-GL-COMPUTE_OPS-0${status}001`;
  if (status >= 500) body['errorDetails'] = [{ type: 'hpe.greenlake.retry_info', retryAfterSeconds: extras.retryAfterSeconds ?? 1 }];
  return body;
}

export function sendStyledError(reply: FastifyReply, style: ErrorStyle, status: number, message: string, extras?: ErrorExtras): FastifyReply {
  return reply.code(status).header('content-type', 'application/json').send(styledError(style, status, message, extras));
}

/** 404 → NOT_FOUND, as Data Services v1 names its error codes. */
function reasonName(status: number): string {
  return (STATUS_CODES[status] ?? `HTTP_${status}`).toUpperCase().replace(/[^A-Z0-9]+/g, '_');
}
