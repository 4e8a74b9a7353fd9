// What the exec tests share: exec run to its end, its config file, a zero-config environment.
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_CLIENT, type Emulator } from '../../src/emulator/index.ts';
import { MAIN } from './cli.ts';
import type { Tap } from './index.ts';

export const SECRET = DEMO_CLIENT.clientSecret;

export interface ExecRun {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** `greenlake-proxy exec ARGS -- node -e SCRIPT` to its end, stdout kept as bytes. */
export async function exec(t: Tap, args: readonly string[], script: string, env: Record<string, string> = {}): Promise<ExecRun> {
  return execCommand(t, args, [process.execPath, '-e', script], env);
}

/** In a process group of its own: whatever is left of exec and its command at teardown is killed. */
export async function execCommand(t: Tap, args: readonly string[], command: readonly string[], env: Record<string, string> = {}): Promise<ExecRun> {
  const child = spawn(process.execPath, [MAIN, 'exec', ...args, '--', ...command], { env: { PATH: process.env.PATH ?? '', ...env }, detached: true });
  t.teardown(() => killGroup(child.pid!));
  const stdout: Buffer[] = [];
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => stdout.push(d));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout: Buffer.concat(stdout), stderr };
}

/** The emulator's client (secret from ${SECRET}), the given routes, then `extra` top-level YAML lines. */
export async function writeConfig(dir: string, emu: Emulator, routes: readonly string[], extra: readonly string[] = [], name = 'proxy.yaml'): Promise<string> {
  const file = join(dir, name);
  const lines = ['clients:', '  - name: team', `    clientId: ${DEMO_CLIENT.clientId}`, '    clientSecret: ${SECRET}', `    tokenUrl: ${emu.tokenUrl}`, 'routes:', ...routes, ...extra, ''];
  await writeFile(file, lines.join('\n'));
  return file;
}

/** Zero-config against a token URL nothing is asked of: the child makes no request. */
export function zeroConfig(): Record<string, string> {
  return { GREENLAKE_CLIENT_ID: 'id', GREENLAKE_CLIENT_SECRET: 'a-secret-nobody-checks', GREENLAKE_TOKEN_URL: 'http://127.0.0.1:9/token' };
}

/** exec and its child, whatever is left of them (exec killed by SIGKILL leaves its child running). */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

export function hasScript(): boolean {
  return spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
}
