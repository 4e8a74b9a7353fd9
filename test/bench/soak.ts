/**
 * The soak (issue 15, item 19): one greenlake-proxy at LOG_LEVEL=info under a steady, moderate,
 * mixed load for an hour; its RSS from /proc every second (mean and highest per minute), and every
 * minute the RSS, then after a forced full GC through the inspector its heap, external memory,
 * array buffers and RSS again, so that growth can be told
 * apart: V8 heap, buffers, or native memory (malloc). See README.md here, "Soak".
 *
 *   node test/bench/soak.ts --minutes 60
 *   node test/bench/soak.ts --report test/bench/results/soak-....json   # the table again
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import { LoadGenerator, makeTempDir, PREFIX, removeTempDir, REPO_ROOT, SMALL_PATH, startGreenlakeProxy, startUpstream, type Target, type Upstream } from './harness.ts';
import { inspectorUrl, readInside, takeHeapSnapshot } from './inspector.ts';
import type { LoadRequest, LoadResult } from './load-types.ts';
import { cpuSeconds, killAll, machineBusySeconds, memoryDetail, rssByMapping } from './proc.ts';
import { computeSlopes, formatSoak, mib, type SoakResults, type SoakSample } from './soak-report.ts';

const USAGE = `usage: node test/bench/soak.ts [options]

  --minutes N            length of the soak (default 60)
  --rate N               requests/s in all (default 1000): 10 % small POSTs, 2/s to a path whose
                         upstream refuses tokens older than 15 s (401, token refresh, replay), the rest GETs
  --sample-sec N         seconds between samples (default 60)
  --token-lifetime S     expires_in of the emulator's tokens (default 120: the keeper refreshes about every 90 s)
  --log-level L          the proxy's LOG_LEVEL (default info, one line per request, to a file)
  --malloc-arena-max N   run the proxy with MALLOC_ARENA_MAX=N (glibc malloc arenas)
  --node-args=ARGS       extra node options for the proxy (with =)
  --no-gc                no inspector, no forced GC: RSS from /proc only (a control: what a user's process does)
  --snapshots LIST       minutes at which to write a heap snapshot (e.g. 20,40) into --snapshot-dir
  --snapshot-dir DIR     default /tmp
  --tag T                appended to the results' file name
  --json FILE            default test/bench/results/soak-<date>-<commit>[-tag].json (the table beside it, .txt)
  --report FILE          print the table of a results file and exit
  -h, --help
`;

interface Options {
  minutes: number;
  rate: number;
  sampleSec: number;
  tokenLifetime: number;
  logLevel: string;
  mallocArenaMax: number | undefined;
  nodeArgs: string[];
  snapshots: number[];
  snapshotDir: string;
  jsonFile: string;
  forcedGc: boolean;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options | { report: string } {
  let values;
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      options: {
        minutes: { type: 'string' },
        rate: { type: 'string' },
        'sample-sec': { type: 'string' },
        'token-lifetime': { type: 'string' },
        'log-level': { type: 'string' },
        'malloc-arena-max': { type: 'string' },
        'node-args': { type: 'string' },
        snapshots: { type: 'string' },
        'snapshot-dir': { type: 'string' },
        tag: { type: 'string' },
        json: { type: 'string' },
        report: { type: 'string' },
        'no-gc': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (values.report !== undefined) return { report: resolve(values.report) };
  const num = (text: string | undefined, fallback: number, name: string, max: number): number => {
    if (text === undefined) return fallback;
    const v = Number(text);
    if (!Number.isFinite(v) || v <= 0 || v > max) throw new UsageError(`--${name}: must be a number above 0 and at most ${max}`);
    return v;
  };
  const snapshots = (values.snapshots ?? '').split(',').filter(Boolean).map((m) => num(m, 0, 'snapshots', 100_000));
  const tag = values.tag === undefined ? '' : `-${values.tag.replace(/[^\w.-]/g, '_')}`;
  const defaultJson = join(REPO_ROOT, 'test/bench/results', `soak-${new Date().toISOString().slice(0, 10)}-${shortCommit()}${tag}.json`);
  return {
    minutes: num(values.minutes, 60, 'minutes', 24 * 60),
    rate: Math.round(num(values.rate, 1000, 'rate', 100_000)),
    sampleSec: num(values['sample-sec'], 60, 'sample-sec', 3600),
    tokenLifetime: Math.round(num(values['token-lifetime'], 120, 'token-lifetime', 86_400)),
    logLevel: values['log-level'] ?? 'info',
    mallocArenaMax: values['malloc-arena-max'] === undefined ? undefined : Math.round(num(values['malloc-arena-max'], 0, 'malloc-arena-max', 1024)),
    nodeArgs: (values['node-args'] ?? '').split(/\s+/).filter(Boolean),
    snapshots,
    snapshotDir: resolve(values['snapshot-dir'] ?? '/tmp'),
    jsonFile: resolve(values.json ?? defaultJson),
    forcedGc: !values['no-gc'],
  };
}

function shortCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}-dirty` : head;
  } catch {
    return 'unknown';
  }
}

const log = (line: string): void => {
  process.stderr.write(`soak: ${new Date().toISOString().slice(11, 19)} ${line}\n`);
};

/** The three load streams of one period, run at once by the one load generator. */
function periodLoads(target: Target, options: Options): LoadRequest[] {
  const base = `${target.url}${PREFIX}`;
  const revokedRate = 2;
  const postRate = Math.max(1, Math.round(options.rate * 0.1));
  const getRate = Math.max(1, options.rate - postRate - revokedRate);
  const durationSec = options.sampleSec;
  return [
    { url: `${base}${SMALL_PATH}`, connections: 8, durationSec, overallRate: getRate },
    {
      url: `${base}${SMALL_PATH}`,
      connections: 2,
      durationSec,
      overallRate: postRate,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'soak-volume', sizeMiB: 1024, tags: ['a', 'b', 'c'], description: 'x'.repeat(200) }),
    },
    { url: `${base}/api/v1/revoked`, connections: 1, durationSec, overallRate: revokedRate },
  ];
}

function mixOf(options: Options): string[] {
  const postRate = Math.max(1, Math.round(options.rate * 0.1));
  return [
    `GET ${SMALL_PATH} (~1 KiB JSON): ${Math.max(1, options.rate - postRate - 2)} req/s on 8 connections`,
    `POST ${SMALL_PATH} with a 290-byte JSON body (held for replay): ${postRate} req/s on 2 connections`,
    `GET /api/v1/revoked: 2 req/s on 1 connection; the upstream answers 401 to a token older than 15 s, so the proxy drops it, fetches another (at most one forced refresh per 10 s) and replays`,
  ];
}

async function sample(
  target: Target,
  wsUrl: string | undefined,
  emulator: Emulator,
  minute: number,
  totals: { requests: number; lastBusy: number },
  period: { requests: number; non2xx: number; errors: number; rps: number; loadgenCpuSec: number; rssMax: number; rssMean: number },
  pid: number,
): Promise<SoakSample> {
  // /proc first: the RSS the process has of itself; the forced GC then gives back V8's garbage.
  const proc = memoryDetail(pid);
  const mappings = rssByMapping(pid);
  if (proc === undefined) throw new Error('greenlake-proxy has exited');
  const inside = wsUrl === undefined ? undefined : await readInside(wsUrl);
  const rssAfterGc = inside === undefined ? undefined : memoryDetail(pid)?.rss;
  const busy = machineBusySeconds();
  const machineBusySec = busy - totals.lastBusy;
  totals.lastBusy = busy;
  totals.requests += period.requests;
  let logBytes = 0;
  try {
    logBytes = target.logFile === undefined ? 0 : statSync(target.logFile).size;
  } catch {
    // not written yet
  }
  return {
    minute,
    requests: totals.requests,
    periodRequests: period.requests,
    periodNon2xx: period.non2xx,
    periodErrors: period.errors,
    periodRps: period.rps,
    tokenRequests: emulator.tokenRequestCount,
    proxyCpuSec: cpuSeconds(pid) ?? Number.NaN,
    loadgenCpuSec: period.loadgenCpuSec,
    machineBusySec,
    proc,
    mappings,
    periodRssMax: period.rssMax,
    periodRssMean: period.rssMean,
    rssAfterGc,
    inside,
    logBytes,
  };
}

/** The proxy's RSS once a second through a load period: its highest and its mean. */
class RssWatch {
  readonly #timer: NodeJS.Timeout;
  max = 0;
  #sum = 0;
  #count = 0;

  constructor(pid: number) {
    this.#timer = setInterval(() => {
      const rss = memoryDetail(pid)?.rss;
      if (rss === undefined) return;
      this.max = Math.max(this.max, rss);
      this.#sum += rss;
      this.#count++;
    }, 1000);
  }

  get mean(): number {
    return this.#count === 0 ? Number.NaN : this.#sum / this.#count;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

async function runSoak(options: Options): Promise<void> {
  const tmpDir = makeTempDir();
  const notes: string[] = [
    options.forcedGc
      ? 'the proxy runs with --inspect=127.0.0.1:0; each sample connects, forces a full GC (HeapProfiler.collectGarbage), reads, disconnects'
      : 'no inspector and no forced GC (--no-gc): RSS from /proc only',
  ];
  if (options.mallocArenaMax !== undefined) notes.push(`MALLOC_ARENA_MAX=${options.mallocArenaMax}`);
  if (options.nodeArgs.length > 0) notes.push(`node options: ${options.nodeArgs.join(' ')}`);
  const results: SoakResults = {
    meta: {
      date: new Date().toISOString(),
      commit: shortCommit(),
      node: process.version,
      cpus: cpus().length,
      kernel: release(),
      settings: {
        minutes: options.minutes,
        rate: options.rate,
        sampleSec: options.sampleSec,
        tokenLifetime: options.tokenLifetime,
        logLevel: options.logLevel,
        mallocArenaMax: options.mallocArenaMax,
        nodeArgs: options.nodeArgs,
        snapshots: options.snapshots,
        forcedGc: options.forcedGc,
        mix: mixOf(options),
      },
      notes,
    },
    samples: [],
  };
  const save = (): void => {
    results.slopes = computeSlopes(results.samples);
    mkdirSync(dirname(options.jsonFile), { recursive: true });
    writeFileSync(options.jsonFile, `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(options.jsonFile.replace(/\.json$/, '') + '.txt', formatSoak(results));
  };
  let upstream: Upstream | undefined;
  let emulator: Emulator | undefined;
  let loadgen: LoadGenerator | undefined;
  let target: Target | undefined;
  try {
    upstream = await startUpstream();
    emulator = await startEmulator({ tokenLifetimeSeconds: options.tokenLifetime, journalLimit: 100 });
    loadgen = await LoadGenerator.start();
    target = await startGreenlakeProxy({
      upstreamUrl: upstream.url,
      tokenUrl: emulator.tokenUrl,
      tmpDir,
      logLevel: options.logLevel,
      nodeArgs: [...(options.forcedGc ? ['--inspect=127.0.0.1:0'] : []), ...options.nodeArgs],
      ...(options.mallocArenaMax !== undefined && { env: { MALLOC_ARENA_MAX: String(options.mallocArenaMax) } }),
      name: 'greenlake-proxy (soak)',
    });
    const pid = target.measured?.pids()[0];
    if (pid === undefined || target.errFile === undefined) throw new Error('greenlake-proxy: no pid');
    const wsUrl = options.forcedGc ? await inspectorUrl(target.errFile) : undefined;
    if (wsUrl === undefined && options.snapshots.length > 0) throw new UsageError('--snapshots needs the inspector (leave out --no-gc)');
    log(`greenlake-proxy pid ${pid}, ${options.rate} req/s for ${options.minutes} min, results ${options.jsonFile}`);
    const first = await fetch(`${target.url}${PREFIX}${SMALL_PATH}`);
    await first.arrayBuffer();
    if (first.status !== 200) throw new Error(`first request: ${first.status}`);
    const totals = { requests: 1, lastBusy: machineBusySeconds() };
    results.samples.push(await sample(target, wsUrl, emulator, 0, totals, { requests: 0, non2xx: 0, errors: 0, rps: 0, loadgenCpuSec: 0, rssMax: Number.NaN, rssMean: Number.NaN }, pid));
    save();
    const started = performance.now();
    const loads = periodLoads(target, options);
    const snapshotsLeft = [...options.snapshots].sort((a, b) => a - b);
    const lg = loadgen;
    while ((performance.now() - started) / 60_000 < options.minutes - 1e-6) {
      const watch = new RssWatch(pid);
      const runs: LoadResult[] = await Promise.all(loads.map((load) => lg.run(load))).finally(() => watch.stop());
      const minute = (performance.now() - started) / 60_000;
      const period = {
        requests: runs.reduce((n, r) => n + r.requests2xx + r.non2xx, 0),
        non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
        errors: runs.reduce((n, r) => n + r.errors + r.timeouts, 0),
        rps: runs.reduce((n, r) => n + (r.requests2xx + r.non2xx) / r.durationSec, 0),
        loadgenCpuSec: runs.reduce((n, r) => n + r.loadgenCpuSec, 0),
        rssMax: watch.max,
        rssMean: watch.mean,
      };
      const s = await sample(target, wsUrl, emulator, minute, totals, period, pid);
      results.samples.push(s);
      save();
      log(
        `min ${minute.toFixed(1)}: rss ${mib(s.proc.rss)} MiB (mean ${mib(period.rssMean)}, max ${mib(period.rssMax)}, after GC ${mib(s.rssAfterGc ?? Number.NaN)}), heap ${mib(s.inside?.heapUsed ?? Number.NaN)}, external ${mib(s.inside?.external ?? Number.NaN)}, ` +
          `${Math.round(period.rps)} req/s, ${period.non2xx} non-2xx, ${period.errors} errors, ${s.tokenRequests} tokens`,
      );
      while (snapshotsLeft.length > 0 && (snapshotsLeft[0] ?? Infinity) <= minute + 1e-6) {
        const at = snapshotsLeft.shift();
        const file = join(options.snapshotDir, `soak-${process.pid}-min${at}.heapsnapshot`);
        if (wsUrl !== undefined) await takeHeapSnapshot(wsUrl, file);
        notes.push(`heap snapshot after minute ${minute.toFixed(1)}: ${file}`);
        log(`heap snapshot: ${file}`);
      }
    }
  } finally {
    await target?.stop().catch(() => {});
    await loadgen?.close().catch(() => {});
    await emulator?.close().catch(() => {});
    await upstream?.close().catch(() => {});
    killAll();
    removeTempDir(tmpDir);
  }
  save();
  process.stdout.write(formatSoak(results));
  log(`results: ${options.jsonFile} and .txt`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  if ('report' in options) {
    const results = JSON.parse(readFileSync(options.report, 'utf8')) as SoakResults;
    process.stdout.write(formatSoak({ ...results, slopes: computeSlopes(results.samples) }));
    return;
  }
  await runSoak(options);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`soak: ${err.message}\n\n${USAGE}`);
    killAll();
    process.exit(2);
  }
  process.stderr.write(`soak: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  killAll();
  process.exit(1);
});
