import type { Socket } from 'node:net';

/**
 * Requests pipelined on one connection, in the order they came. Node parses them all at once
 * and would let each be forwarded at once, on pooled upstream connections, in any order; the
 * proxy forwards each only once the one before it on the same connection was answered (as
 * nginx does), and never writes anything of its own into an answer still being sent.
 */
const TURNS = Symbol('greenlake-proxy.turns');

interface Turns {
  /** Requests on the socket not yet answered (or abandoned). */
  open: number;
  /** Forwarded requests waiting for the one before them, first first. */
  readonly waiting: Array<() => void>;
  /** The parser gave up on the connection: end it once the answers still due are sent. */
  closeWhenAnswered: boolean;
}

type TrackedSocket = Socket & { [TURNS]?: Turns };

/** A request arrived on `socket`: counted until `requestDone`. */
export function requestArrived(socket: Socket): void {
  const turns = ((socket as TrackedSocket)[TURNS] ??= { open: 0, waiting: [], closeWhenAnswered: false });
  turns.open += 1;
}

/** Its answer was sent (or the caller went away): the next request on the socket may go. */
export function requestDone(socket: Socket): void {
  const turns = (socket as TrackedSocket)[TURNS];
  if (turns === undefined || turns.open === 0) return;
  turns.open -= 1;
  turns.waiting.shift()?.();
  if (turns.open === 0 && turns.closeWhenAnswered) socket.destroySoon();
}

/** undefined (no wait, the usual case) when nothing is ahead of this request on its connection. */
export function turnOf(socket: Socket): Promise<void> | undefined {
  const turns = (socket as TrackedSocket)[TURNS];
  if (turns === undefined || turns.open - turns.waiting.length <= 1) return undefined;
  return new Promise((resolve) => turns.waiting.push(resolve));
}

/**
 * When an answer is being sent (or is due) on the socket, bytes of our own would land inside
 * it: true, and the socket is ended once that answer is complete. false: nothing is due.
 */
export function closeAfterAnswersDue(socket: Socket): boolean {
  const turns = (socket as TrackedSocket)[TURNS];
  if (turns === undefined || turns.open === 0) return false;
  turns.closeWhenAnswered = true;
  return true;
}
