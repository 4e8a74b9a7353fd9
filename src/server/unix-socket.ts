import { chmod, lstat, stat, unlink } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** Only Node built-ins here: the command line imports this file for its error, without the server. */

export interface UnixSocketListen {
  /** Absolute path of the socket file. */
  readonly path: string;
  /** Its permission bits, e.g. 0o600: who may connect. */
  readonly mode: number;
}

export type SocketListenErrorCode =
  | 'GREENLAKE_PROXY_SOCKET_IN_USE'
  | 'GREENLAKE_PROXY_SOCKET_NOT_A_SOCKET'
  | 'GREENLAKE_PROXY_SOCKET_NO_DIRECTORY'
  | 'GREENLAKE_PROXY_SOCKET_UNUSABLE';

/** The main listener's socket could not be created: the command line says why and exits 2. */
export class SocketListenError extends Error {
  override readonly name = 'SocketListenError';
  readonly code: SocketListenErrorCode;

  constructor(code: SocketListenErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const URL_SCHEME = 'unix:';

/** How a socket listener is named in logs, /-/status-like output and `wait --url`: `unix:/run/proxy.sock`. */
export function unixSocketUrl(file: string): string {
  return `${URL_SCHEME}${file}`;
}

/** The socket path of a `unix:/path` URL; undefined for any other URL. */
export function unixSocketPathOf(url: string): string | undefined {
  return url.startsWith(URL_SCHEME) && url.length > URL_SCHEME.length ? url.slice(URL_SCHEME.length) : undefined;
}

/**
 * Serves `server` on a Unix socket of exactly `socket.mode`. A socket file nobody answers on
 * (left by a killed proxy) is replaced; one a process answers on, or anything that is not a
 * socket, is left alone and refused. Node removes the file when the server closes. Resolves
 * with the listener's URL (`unix:/path`).
 */
export async function listenOnUnixSocket(server: net.Server, socket: UnixSocketListen): Promise<string> {
  await checkDirectory(socket.path);
  await removeStaleSocket(socket.path);
  await bindWithMode(server, socket);
  return unixSocketUrl(socket.path);
}

async function checkDirectory(file: string): Promise<void> {
  const dir = path.dirname(file);
  let found: Stats;
  try {
    found = await stat(dir);
  } catch (err) {
    throw new SocketListenError('GREENLAKE_PROXY_SOCKET_NO_DIRECTORY', `cannot create the socket ${file}: its directory ${dir} does not exist (${codeOf(err)})`);
  }
  if (!found.isDirectory()) throw new SocketListenError('GREENLAKE_PROXY_SOCKET_NO_DIRECTORY', `cannot create the socket ${file}: ${dir} is not a directory`);
}

async function removeStaleSocket(file: string): Promise<void> {
  let found: Stats;
  try {
    found = await lstat(file);
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return;
    throw new SocketListenError('GREENLAKE_PROXY_SOCKET_UNUSABLE', `cannot use the socket ${file} (${codeOf(err)})`);
  }
  // lstat: a symbolic link is refused as what it is, never followed to what it points at.
  if (!found.isSocket()) {
    throw new SocketListenError(
      'GREENLAKE_PROXY_SOCKET_NOT_A_SOCKET',
      `${file} exists and is ${kindOf(found)}, not a socket: refusing to replace it (remove it, or choose another listen.socket or --socket)`,
    );
  }
  const answer = await knock(file);
  if (answer === 'answered') throw inUse(file);
  if (answer !== 'ECONNREFUSED') {
    throw new SocketListenError('GREENLAKE_PROXY_SOCKET_UNUSABLE', `${file} is a socket this process cannot check (${answer}): not replacing it`);
  }
  try {
    await unlink(file);
  } catch (err) {
    if (codeOf(err) !== 'ENOENT') throw new SocketListenError('GREENLAKE_PROXY_SOCKET_UNUSABLE', `cannot remove the stale socket ${file} (${codeOf(err)})`);
  }
}

/** `answered` when a process accepts connections there; else the connect error's code (ECONNREFUSED: nobody listens). */
function knock(file: string): Promise<string> {
  return new Promise((resolve) => {
    const probe = net.connect({ path: file });
    probe.once('connect', () => {
      probe.destroy();
      resolve('answered');
    });
    probe.once('error', (err) => resolve(codeOf(err)));
  });
}

function bindWithMode(server: net.Server, socket: UnixSocketListen): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      server.off('listening', onListening);
      reject(codeOf(err) === 'EADDRINUSE' ? inUse(socket.path) : new SocketListenError('GREENLAKE_PROXY_SOCKET_UNUSABLE', `cannot create the socket ${socket.path} (${codeOf(err)})`));
    };
    const onListening = (): void => {
      server.off('error', onError);
      // Exactly `mode` even where a directory's default ACL replaced the umask (then it is the only guarantee).
      chmod(socket.path, socket.mode).then(resolve, (err: unknown) => {
        server.close();
        reject(new SocketListenError('GREENLAKE_PROXY_SOCKET_UNUSABLE', `cannot set the mode of the socket ${socket.path} (${codeOf(err)})`));
      });
    };
    server.once('error', onError);
    server.once('listening', onListening);
    // bind(2) creates the socket file with 0777 & ~umask: with this umask it is never more open
    // than `mode`, not even for an instant. (Node's readableAll/writableAll, and any chmod after
    // bind, leave a moment in which the file has the process's usual umask, e.g. 0755 - and on
    // Linux anyone with write permission may connect.) A private directory plus rename would
    // also work, but leaves Node removing the wrong name at close. server.listen binds
    // synchronously (exclusive: no cluster primary binds it for us later), so the process-wide
    // umask is changed for this one call only; process.umask cannot be set in worker threads.
    const previous = process.umask(0o777 & ~socket.mode);
    try {
      server.listen({ path: socket.path, exclusive: true });
    } finally {
      process.umask(previous);
    }
  });
}

function inUse(file: string): SocketListenError {
  return new SocketListenError(
    'GREENLAKE_PROXY_SOCKET_IN_USE',
    `${file} is already in use: a process answers on it (another proxy running?); stop it, or choose another socket with --socket PATH or GREENLAKE_PROXY_SOCKET`,
  );
}

function kindOf(found: Stats): string {
  if (found.isSymbolicLink()) return 'a symbolic link';
  if (found.isDirectory()) return 'a directory';
  if (found.isFile()) return 'a regular file';
  return 'a special file';
}

function codeOf(err: unknown): string {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  return typeof code === 'string' ? code : 'unknown error';
}
