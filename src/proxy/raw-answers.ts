import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { closeAfterAnswersDue } from './connection-turns.ts';
import { errorBody, fromClientError, ProxyError } from './errors.ts';
import { ALLOWED_METHODS, methodNotAllowed } from './request-checks.ts';

/**
 * The answers Node's HTTP server would otherwise write itself (a bare 400, 417 or 431, or a
 * silently closed CONNECT), in GreenLake's shape, with a debugId and a log line. No Fastify
 * request exists for any of them.
 */
export function answerOutsideFastify(server: Server, logger: FastifyBaseLogger): void {
  // Without a listener Node closes a CONNECT without a word; with one, it is ours to answer.
  server.on('connect', (req: IncomingMessage, socket: Socket) => {
    socket.on('error', () => {});
    const error = methodNotAllowed('CONNECT');
    const id = randomUUID();
    logger.info({ reqId: id, code: error.code, method: 'CONNECT' }, 'request refused');
    writeRawError(socket, error, id, [`allow: ${ALLOWED_METHODS}`]);
    req.resume();
  });
  // Expect with anything but 100-continue: Node would answer a bare 417 itself.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const error = new ProxyError('GREENLAKE_PROXY_EXPECTATION_FAILED', 'only Expect: 100-continue is supported');
    const id = randomUUID();
    logger.info({ reqId: id, code: error.code }, 'request refused');
    const json = JSON.stringify(errorBody(error, id));
    res.writeHead(error.statusCode, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json), 'x-request-id': id, connection: 'close' });
    res.end(json);
    req.resume();
  });
}

/**
 * Node's parser refused the bytes (headers too large or too slow, malformed request line, CR/LF
 * where none may be): no request exists, so answer on the socket, in GreenLake's shape, and close.
 * When an answer to an earlier request on the connection is still being sent, a parse error of
 * a request pipelined behind it writes nothing: `HTTP/1.1 400` in the middle of that answer
 * would corrupt it. The answer is completed, then the connection closed.
 */
export function answerClientError(err: { code?: string }, socket: Socket, logger: FastifyBaseLogger): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const id = randomUUID();
  if (err.code === 'HPE_INVALID_EOF_STATE') {
    // The caller ended the connection inside a request (a hung-up upload): that request can never
    // complete, and waiting for its answer would hold its upstream request until a timeout. Node's
    // own default without a clientError handler: destroy, which aborts the upstream request.
    logger.info({ reqId: id, parserError: err.code, closedWithoutAnswer: true }, 'caller closed the connection in the middle of a request');
    socket.destroy();
    return;
  }
  const error = fromClientError(err);
  const midAnswer = closeAfterAnswersDue(socket);
  logger.info({ reqId: id, code: error.code, parserError: err.code, ...(midAnswer && { closedWithoutAnswer: true }) }, 'request refused by the HTTP parser');
  if (midAnswer) return;
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  writeRawError(socket, error, id);
}

function writeRawError(socket: Socket, error: ProxyError, id: string, extraHeaders: readonly string[] = []): void {
  const body = JSON.stringify(errorBody(error, id));
  const head = [
    `HTTP/1.1 ${error.statusCode} ${STATUS_CODES[error.statusCode] ?? ''}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    `x-request-id: ${id}`,
    ...extraHeaders,
    'connection: close',
  ];
  socket.write(`${head.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy());
}
