/**
 * Linux /proc readings (CPU time, RSS) and a registry of every child process the
 * benchmark starts, so that none outlives it: on exit, on error and on SIGINT/SIGTERM
 * each one is killed by its own pid.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const MIB = 1024 * 1024;

let clockTicks: number | undefined;

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (100 on every common Linux). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of one process, in seconds; undefined once it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  const times = cpuTimes(pid);
  return times === undefined ? undefined : times.user + times.system;
}

/** utime and stime (time in the kernel: syscalls, loopback TCP) of one process, in seconds. */
export function cpuTimes(pid: number): { user: number; system: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return { user: utime / ticksPerSecond(), system: stime / ticksPerSecond() };
}

/** Busy CPU seconds of the whole machine so far (all cores, /proc/stat), to spot load from elsewhere. */
export function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    // cpu user nice system idle iowait irq softirq steal ...: user, nice and system only, as
    // interrupt time (loopback traffic's softirq) is charged to no process.
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0);
    return busy / ticksPerSecond();
  } catch {
    return Number.NaN;
  }
}

export interface Memory {
  /** Resident set size now, bytes. */
  readonly rss: number;
  /** Peak resident set size (VmHWM), bytes. */
  readonly hwm: number;
}

export function memory(pid: number): Memory | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const kb = (key: string): number => {
    const match = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
    return match ? Number(match[1]) * 1024 : 0;
  };
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** Direct children of a process (nginx's workers), from /proc. */
export function childPids(pid: number): number[] {
  const found: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** A process (or a group, such as nginx's master and workers) whose cost is measured. */
export interface Measured {
  readonly label: string;
  /** Every pid whose CPU and memory count; called at each reading, since workers may change. */
  pids(): number[];
}

export function totalCpu(target: Measured): number {
  let sum = 0;
  for (const pid of target.pids()) sum += cpuSeconds(pid) ?? 0;
  return sum;
}

export function totalSystemCpu(target: Measured): number {
  let sum = 0;
  for (const pid of target.pids()) sum += cpuTimes(pid)?.system ?? 0;
  return sum;
}

export function totalMemory(target: Measured): Memory {
  let rss = 0;
  let hwm = 0;
  for (const pid of target.pids()) {
    const m = memory(pid);
    if (m) {
      rss += m.rss;
      hwm += m.hwm;
    }
  }
  return { rss, hwm };
}

/** Samples the RSS of a target every `everyMs` until stopped; returns the highest and the samples' count. */
export class RssSampler {
  readonly #target: Measured;
  readonly #timer: NodeJS.Timeout;
  #max = 0;
  #count = 0;

  constructor(target: Measured, everyMs = 50) {
    this.#target = target;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), everyMs);
  }

  #sample(): void {
    const { rss } = totalMemory(this.#target);
    if (rss > this.#max) this.#max = rss;
    this.#count++;
  }

  stop(): { maxRss: number; samples: number } {
    clearInterval(this.#timer);
    this.#sample();
    return { maxRss: this.#max, samples: this.#count };
  }
}

// ---------------------------------------------------------------------------------------------
// Child registry.

const children = new Set<ChildProcess>();
/** Synchronous clean-ups (temporary directories) run by killAll, after the kills. */
const cleanups = new Set<() => void>();
/** Extra pids to kill with their owner (nginx workers). */
const extraPids = new Map<ChildProcess, () => number[]>();
let hooked = false;

export function track(child: ChildProcess, descendants?: () => number[]): ChildProcess {
  children.add(child);
  if (descendants) extraPids.set(child, descendants);
  child.once('exit', () => {
    children.delete(child);
  });
  hookExit();
  return child;
}

export function untrack(child: ChildProcess): void {
  children.delete(child);
  extraPids.delete(child);
}

/** Registers a synchronous clean-up for exit, error and signals; returns its remover. */
export function atExit(fn: () => void): () => void {
  cleanups.add(fn);
  hookExit();
  return () => {
    cleanups.delete(fn);
  };
}

/** SIGKILLs every tracked child (and its known descendants), then runs the clean-ups, synchronously. */
export function killAll(): void {
  for (const child of children) {
    const more = safe(() => extraPids.get(child)?.() ?? []) ?? [];
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      safe(() => process.kill(child.pid as number, 'SIGKILL'));
    }
    for (const pid of more) safe(() => process.kill(pid, 'SIGKILL'));
  }
  children.clear();
  extraPids.clear();
  for (const fn of cleanups) safe(fn);
  cleanups.clear();
}

function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}: stopping every child process\n`);
      killAll();
      process.exit(130);
    });
  }
}

/** Waits for a child to exit, up to `ms`; true when it did. */
export function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 5000, descendants: number[] = []): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    if (!(await waitForExit(child, graceMs))) {
      child.kill('SIGKILL');
      await waitForExit(child, 2000);
    }
  }
  for (const pid of descendants) safe(() => process.kill(pid, 'SIGKILL'));
  untrack(child);
}

/** /proc/<pid>/status memory lines (bytes) and thread count: where RSS lives (anonymous or file pages). */
export interface MemoryDetail {
  readonly rss: number;
  readonly rssAnon: number;
  readonly rssFile: number;
  readonly hwm: number;
  /** VmData: the heap and anonymous mappings, resident or not (glibc malloc arenas show here). */
  readonly vmData: number;
  readonly threads: number;
}

export function memoryDetail(pid: number): MemoryDetail | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return {
    rss: field('VmRSS') * 1024,
    rssAnon: field('RssAnon') * 1024,
    rssFile: field('RssFile') * 1024,
    hwm: field('VmHWM') * 1024,
    vmData: field('VmData') * 1024,
    threads: field('Threads'),
  };
}

/** Resident bytes by kind of mapping, from /proc/<pid>/smaps: brk heap (glibc's main arena), anonymous mmaps (V8's heap, other malloc arenas, thread stacks), file pages. */
export interface RssByMapping {
  readonly brkHeap: number;
  readonly anonymous: number;
  readonly file: number;
  readonly other: number;
  readonly anonymousMappings: number;
}

export function rssByMapping(pid: number): RssByMapping | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  } catch {
    return undefined;
  }
  const totals = { brkHeap: 0, anonymous: 0, file: 0, other: 0, anonymousMappings: 0 };
  let kind: 'brkHeap' | 'anonymous' | 'file' | 'other' = 'other';
  for (const line of text.split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      const name = header[1] ?? '';
      kind = name === '[heap]' ? 'brkHeap' : name === '' ? 'anonymous' : name.startsWith('/') ? 'file' : 'other';
      if (kind === 'anonymous') totals.anonymousMappings++;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) totals[kind] += Number(rss[1]) * 1024;
  }
  return totals;
}
