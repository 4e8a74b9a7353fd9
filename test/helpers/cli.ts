import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEMO_CLIENT, type Emulator } from '../../src/emulator/index.ts';
import type { Tap } from './index.ts';
import './fixtures.ts';

/** The real command line, run with this Node (24). */
export const MAIN = new URL('../../src/cli/main.js', import.meta.url).pathname;

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs one command to its end, with nothing of this process's environment but PATH. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return once(child, 'close').then(([code]) => ({ code: code as number | null, stdout, stderr }));
}

/**
 * A config file with one client (the emulator's demo client, secret from ${SECRET}) and the given
 * routes, then `extra`: more top-level YAML lines (a `store:` or `timeouts:` block).
 */
export async function writeServeConfig(
  dir: string,
  emu: Emulator,
  routes = [`  - { prefix: /dscc/us1, upstream: "${emu.url}" }`],
  extra: readonly string[] = [],
): Promise<string> {
  const file = join(dir, 'proxy.yaml');
  const lines = [
    'clients:',
    '  - name: team',
    `    clientId: ${DEMO_CLIENT.clientId}`,
    '    clientSecret: ${SECRET}',
    `    tokenUrl: ${emu.tokenUrl}`,
    'routes:',
    ...routes,
    ...extra,
    '',
  ];
  await writeFile(file, lines.join('\n'));
  return file;
}

export interface RunningProcess {
  readonly child: ChildProcessWithoutNullStreams;
  /** Everything the process wrote so far, stdout and stderr. */
  logs(): string;
  /** What it wrote on stdout alone. */
  stdout(): string;
  waitForLog(pattern: RegExp): Promise<RegExpExecArray>;
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
}

export interface ServeProcess extends RunningProcess {
  /** The main listener's URL, from the start log line. */
  readonly url: string;
}

/**
 * A long-running command as its own process, killed at teardown if still running. Detached: a
 * session of its own, so no controlling terminal, as under a service manager (SIGHUP reloads)
 * whether or not the tests were started from a terminal.
 */
export function startProcess(t: Tap, file: string, args: readonly string[], env: Record<string, string> = {}): RunningProcess {
  const child = spawn(file, [...args], { env: { PATH: process.env.PATH ?? '', ...env }, detached: true });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let logs = '';
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    logs += d.toString();
    stdout += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const waitForLog = async (pattern: RegExp): Promise<RegExpExecArray> => {
    for (let i = 0; i < 800; i++) {
      const m = pattern.exec(logs);
      if (m) return m;
      if (child.exitCode !== null || child.signalCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no log line ${pattern}: ${logs}`);
  };
  return { child, logs: () => logs, stdout: () => stdout, waitForLog, exited };
}

/** `serve --config FILE --port 0` as its own process (JSON logs: stdout is a pipe). */
export async function startServe(t: Tap, file: string, env: Record<string, string> = {}): Promise<ServeProcess> {
  const proc = startProcess(t, process.execPath, [MAIN, 'serve', '--config', file, '--port', '0'], { SECRET: DEMO_CLIENT.clientSecret, ...env });
  const url = (await proc.waitForLog(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/))[1]!;
  return { ...proc, url };
}

export interface TerminalProcess {
  /** util-linux `script`, holding the pseudo-terminal's master side: killing it closes the terminal. */
  readonly script: ChildProcessWithoutNullStreams;
  /** What the command wrote to its terminal. */
  output(): string;
  waitForOutput(pattern: RegExp): Promise<RegExpExecArray>;
  /** The command's own process (the session leader of the terminal), found under `script`. */
  commandPid(): number;
  readonly exited: Promise<[number | null, NodeJS.Signals | null]>;
}

/**
 * The real command line run as from a terminal window: under a pseudo-terminal of its own made by
 * util-linux `script` (no dependency), so the command has a controlling terminal.
 */
export function underTerminal(t: Tap, args: readonly string[], env: Record<string, string> = {}): TerminalProcess {
  // exec: the shell `script` starts gives way to the command, which so leads the terminal's session.
  const command = `exec ${[process.execPath, MAIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')}`;
  const script = spawn('script', ['-qfec', command, '/dev/null'], { env: { PATH: process.env.PATH ?? '', TERM: 'dumb', ...env } });
  let output = '';
  script.stdout.on('data', (d: Buffer) => (output += d.toString()));
  script.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = once(script, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const commandPid = (): number => {
    const pid = descendants(script.pid!).find((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[0] === process.execPath);
    if (pid === undefined) throw new Error(`no ${MAIN} under script ${script.pid}`);
    return pid;
  };
  t.teardown(() => {
    try {
      process.kill(commandPid(), 'SIGKILL');
    } catch {
      // gone already
    }
    if (script.exitCode === null && script.signalCode === null) script.kill('SIGKILL');
  });
  const waitForOutput = async (pattern: RegExp): Promise<RegExpExecArray> => {
    for (let i = 0; i < 800; i++) {
      const m = pattern.exec(output);
      if (m) return m;
      if (script.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`no output ${pattern}: ${output}`);
  };
  return { script, output: () => output, waitForOutput, commandPid, exited };
}

function descendants(pid: number): number[] {
  let children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      children.push(...readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    }
  } catch {
    children = [];
  }
  return children.flatMap((child) => [child, ...descendants(child)]);
}

/** Whether a process of that id still exists (a zombie counts as gone: it no longer runs). */
export function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
