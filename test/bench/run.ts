/**
 * `npm run bench`: greenlake-proxy against direct access, nginx and a bare
 * @fastify/http-proxy, on this machine, everything on 127.0.0.1. See README.md here.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { startEmulator, type Emulator } from '../../src/emulator/index.ts';
import {
  coldTokenBurst,
  directTarget,
  fixedAuthorization,
  findNginx,
  findRedisServer,
  installNginx,
  LoadGenerator,
  makeTempDir,
  measureLoad,
  measureStartup,
  removeTempDir,
  REPO_ROOT,
  startBareProxy,
  startGreenlakeProxy,
  startNginx,
  startRedis,
  startUpstream,
  streamThrough,
  type RedisServer,
  type Target,
  type Upstream,
  waitForQuiet,
} from './harness.ts';
import { killAll, MIB, totalMemory } from './proc.ts';
import { computeChecks, computeRatios, computeRedisCost, formatReport, LABELS, median, TARGET_KEYS, type Results, type TargetKey } from './report.ts';

const SCENARIOS = [
  'direct',
  'glp',
  'glp-info',
  'glp-redis',
  'glp-limit',
  'glp-redis-limit',
  'bare',
  'nginx',
  'tokens',
  'tokens-redis',
  'stream',
  'startup',
] as const;
type Scenario = (typeof SCENARIOS)[number];
/** The scenarios that need redis-server. */
const NEEDS_REDIS: readonly Scenario[] = ['glp-redis', 'glp-redis-limit', 'tokens-redis'];
/** inbound.rateLimit of glp-limit and glp-redis-limit: so high that it never refuses, only counts. */
const NEVER_REACHED_LIMIT = { max: 1_000_000_000, timeWindowMs: 60_000 } as const;
/** greenlake-proxy replicas of tokens-redis. */
const REPLICAS = 3;

const USAGE = `usage: npm run bench -- [options]

  --duration S       seconds of each measured run (default 10; --quick: 2)
  --repeat N         rounds of throughput and latency runs, targets taken in turn (default 3; --quick: 1)
  --warmup S         seconds of warm-up before each run (default min(3, duration))
  --quick            short runs and 64 MiB streams: a smoke test of the whole bench
  --only LIST        comma-separated subset of: ${SCENARIOS.join(', ')}
                     (${NEEDS_REDIS.join(', ')}: skipped when redis-server is not installed)
  --json FILE        where to write the results (default test/bench/results/latest.json;
                     the printed table goes beside it, .txt)
  --install-nginx    apt-get install nginx if it is missing (or BENCH_INSTALL_NGINX=1)
  --cpu-prof DIR     run greenlake-proxy (every glp target) under node --cpu-prof, profiles written
                     to DIR when they stop (their figures then include the profiler's overhead)
  --proxy-root DIR   run the greenlake-proxy in DIR (DIR/src/cli/main.js, else the built
                     DIR/dist/cli/main.js of an installed package, else main.ts) instead of this
                     working tree, e.g. an extracted older commit, for before/after figures
  --node-args=ARGS   extra node options for greenlake-proxy (after the flags of its own #! line,
                     so they win), e.g. --node-args=--max-semi-space-size=4 (write it with =)
  --stream-mib N     MiB streamed each way (default 1024; --quick: 64)
  --cold N           concurrent cold requests for the token counts (default 1000)
  --rate N           requests/s of the latency runs (default 500)
  -h, --help
`;

interface Options {
  durationSec: number;
  warmupSec: number;
  only: Set<Scenario>;
  jsonFile: string;
  installNginx: boolean;
  cpuProfDir: string | undefined;
  proxyRoot: string;
  nodeArgs: string[];
  streamBytes: number;
  cold: number;
  rate: number;
  startupSamples: number;
  rounds: number;
}

class UsageError extends Error {}

function parseOptions(argv: string[]): Options {
  let parsed;
  try {
    parsed = parseArgs({
    args: argv,
    strict: true,
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      json: { type: 'string' },
      'install-nginx': { type: 'boolean', default: false },
      'cpu-prof': { type: 'string' },
      'proxy-root': { type: 'string' },
      'node-args': { type: 'string' },
      'stream-mib': { type: 'string' },
      cold: { type: 'string' },
      rate: { type: 'string' },
      repeat: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const num = (text: string | undefined, fallback: number, name: string, max: number): number => {
    if (text === undefined) return fallback;
    const v = Number(text);
    if (!Number.isFinite(v) || v <= 0 || v > max) throw new UsageError(`--${name}: must be a number above 0 and at most ${max}`);
    return v;
  };
  const quick = values.quick;
  const durationSec = num(values.duration, quick ? 2 : 10, 'duration', 600);
  const only = new Set<Scenario>();
  for (const name of (values.only ?? SCENARIOS.join(',')).split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(SCENARIOS as readonly string[]).includes(name)) throw new UsageError(`--only: unknown scenario "${name}" (known: ${SCENARIOS.join(', ')})`);
    only.add(name as Scenario);
  }
  return {
    durationSec,
    warmupSec: values.warmup !== undefined ? num(values.warmup, 3, 'warmup', 600) : Math.min(quick ? 1 : 3, durationSec),
    only,
    jsonFile: resolve(values.json ?? join(REPO_ROOT, 'test/bench/results/latest.json')),
    installNginx: values['install-nginx'] || process.env['BENCH_INSTALL_NGINX'] === '1',
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']),
    proxyRoot: resolve(values['proxy-root'] ?? REPO_ROOT),
    nodeArgs: (values['node-args'] ?? '').split(/\s+/).filter(Boolean),
    streamBytes: Math.round(num(values['stream-mib'], quick ? 64 : 1024, 'stream-mib', 64 * 1024) * MIB),
    cold: Math.round(num(values.cold, 1000, 'cold', 20_000)),
    rate: Math.round(num(values.rate, 500, 'rate', 1_000_000)),
    startupSamples: quick ? 2 : 5,
    rounds: Math.round(num(values.repeat, quick ? 1 : 3, 'repeat', 100)),
  };
}

const log = (line: string): void => {
  process.stderr.write(`bench: ${line}\n`);
};

/** The commit of the proxy under test: HEAD (plus whether src/ differs from it), or a --proxy-root's own. */
function proxySource(root: string): string {
  if (root !== REPO_ROOT) {
    let marker = '';
    try {
      marker = readFileSync(join(root, 'COMMIT'), 'utf8').trim();
    } catch {
      // no marker
    }
    return `${root}${marker === '' ? '' : ` (${marker})`}`;
  }
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} + uncommitted changes in src/` : head;
  } catch {
    return 'unknown';
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const tmpDir = makeTempDir();
  const notes: string[] = [];
  let nginxBinary: string | undefined;
  if (options.only.has('nginx')) {
    nginxBinary = findNginx();
    if (!nginxBinary && options.installNginx) nginxBinary = installNginx(log);
    if (!nginxBinary) {
      const why = options.installNginx
        ? 'nginx: skipped: it could not be installed'
        : 'nginx: skipped: not installed (run with --install-nginx or BENCH_INSTALL_NGINX=1 to apt-get install it)';
      log(why);
      notes.push(why);
    }
  }
  let redisBinary: string | undefined;
  if ([...options.only].some((s) => NEEDS_REDIS.includes(s))) {
    redisBinary = findRedisServer();
    if (!redisBinary) {
      const why = `${NEEDS_REDIS.filter((s) => options.only.has(s)).join(', ')}: skipped: redis-server not installed (apt-get install redis-server)`;
      log(why);
      notes.push(why);
      for (const s of NEEDS_REDIS) options.only.delete(s);
    }
  }
  if (options.nodeArgs.length > 0) notes.push(`greenlake-proxy ran with node options: ${options.nodeArgs.join(' ')}`);
  if (options.cpuProfDir !== undefined) notes.push(`greenlake-proxy ran under --cpu-prof: its figures include profiler overhead`);

  const results: Results = {
    meta: {
      date: new Date().toISOString(),
      commit: proxySource(options.proxyRoot),
      node: process.version,
      nginx: null,
      redis: null,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: Math.round(totalmem() / 1024 ** 3),
      kernel: release(),
      settings: {
        durationSec: options.durationSec,
        warmupSec: options.warmupSec,
        throughputConnections: 50,
        rate: options.rate,
        rateConnections: 10,
        coldConcurrent: options.cold,
        replicas: REPLICAS,
        rateLimit: NEVER_REACHED_LIMIT,
        streamBytes: options.streamBytes,
        startupSamples: options.startupSamples,
        rounds: options.rounds,
        only: [...options.only],
        cpuProfile: options.cpuProfDir !== undefined,
      },
      notes,
    },
    targets: {},
  };

  let upstream: Upstream | undefined;
  let emulator: Emulator | undefined;
  let loadgen: LoadGenerator | undefined;
  let redis: RedisServer | undefined;
  try {
    if (redisBinary !== undefined) {
      redis = await startRedis(redisBinary, tmpDir);
      results.meta.redis = redis.version;
      log(`redis-server ${redis.version} at ${redis.url}`);
    }
    upstream = await startUpstream();
    emulator = await startEmulator();
    loadgen = await LoadGenerator.start();
    log(`upstream ${upstream.url}, token endpoint ${emulator.tokenUrl}, temp ${tmpDir}`);
    const up = upstream;
    const emu = emulator;
    const lg = loadgen;
    // direct, nginx and the bare plugin send this token as a fixed header: the same bytes greenlake-proxy sends.
    const authorization = await fixedAuthorization(emu.tokenUrl);
    const glpOptions = { upstreamUrl: up.url, tokenUrl: emu.tokenUrl, tmpDir, proxyRoot: options.proxyRoot, nodeArgs: options.nodeArgs };
    const profiled = (tag: string) => (options.cpuProfDir !== undefined ? { cpuProfDir: options.cpuProfDir, profileTag: tag } : {});
    const rds = redis;
    const withRedis = (start: (r: RedisServer) => Promise<Target>) => (rds === undefined ? undefined : () => start(rds));

    const starters: Record<TargetKey, (() => Promise<Target & { version?: string }>) | undefined> = {
      direct: async () => directTarget(up, authorization),
      glp: () => startGreenlakeProxy({ ...glpOptions, logLevel: 'warn', ...profiled('warn') }),
      'glp-info': () => startGreenlakeProxy({ ...glpOptions, logLevel: 'info', ...profiled('info') }),
      'glp-redis': withRedis((r) => startGreenlakeProxy({ ...glpOptions, logLevel: 'warn', redis: r, ...profiled('redis') })),
      'glp-limit': () => startGreenlakeProxy({ ...glpOptions, logLevel: 'warn', rateLimit: NEVER_REACHED_LIMIT, ...profiled('limit') }),
      'glp-redis-limit': withRedis((r) =>
        startGreenlakeProxy({ ...glpOptions, logLevel: 'warn', redis: r, redisKeyPrefix: 'bench-limit:', rateLimit: NEVER_REACHED_LIMIT, ...profiled('redis-limit') }),
      ),
      bare: () => startBareProxy(up.url, authorization),
      nginx: nginxBinary === undefined ? undefined : () => startNginx(nginxBinary as string, up.url, tmpDir, authorization),
    };

    // Throughput, then fixed-rate latency: every target runs at once (idle while another is
    // measured), and each round measures them in turn, starting one further along each time,
    // so that drift on a shared machine spreads over all of them and ratios pair within a round.
    const running: { key: TargetKey; target: Target }[] = [];
    try {
      for (const key of TARGET_KEYS) {
        const start = starters[key];
        if (!options.only.has(key) || start === undefined) continue;
        log(`${LABELS[key]}: starting`);
        const target = await start();
        if (target.version !== undefined) results.meta.nginx = target.version;
        running.push({ key, target });
        results.targets[key] = { throughput: [], rate: [], paced: [], ...(target.readyMs !== undefined && { readyMs: target.readyMs }) };
      }
      const inTurn = (round: number): typeof running => running.map((_, i) => running[(i + round) % running.length] as (typeof running)[number]);
      for (let round = 0; round < options.rounds; round++) {
        for (const { key, target } of inTurn(round)) {
          const warmupSec = round === 0 ? options.warmupSec : Math.min(1, options.warmupSec);
          log(`round ${round + 1}/${options.rounds}: ${LABELS[key]}: throughput, 50 connections, ${warmupSec} s warm-up + ${options.durationSec} s`);
          const m = await measureLoad(lg, target, up, { connections: 50, durationSec: options.durationSec, warmupSec, retries: 2 }, log);
          results.targets[key]?.throughput.push(m);
          log(`  ${Math.round(m.load.rps)} req/s, proxy CPU ${m.proxyCpuUsPerRequest?.toFixed(0) ?? '-'} us/request`);
        }
      }
      await sleep(1000);
      for (const { key, target } of running) {
        const run = results.targets[key];
        if (run && target.measured) run.rssAfterLoad = totalMemory(target.measured).rss;
      }
      for (let round = 0; round < options.rounds; round++) {
        for (const { key, target } of inTurn(round)) {
          const warmupSec = round === 0 ? Math.min(2, options.warmupSec) : Math.min(1, options.warmupSec);
          log(`round ${round + 1}/${options.rounds}: ${LABELS[key]}: ${options.rate} req/s, 10 connections, ${warmupSec} s warm-up + ${options.durationSec} s`);
          const m = await measureLoad(
            lg,
            target,
            up,
            { connections: 10, durationSec: options.durationSec, warmupSec, overallRate: options.rate, retries: 2 },
            log,
          );
          results.targets[key]?.rate.push(m);
          log(`  p50 ${m.load.latencyMs.p50.toFixed(3)} ms, p99 ${m.load.latencyMs.p99.toFixed(3)} ms`);
        }
      }
      for (let round = 0; round < options.rounds; round++) {
        for (const { key, target } of inTurn(round)) {
          log(`round ${round + 1}/${options.rounds}: ${LABELS[key]}: paced ${options.rate} req/s, 10 connections, 1 s warm-up + ${options.durationSec} s`);
          const m = await measureLoad(
            lg,
            target,
            up,
            { connections: 10, durationSec: options.durationSec, warmupSec: Math.min(1, options.warmupSec), overallRate: options.rate, paced: true, retries: 2 },
            log,
          );
          results.targets[key]?.paced.push(m);
          log(`  p50 ${m.load.latencyMs.p50.toFixed(3)} ms, p99 ${m.load.latencyMs.p99.toFixed(3)} ms`);
        }
      }
      for (const { key, target } of running) {
        const run = results.targets[key];
        if (run && target.measured) run.peakRss = totalMemory(target.measured).hwm;
      }
    } finally {
      for (const { target } of running) await target.stop().catch(() => {});
    }

    if (options.only.has('tokens')) {
      await waitForQuiet(60_000, log);
      log(`tokens: ${options.cold} cold concurrent requests at a fresh greenlake-proxy`);
      const target = await startGreenlakeProxy({ ...glpOptions, logLevel: 'warn' });
      try {
        results.tokens = await coldTokenBurst(target, emu, options.cold);
      } finally {
        await target.stop();
      }
    }

    if (options.only.has('tokens-redis') && rds !== undefined) {
      const bursts: Partial<Record<'withRedis' | 'withoutRedis', Awaited<ReturnType<typeof coldTokenBurst>>>> = {};
      for (const which of ['withRedis', 'withoutRedis'] as const) {
        await waitForQuiet(60_000, log);
        if (which === 'withRedis') await rds.flush();
        log(`tokens-redis: ${options.cold} cold concurrent requests over ${REPLICAS} fresh greenlake-proxies, ${which === 'withRedis' ? 'sharing one Redis' : 'without Redis'}`);
        const replicas: Target[] = [];
        try {
          for (let i = 0; i < REPLICAS; i++) {
            replicas.push(await startGreenlakeProxy({ ...glpOptions, logLevel: 'warn', ...(which === 'withRedis' && { redis: rds, redisKeyPrefix: 'bench-replicas:' }) }));
          }
          const burst = await coldTokenBurst(replicas, emu, options.cold);
          bursts[which] = burst;
          log(`  ${burst.tokenRequests} token request(s), ${burst.ok}/${burst.concurrent} ok, ${burst.ms.toFixed(0)} ms`);
        } finally {
          for (const target of replicas) await target.stop().catch(() => {});
        }
      }
      if (bursts.withRedis && bursts.withoutRedis) results.tokensReplicas = { withRedis: bursts.withRedis, withoutRedis: bursts.withoutRedis };
    }

    if (options.only.has('stream')) {
      results.stream = {};
      const streamed: TargetKey[] = ['glp'];
      if (options.only.has('bare')) streamed.push('bare');
      if (options.only.has('nginx') && starters.nginx) streamed.push('nginx');
      for (const key of streamed) {
        const start = key === 'glp' ? () => startGreenlakeProxy({ ...glpOptions, logLevel: 'warn' }) : starters[key];
        if (!start) continue;
        const pair: Partial<{ download: Awaited<ReturnType<typeof streamThrough>>; upload: Awaited<ReturnType<typeof streamThrough>> }> = {};
        for (const direction of ['download', 'upload'] as const) {
          log(`${LABELS[key]}: streaming ${options.streamBytes / MIB} MiB, ${direction}`);
          await waitForQuiet(60_000, log);
          const target = await start();
          try {
            pair[direction] = await streamThrough(target, direction, options.streamBytes);
          } finally {
            await target.stop();
          }
        }
        if (pair.download && pair.upload) results.stream[key] = { download: pair.download, upload: pair.upload };
      }
    }

    if (options.only.has('startup')) {
      log(`startup: ${options.startupSamples} fresh starts`);
      const samples = [];
      for (let i = 0; i < options.startupSamples; i++) {
        await waitForQuiet(60_000, log);
        samples.push(await measureStartup({ ...glpOptions, logLevel: 'warn' }));
      }
      results.startup = {
        readyMs: samples.map((s) => s.readyMs),
        idleRss: samples.map((s) => s.idleRss),
        readyMsMedian: median(samples.map((s) => s.readyMs)),
        idleRssMedian: median(samples.map((s) => s.idleRss)),
      };
    }
  } finally {
    await loadgen?.close().catch(() => {});
    await emulator?.close().catch(() => {});
    await upstream?.close().catch(() => {});
    await redis?.close().catch(() => {});
    killAll();
    removeTempDir(tmpDir);
  }

  results.ratios = computeRatios(results);
  results.redis = computeRedisCost(results);
  results.checks = computeChecks(results);
  const text = formatReport(results);
  process.stdout.write(text);
  mkdirSync(dirname(options.jsonFile), { recursive: true });
  writeFileSync(options.jsonFile, `${JSON.stringify(results, null, 2)}\n`);
  const textFile = options.jsonFile.replace(/\.json$/, '') + '.txt';
  writeFileSync(textFile, text);
  log(`results: ${options.jsonFile} and ${textFile}`);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
    killAll();
    process.exit(2);
  }
  process.stderr.write(`bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  killAll();
  process.exit(1);
});
