import type { IncomingHttpHeaders } from 'node:http';
import type { Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { noteRelayed } from './reclaim.ts';

/** The status and headers of an upstream answer, before its body. */
export interface UpstreamHead {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
}

/**
 * Where an answer's body goes: the caller's response, or null to read it and drop it (a 401 or
 * 429 that will be retried).
 */
export type OpenSink = (head: UpstreamHead) => Writable | null;

/** The caller closed its connection before the answer was complete; the upstream request was aborted. */
export class CallerGoneError extends Error {
  readonly code = 'GREENLAKE_PROXY_CALLER_GONE';

  constructor() {
    super('the caller closed the connection before the answer was complete');
    this.name = 'CallerGoneError';
  }
}

/**
 * One upstream exchange, its body written straight into the sink `open` returns, with
 * backpressure both ways: a sink that is full pauses the upstream socket until it drains.
 * Resolves when the whole answer was written. Rejects with undici's own error when the
 * upstream failed (the sink, if one was open, is destroyed so the caller sees the cut), or
 * with CallerGoneError when the sink closed first.
 *
 * Why not undici's `stream()`: it does the same through an AsyncResource and `finished()`
 * (about eight listeners) per request, and reports a premature close whichever side failed.
 */
export function relay(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions, open: OpenSink, caller?: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    dispatcher.dispatch(options, new RelayHandler(open, resolve, reject, caller));
  });
}

/** Statuses whose answer has no body whatever its Content-Length says (RFC 9110 6.4.1). */
const BODYLESS_STATUSES = new Set([204, 304]);

class RelayHandler implements Dispatcher.DispatchHandler {
  readonly #open: OpenSink;
  readonly #resolve: () => void;
  readonly #reject: (err: Error) => void;
  /** The caller's response: when it closes before the upstream has answered, the upstream request is aborted at once. */
  readonly #caller: Writable | undefined;
  #sink: Writable | null = null;
  #statusCode = 0;
  #settled = false;
  #callerGone: (() => void) | undefined;

  constructor(open: OpenSink, resolve: () => void, reject: (err: Error) => void, caller: Writable | undefined) {
    this.#open = open;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#caller = caller;
  }

  /** undici tells a handler of this API from a legacy one by this method's presence. */
  onRequestStart(controller: Dispatcher.DispatchController): void {
    const caller = this.#caller;
    if (caller === undefined) return;
    if (caller.destroyed) return controller.abort(new CallerGoneError());
    this.#callerGone = () => controller.abort(new CallerGoneError());
    caller.once('close', this.#callerGone);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return;
    this.#stopWatchingCaller();
    this.#statusCode = statusCode;
    const sink = this.#open({ statusCode, headers });
    if (sink === null) return;
    this.#sink = sink;
    if (sink.destroyed) return controller.abort(new CallerGoneError());
    sink.on('drain', () => controller.resume());
    sink.once('close', () => {
      if (!this.#settled) controller.abort(new CallerGoneError());
    });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    noteRelayed(chunk.length);
    if (this.#sink !== null && !this.#sink.write(chunk)) controller.pause();
  }

  onResponseEnd(): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#stopWatchingCaller();
    this.#sink?.end();
    this.#resolve();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    // undici holds a 204 or 304 to the Content-Length it carries (often the representation's
    // length, as a 304 may): nothing more was due, the answer is complete.
    if (BODYLESS_STATUSES.has(this.#statusCode) && (err as { code?: string }).code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') return this.onResponseEnd();
    if (this.#settled) return;
    this.#settled = true;
    this.#stopWatchingCaller();
    // An answer cut short must reach the caller cut short, never ended as if it were whole.
    if (this.#sink !== null && !this.#sink.destroyed) this.#sink.destroy();
    this.#reject(err);
  }

  #stopWatchingCaller(): void {
    if (this.#callerGone === undefined) return;
    this.#caller?.off('close', this.#callerGone);
    this.#callerGone = undefined;
  }
}
