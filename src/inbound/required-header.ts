import type { RequiredHeaderConfig } from '../config/index.ts';
import { InboundError } from './errors.ts';

export interface RequiredHeader {
  /** Lower case, as Node's request headers are keyed. */
  readonly name: string;
  readonly value: string;
  /** Kept for the message: the name as configured. */
  readonly displayName: string;
}

export function requiredHeader(config: RequiredHeaderConfig): RequiredHeader {
  return { name: config.name.toLowerCase(), value: config.value, displayName: config.name };
}

/** Like Vault's `X-Vault-Request: true`: a browser cannot add a custom header to a cross-site request without CORS. */
export function checkRequiredHeader(
  value: string | string[] | undefined,
  required: RequiredHeader,
): InboundError | undefined {
  if (value === required.value) return undefined;
  return new InboundError('GREENLAKE_PROXY_HEADER_REQUIRED', `every request must carry the ${required.displayName} header this proxy is configured to require`);
}
