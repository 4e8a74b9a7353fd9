import type { FastifyReply } from 'fastify';
import { greenLakeError } from './errors.ts';

const STATUSES_WITHOUT_BODY = new Set([204, 205, 304]);

/** Answers with GreenLake's standard error body. */
export function sendGreenLakeError(reply: FastifyReply, status: number, message: string): FastifyReply {
  reply.code(status);
  if (STATUSES_WITHOUT_BODY.has(status)) return reply.send();
  return reply.header('content-type', 'application/json').send(greenLakeError(status, message));
}
