import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';

/** What reaches the child when exec gets it; exec itself never stops on them: it stops when the child has. */
export const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2', 'SIGWINCH'] as const satisfies readonly NodeJS.Signals[];

/** What a terminal sends to its whole foreground process group, which holds the child too. */
const TERMINAL_SIGNALS: ReadonlySet<NodeJS.Signals> = new Set(['SIGINT', 'SIGQUIT', 'SIGWINCH']);

export type ChildOutcome =
  | { readonly ran: true; readonly status: number }
  /** 127: not found, 126: found but not runnable, as a shell says. */
  | { readonly ran: false; readonly status: 126 | 127; readonly reason: string };

/**
 * Runs the command with stdio inherited, forwards signals to it while it runs, and resolves with
 * its exit status (128 + the signal's number when a signal killed it).
 */
export async function runChild(command: readonly string[], env: Readonly<Record<string, string>>): Promise<ChildOutcome> {
  const [file, ...args] = command as [string, ...string[]];
  const child = spawn(file, args, { stdio: 'inherit', env });
  const forward = (signal: NodeJS.Signals): void => {
    if (TERMINAL_SIGNALS.has(signal) && terminalReachesChild()) return;
    child.kill(signal);
  };
  const forwarded = FORWARDED_SIGNALS.filter((signal) => listen(signal, forward));
  try {
    return await new Promise<ChildOutcome>((resolve) => {
      // After the start, only a failed kill (a forwarded signal the child may not get) says error: nothing to do.
      child.on('error', (err: NodeJS.ErrnoException) => {
        if (child.pid === undefined) resolve(notStarted(file, err));
      });
      child.once('exit', (code, signal) => resolve({ ran: true, status: code ?? 128 + (signal === null ? 0 : constants.signals[signal]) }));
    });
  } finally {
    for (const signal of forwarded) process.off(signal, forward);
  }
}

/** Windows knows only some of these signals, and refuses a listener for the others. */
function listen(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): boolean {
  try {
    process.on(signal, listener);
    return true;
  } catch {
    return false;
  }
}

function notStarted(file: string, err: NodeJS.ErrnoException): ChildOutcome {
  if (err.code === 'ENOENT') return { ran: false, status: 127, reason: `${file}: command not found` };
  return { ran: false, status: 126, reason: `${file}: cannot run it (${err.code ?? err.message})` };
}

/**
 * Ctrl-C, Ctrl-\ and a resized window reach every process of the terminal's foreground group:
 * exec and the child alike. Forwarded again, a Ctrl-C would arrive twice, and many tools take a
 * second one to mean "quit now, skip the clean-up". Linux says whether exec is in that group
 * (/proc/self/stat: its process group equals the terminal's foreground group); elsewhere exec
 * cannot tell and forwards.
 */
function terminalReachesChild(): boolean {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    // After "pid (comm) ": state ppid pgrp session tty_nr tpgid.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(fields[2]);
    const foreground = Number(fields[5]);
    return foreground > 0 && foreground === pgrp;
  } catch {
    return false;
  }
}
