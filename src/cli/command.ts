/** What every command receives and may throw; run.ts and the commands both import it, never each other. */

export type Env = Record<string, string | undefined>;

import type { LogFormat } from '../server/index.ts';

export type { LogFormat };

export interface CliOptions {
  readonly config: string | undefined;
  readonly host: string | undefined;
  readonly port: number | undefined;
  /** serve, check, demo: the main listener on this Unix socket instead of host:port. */
  readonly socket: string | undefined;
  readonly online: boolean;
  readonly client: string | undefined;
  readonly tenant: string | undefined;
  readonly region: string | undefined;
  /** serve, check, demo: listen beyond loopback without inbound authentication, deliberately. */
  readonly allowUnauthenticated: boolean;
  /** hash-key: create a random key instead of reading one. */
  readonly generate: boolean;
  /** serve, demo: undefined means pretty on a terminal, JSON otherwise. */
  readonly logFormat: LogFormat | undefined;
  /** wait: the proxy to wait for. */
  readonly url: string | undefined;
  /** wait: how long to wait, in milliseconds. */
  readonly timeoutMs: number | undefined;
  /** exec: the command and its arguments, everything after `--`. */
  readonly command: readonly string[];
  /** exec: only GET, HEAD and OPTIONS reach GreenLake. */
  readonly readOnly: boolean;
  /** exec: callers of its proxy must show GREENLAKE_PROXY_TOKEN. */
  readonly requireToken: boolean;
  /** exec: more variables holding a route's URL. */
  readonly urlEnv: readonly UrlEnv[];
  /** exec: more variables holding the token. */
  readonly tokenEnv: readonly string[];
}

export interface UrlEnv {
  readonly name: string;
  readonly prefix: string;
}

export type Command = (options: CliOptions, env: Env) => Promise<number>;

/** Bad command line or environment: exit status 2, one line, no stack trace. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
