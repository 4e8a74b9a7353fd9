/**
 * Reading a Dockerfile as Docker would, and running what it says, for tests that have no Docker
 * engine: test/container.test.ts (the image, compose, the manifests) and test/healthcheck.test.ts.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import type { Tap } from './index.ts';

// ---------------------------------------------------------------------------------------------
// Reading a Dockerfile

export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

export interface Stage {
  readonly base: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

/** Logical lines (continuations joined, comments dropped) grouped into build stages. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = '';
  let startLine = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.replace(/\r$/, '');
    if (/^\s*#/.test(line) || (pending === '' && line.trim() === '')) return;
    if (pending === '') startLine = index + 1;
    const continued = /\\\s*$/.test(line);
    pending += continued ? `${line.replace(/\\\s*$/, '')} ` : line;
    if (continued) return;
    const match = /^\s*(\w+)\s+([\s\S]*)$/.exec(pending);
    pending = '';
    if (!match) throw new Error(`Dockerfile line ${startLine}: cannot read`);
    const keyword = match[1]!.toUpperCase();
    const args = match[2]!.trim();
    if (keyword === 'FROM') {
      const from = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`Dockerfile line ${startLine}: cannot read FROM`);
      stages.push({ base: from[1]!, name: from[2], instructions: [] });
      return;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile line ${startLine}: ${keyword} before FROM`);
    stage.instructions.push({ keyword, args, line: startLine });
  });
  return stages;
}

export function all(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((i) => i.keyword === keyword);
}

export function last(stage: Stage, keyword: string): Instruction | undefined {
  return all(stage, keyword).at(-1);
}

/** ENV a=1 b="two words" (or the legacy ENV a value). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {};
  for (const { args } of all(stage, 'ENV')) {
    if (!/^[\w.-]+=/.test(args)) {
      const [key, ...value] = args.split(/\s+/);
      env[key!] = value.join(' ');
      continue;
    }
    for (const m of args.matchAll(/([\w.-]+)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      env[m[1]!] = m[2]!.startsWith('"') ? (JSON.parse(m[2]!) as string) : m[2]!;
    }
  }
  return env;
}

/** ENTRYPOINT, CMD and HEALTHCHECK CMD in exec (JSON) form: in shell form, `sh` would be PID 1 and swallow the stop signal. */
export function execForm(args: string, what: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(args);
  } catch {
    throw new Error(`${what} is in shell form (${args}): use the exec form ["node", ...]`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || !parsed.every((p) => typeof p === 'string')) {
    throw new Error(`${what} is not a JSON array of strings`);
  }
  return parsed as string[];
}

export function healthcheckOf(stage: Stage): { options: Record<string, string>; command: string[] } {
  const args = last(stage, 'HEALTHCHECK')?.args ?? '';
  const m = /^((?:--[\w-]+=\S+\s+)*)CMD\s+(.*)$/s.exec(args);
  if (!m) throw new Error(`HEALTHCHECK must be "[--options] CMD [...]": ${args}`);
  const options = Object.fromEntries([...m[1]!.matchAll(/--([\w-]+)=(\S+)/g)].map((o) => [o[1]!, o[2]!]));
  return { options, command: execForm(m[2]!, 'HEALTHCHECK CMD') };
}


export interface RunFlags {
  /** `--mount=type=secret,id=...`: the secrets this RUN may read, by id, with where it reads them. */
  readonly secrets: Array<{ id: string; target: string }>;
  readonly command: string;
}

/** `RUN --mount=... command`: BuildKit's flags, then the shell command. */
export function runFlags(args: string): RunFlags {
  const secrets: RunFlags['secrets'] = [];
  let rest = args;
  for (let m = /^--(\w+)=(\S+)\s+/.exec(rest); m; m = /^--(\w+)=(\S+)\s+/.exec(rest)) {
    rest = rest.slice(m[0].length);
    if (m[1] !== 'mount') continue;
    const fields = Object.fromEntries(m[2]!.split(',').map((f) => f.split('=') as [string, string]));
    if (fields['type'] === 'secret' && fields['id'] !== undefined) secrets.push({ id: fields['id'], target: fields['target'] ?? `/run/secrets/${fields['id']}` });
  }
  return { secrets, command: rest };
}

/** The RUN's command as a build here runs it: each secret mount's path is the file given for that id (or one that does not exist). */
export function runCommand(args: string, secrets: Readonly<Record<string, string>>): string {
  const { secrets: mounts, command } = runFlags(args);
  return mounts.reduce((cmd, m) => cmd.replaceAll(m.target, secrets[m.id] ?? `/nonexistent/secret/${m.id}`), command);
}

export interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: string[], options: SpawnOptions = {}): Promise<Run> {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Spawns the proxy and resolves once it logged that it listens; `logs()` is everything it wrote so far. */
export async function startListening(t: Tap, command: string, args: string[], options: SpawnOptions) {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let logs = '';
  child.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      logs += d.toString();
      if (logs.includes('greenlake-proxy listening')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before listening: ${logs}`)));
  });
  return { child, exited, logs: () => logs };
}

/** `node` in an exec form is this Node 24 (the image's `node`). */
export function withNode(argv: string[]): [string, string[]] {
  const [command, ...args] = argv;
  return [command === 'node' ? process.execPath : command!, args];
}
