/** What the emulator was asked: token and API requests, oldest first. */
import type { ApiRequestRecord, TokenRequestRecord } from './types.ts';

export interface RedactedJournal {
  tokenRequests: TokenRequestRecord[];
  apiRequests: ApiRequestRecord[];
}

export class Journal {
  readonly tokenRequests: TokenRequestRecord[] = [];
  readonly apiRequests: ApiRequestRecord[] = [];

  /** Empties the lists in place, so references handed out earlier see the reset too. */
  reset(): void {
    this.tokenRequests.length = 0;
    this.apiRequests.length = 0;
  }

  /** For the HTTP control endpoint: bearer tokens must not leave the process. */
  redacted(): RedactedJournal {
    return {
      tokenRequests: this.tokenRequests.map((record) => ({ ...record })),
      apiRequests: this.apiRequests.map((record) => ({ ...record, headers: redactAuthorization(record.headers) })),
    };
  }
}

function redactAuthorization(headers: ApiRequestRecord['headers']): ApiRequestRecord['headers'] {
  if (headers['authorization'] === undefined) return { ...headers };
  return { ...headers, authorization: '[redacted]' };
}
