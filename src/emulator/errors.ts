/** Error bodies: GreenLake's API shape and OAuth's token-endpoint shape. */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';

export interface GreenLakeError {
  httpStatusCode: number;
  errorCode: string;
  message: string;
  debugId: string;
}

export function greenLakeError(status: number, message: string): GreenLakeError {
  return { httpStatusCode: status, errorCode: greenLakeErrorCode(status), message, debugId: randomUUID() };
}

/** 429 → HPE_GL_ERROR_TOO_MANY_REQUESTS, 503 → HPE_GL_ERROR_SERVICE_UNAVAILABLE, ... */
export function greenLakeErrorCode(status: number): string {
  const reason = STATUS_CODES[status];
  const name = reason === undefined ? `HTTP_${status}` : reason.toUpperCase().replace(/[^A-Z0-9]+/g, '_');
  return `HPE_GL_ERROR_${name}`;
}

export interface OAuthError {
  error: string;
  error_description: string;
}

export function oauthError(error: string, description: string): OAuthError {
  return { error, error_description: description };
}
