// The published form, tested as a user gets it: `npm pack` (which builds dist/ on prepack), then
// `npm install -g` of the tarball into an empty prefix, from npm's cache, and the installed
// bin run with every command. Node refuses to strip types under node_modules, so only a built
// package can work at all.
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { DEMO_CLIENT } from '../src/emulator/index.ts';
import { startProcess } from './helpers/cli.ts';
import { call, client, emulator } from './helpers/index.ts';

const run = promisify(execFile);

// npm pack, npm install -g and the commands take about 80 s on a quiet machine, mostly npm
// waiting (16 s of CPU); with two suites at once and other work on 2 cores it passed tap's
// 120 s per-file limit. This bound only stops a hung run: nothing here asserts on time.
t.setTimeout(360_000);
const ROOT = new URL('..', import.meta.url).pathname;
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/** npm and the installed bin find this Node (24) first; nothing of npm's own run of the tests leaks in. */
function npmEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  for (const name of ['HOME', 'npm_config_cache', 'TMPDIR']) if (process.env[name] !== undefined) env[name] = process.env[name]!;
  return env;
}

/**
 * The tree as `npm pack` sees it, copied: a pack in the working tree would build into its dist/
 * while another run of the suite does the same. node_modules is linked for tsc.
 */
function stage(into: string): string {
  const tree = join(into, 'tree');
  const skipped = new Set(['node_modules', '.git', 'dist', 'coverage', '.tap']);
  for (const entry of readdirSync(ROOT)) if (!skipped.has(entry)) cpSync(join(ROOT, entry), join(tree, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
  return tree;
}

/**
 * A command without tap's coverage hooks (which tap puts in NODE_OPTIONS of every child): they
 * break tsc in the prepack build, and the installed package is not ours to cover.
 */
function bare(file: string, args: readonly string[]): [string, string[]] {
  return ['env', ['-u', 'NODE_OPTIONS', file, ...args]];
}

interface PackedFile {
  readonly path: string;
}

t.test('npm pack, npm install -g of the tarball into an empty prefix: every command of the installed bin works', async (t) => {
  // Outside the working tree: npm would take a folder inside it for part of the package.
  const dir = mkdtempSync(join(tmpdir(), 'greenlake-proxy-package-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const tree = stage(dir);
  const packed = await run(...bare('npm', ['pack', '--json', '--pack-destination', dir]), { cwd: tree, env: npmEnv(), maxBuffer: 16 << 20 });
  const [tarball] = JSON.parse(packed.stdout) as [{ filename: string; files: PackedFile[] }];
  const files = tarball.files.map((f) => f.path);

  t.test('the tarball holds what a user needs and nothing else', async (t) => {
    t.ok(files.includes('dist/cli/main.js'), 'the built entry point');
    t.ok(files.includes('LICENSE'));
    t.same(files.filter((f) => /^(test|src|\.ci|coverage)\/|\.ts$|\.pem$|\.key$|tsconfig/.test(f)), [], 'no sources, tests, CI scripts, keys or build config');
    t.match(readFileSync(join(ROOT, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
  });

  const prefix = join(dir, 'prefix');
  await run(...bare('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--no-update-notifier', join(dir, tarball.filename)]), {
    cwd: dir,
    env: npmEnv(),
  });
  const bin = join(prefix, 'bin', 'greenlake-proxy');
  const installed = (args: string[], env: Record<string, string> = {}) => run(...bare(bin, args), { env: { ...npmEnv(), ...env } });

  t.test('--version, --help and hash-key --generate', async (t) => {
    t.equal((await installed(['--version'])).stdout, `${VERSION}\n`);
    t.match((await installed(['--help'])).stdout, /Commands:\n[\s\S]*demo/);
    t.match((await installed(['help', 'token'])).stdout, /--tenant NAME/);
    t.match((await installed(['hash-key', '--generate'])).stdout, /^key: \S+\nkeyHash: sha256:[0-9a-f]{64}\n$/);
  });

  t.test('demo on port 0 answers every curl line it prints (the README\'s)', async (t) => {
    const demo = startProcess(t, ...bare(bin, ['demo', '--port', '0']), npmEnv());
    await demo.waitForLog(/Ctrl-C stops both/);
    const curls = demo.stdout().split('\n').filter((line) => line.trim().startsWith('curl '));
    t.ok(curls.length >= 5, 'the curl lines');
    const http = client(t);
    for (const line of curls) {
      const url = /'(http:\/\/[^']+)'/.exec(line)![1]!;
      const post = line.includes('-X POST');
      const answer = await call(http, url, post ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: /-d '([^']+)'/.exec(line)![1]! } : {});
      if (post) t.ok(answer.status === 200 || answer.status === 202, `${answer.status}: ${line}`);
      else t.equal(answer.status, 200, line);
    }
    demo.child.kill('SIGTERM');
    t.same((await demo.exited)[0], 0, 'SIGTERM: exit 0');
  });

  t.test('serve, wait, check --online, token and emulator against a local emulator', async (t) => {
    const emu = await emulator(t);
    const env = { GREENLAKE_CLIENT_ID: DEMO_CLIENT.clientId, GREENLAKE_CLIENT_SECRET: DEMO_CLIENT.clientSecret, GREENLAKE_TOKEN_URL: emu.tokenUrl };
    t.match((await installed(['token'], env)).stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
    t.match((await installed(['check', '--online'], env)).stdout, /^OK\s+default: token issued/m);
    const serve = startProcess(t, ...bare(bin, ['serve', '--port', '0']), { ...npmEnv(), ...env });
    const url = (await serve.waitForLog(/"url":"(http:\/\/127\.0\.0\.1:\d+)"/))[1]!;
    t.match((await installed(['wait', '--url', url, '--timeout', '20s'])).stdout, /is ready/);
    serve.child.kill('SIGTERM');
    t.same((await serve.exited)[0], 0);
    const emulatorAlone = startProcess(t, ...bare(bin, ['emulator', '--port', '0']), npmEnv());
    const emuUrl = (await emulatorAlone.waitForLog(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    t.ok(emuUrl, 'the emulator started');
    emulatorAlone.child.kill('SIGTERM');
    t.same((await emulatorAlone.exited)[0], 0);
  });
});
