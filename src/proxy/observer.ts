/** One finished request, as the proxy saw it. */
export interface RequestOutcome {
  /** The route's name (its prefix or `port:<n>`); undefined when no route matched. */
  readonly route: string | undefined;
  readonly client: string | undefined;
  readonly method: string;
  /** The status sent, or 499 when the caller went away before an answer. */
  readonly status: number;
}

/** Told about every request and every upstream answer: for metrics and the status page. */
export interface RequestObserver {
  requestStarted(): void;
  requestFinished(outcome: RequestOutcome): void;
  upstreamAnswered(route: string, client: string, status: number, seconds: number): void;
}
