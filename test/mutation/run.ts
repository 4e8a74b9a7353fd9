/**
 * `npm run mutation`: plants each mutant of mutants.ts (one small bug of the kind real changes
 * introduce) in a scratch copy of the tree, runs the tests aimed at it, and counts which mutants
 * the tests catch. Not part of `npm test`: a full run takes several minutes.
 *
 *   npm run mutation                       every mutant, two at a time
 *   npm run mutation -- --only budget-     mutants whose id starts with a given text
 *   npm run mutation -- --jobs 1 --list    one at a time; --list prints the mutants and stops
 *   npm run mutation -- --set independent  the second set (mutants-independent.ts), written by
 *                                          someone who had not read the first; default: --set main
 *   npm run mutation -- --set third        a third set (mutants-third.ts), written by someone who
 *                                          had read neither
 *
 * The score is given per folder (tokens/, proxy/, ...) and in all.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { INDEPENDENT_MUTANTS } from './mutants-independent.ts';
import { MUTANTS, type Mutant } from './mutants.ts';
import { THIRD_MUTANTS } from './mutants-third.ts';

const REPO = resolve(import.meta.dirname, '../..');
/** What a scratch copy needs to run tests; node_modules is linked, not copied. */
const COPIED = ['src', 'test', 'config', 'package.json', 'tsconfig.json', '.taprc'];
const TEST_TIMEOUT_MS = 240_000;

type Verdict = 'killed' | 'survived' | 'timeout' | 'not-applicable';

interface Result {
  readonly mutant: Mutant;
  readonly verdict: Verdict;
  readonly seconds: number;
  readonly detail?: string;
}

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    jobs: { type: 'string', default: '2' },
    list: { type: 'boolean', default: false },
    set: { type: 'string', default: 'main' },
  },
});
const SETS: Readonly<Record<string, readonly Mutant[]>> = { main: MUTANTS, independent: INDEPENDENT_MUTANTS, third: THIRD_MUTANTS };
const set = SETS[values.set];
if (set === undefined) {
  console.error(`--set ${values.set}: no such set (${Object.keys(SETS).join(', ')})`);
  process.exit(2);
}
const chosen = set.filter((m) => values.only === undefined || values.only.split(',').some((p) => m.id.startsWith(p)));
if (values.list) {
  for (const m of chosen) console.log(`${m.id.padEnd(32)} ${m.file}  ${m.what}`);
  process.exit(0);
}
const jobs = Math.max(1, Number(values.jobs) || 1);

const slots = Array.from({ length: jobs }, () => scratchCopy());
try {
  const baseline = await runTests(slots[0]!, [...new Set(chosen.flatMap((m) => m.tests))]);
  if (baseline.code !== 0) {
    console.error('The aimed tests fail without any mutant: fix them first.\n' + baseline.tail);
    process.exitCode = 1;
  } else {
    const results = await runAll(chosen, slots);
    report(results);
  }
} finally {
  for (const dir of slots) rmSync(dir, { recursive: true, force: true });
}

function scratchCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'greenlake-proxy-mutant-'));
  for (const entry of COPIED) cpSync(join(REPO, entry), join(dir, entry), { recursive: true });
  symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

async function runAll(mutants: readonly Mutant[], dirs: readonly string[]): Promise<Result[]> {
  const queue = [...mutants];
  const results: Result[] = [];
  await Promise.all(
    dirs.map(async (dir) => {
      for (let m = queue.shift(); m !== undefined; m = queue.shift()) {
        const result = await tryMutant(dir, m);
        results.push(result);
        console.log(`${result.verdict.padEnd(15)} ${m.id.padEnd(32)} ${result.seconds.toFixed(0).padStart(4)} s  ${m.what}`);
      }
    }),
  );
  return results.sort((a, b) => a.mutant.id.localeCompare(b.mutant.id));
}

async function tryMutant(dir: string, mutant: Mutant): Promise<Result> {
  const path = join(dir, mutant.file);
  const original = readFileSync(path, 'utf8');
  const occurrences = original.split(mutant.find).length - 1;
  if (occurrences !== 1) {
    return { mutant, verdict: 'not-applicable', seconds: 0, detail: `the text to replace occurs ${occurrences} times` };
  }
  writeFileSync(path, original.replace(mutant.find, () => mutant.replace));
  const startedAt = Date.now();
  try {
    const run = await runTests(dir, mutant.tests);
    const seconds = (Date.now() - startedAt) / 1000;
    if (run.timedOut) return { mutant, verdict: 'timeout', seconds };
    return { mutant, verdict: run.code === 0 ? 'survived' : 'killed', seconds };
  } finally {
    writeFileSync(path, original);
  }
}

function runTests(dir: string, files: readonly string[]): Promise<{ code: number; timedOut: boolean; tail: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(join(dir, 'node_modules/.bin/tap'), ['--reporter=terse', '--disable-coverage', '--jobs=1', ...files], {
      cwd: dir,
      env: { ...process.env, PATH: `${join(dir, 'node_modules/.bin')}:${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-4000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      process.kill(-child.pid!, 'SIGKILL');
    }, TEST_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? 1, timedOut, tail: output });
    });
  });
}

function report(results: readonly Result[]): void {
  const count = (v: Verdict): number => results.filter((r) => r.verdict === v).length;
  const killed = count('killed') + count('timeout');
  const applicable = killed + count('survived');
  console.log('');
  for (const r of results.filter((x) => x.verdict === 'survived' || x.verdict === 'not-applicable')) {
    console.log(`${r.verdict}: ${r.mutant.id} (${r.mutant.file}): ${r.mutant.what}${r.detail ? `; ${r.detail}` : ''}`);
  }
  console.log('');
  for (const folder of [...new Set(results.map((r) => folderOf(r.mutant)))].sort()) {
    const inFolder = results.filter((r) => folderOf(r.mutant) === folder && r.verdict !== 'not-applicable');
    const caught = inFolder.filter((r) => r.verdict === 'killed' || r.verdict === 'timeout').length;
    console.log(`${folder.padEnd(16)} ${caught} of ${inFolder.length} caught (${percent(caught, inFolder.length)})`);
  }
  console.log(`\nmutation score: ${killed} of ${applicable} mutants caught (${percent(killed, applicable)}); ${count('timeout')} by timeout, ${count('not-applicable')} not applicable`);
}

/** `src/tokens/keeper.ts` -> `tokens/`. */
function folderOf(mutant: Mutant): string {
  const parts = mutant.file.split('/');
  return parts.length > 2 ? `${parts[1]}/` : mutant.file;
}

function percent(part: number, whole: number): string {
  return `${(whole === 0 ? 0 : (100 * part) / whole).toFixed(1)} %`;
}
