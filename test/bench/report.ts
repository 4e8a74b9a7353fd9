/** The benchmark's results: their shape, the ratios and targets, and the printed table. */
import type { LoadMeasurement, StreamMeasurement, TokenBurst } from './harness.ts';
import { MIB } from './proc.ts';

export const TARGET_KEYS = ['direct', 'glp', 'glp-info', 'glp-redis', 'glp-limit', 'glp-redis-limit', 'bare', 'nginx'] as const;
export type TargetKey = (typeof TARGET_KEYS)[number];
/** The targets with a Redis store. */
export const REDIS_KEYS = ['glp-redis', 'glp-redis-limit'] as const satisfies readonly TargetKey[];

export const LABELS: Record<TargetKey, string> = {
  direct: 'direct (no proxy)',
  glp: 'greenlake-proxy LOG_LEVEL=warn',
  'glp-info': 'greenlake-proxy LOG_LEVEL=info',
  'glp-redis': 'greenlake-proxy + Redis store',
  'glp-limit': 'greenlake-proxy + inbound limit',
  'glp-redis-limit': 'greenlake-proxy + limit + Redis',
  bare: 'bare @fastify/http-proxy',
  nginx: 'nginx, 1 worker',
};

export interface TargetRun {
  /** One measurement per round (--repeat), in round order. */
  readonly throughput: LoadMeasurement[];
  readonly rate: LoadMeasurement[];
  /** Evenly paced arrivals at the same rate (undici client, latency from the planned send time). */
  readonly paced: LoadMeasurement[];
  /** RSS one second after the last throughput round, bytes. */
  rssAfterLoad?: number;
  /** Peak RSS (VmHWM) over the process's whole life in this run, bytes. */
  peakRss?: number;
  readyMs?: number;
}

/** Median and range over rounds. */
export interface Spread {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

export function spread(values: readonly number[]): Spread | null {
  const v = values.filter((x) => Number.isFinite(x));
  if (v.length === 0) return null;
  return { median: median(v), min: Math.min(...v), max: Math.max(...v), n: v.length };
}

/** f(a[i], b[i]) for every round both have: ratios and differences taken within a round. */
function paired(a: readonly LoadMeasurement[] | undefined, b: readonly LoadMeasurement[] | undefined, f: (x: LoadMeasurement, y: LoadMeasurement) => number): Spread | null {
  if (!a || !b) return null;
  const out: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) out.push(f(a[i] as LoadMeasurement, b[i] as LoadMeasurement));
  return spread(out);
}

const over = (runs: readonly LoadMeasurement[] | undefined, f: (m: LoadMeasurement) => number | undefined): Spread | null =>
  runs ? spread(runs.map((m) => f(m) ?? Number.NaN)) : null;

export interface Results {
  readonly meta: {
    readonly date: string;
    readonly commit: string;
    readonly node: string;
    nginx: string | null;
    redis?: string | null;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryGiB: number;
    readonly kernel: string;
    readonly settings: {
      readonly durationSec: number;
      readonly warmupSec: number;
      readonly throughputConnections: number;
      readonly rate: number;
      readonly rateConnections: number;
      readonly coldConcurrent: number;
      /** Replicas of tokens-redis. */
      readonly replicas?: number;
      /** inbound.rateLimit of glp-limit and glp-redis-limit (never reached). */
      readonly rateLimit?: { readonly max: number; readonly timeWindowMs: number };
      readonly streamBytes: number;
      readonly startupSamples: number;
      readonly rounds: number;
      readonly only: readonly string[];
      readonly cpuProfile: boolean;
    };
    readonly notes: string[];
  };
  readonly targets: Partial<Record<TargetKey, TargetRun>>;
  tokens?: TokenBurst;
  /** tokens-redis: the cold burst spread over replicas, with and without a shared Redis. */
  tokensReplicas?: { withRedis: TokenBurst; withoutRedis: TokenBurst };
  /** Medians of what the Redis store costs, per target with a store (also in the table). */
  redis?: Partial<Record<TargetKey, RedisCost>>;
  stream?: Partial<Record<TargetKey, { download: StreamMeasurement; upload: StreamMeasurement }>>;
  startup?: { readonly readyMs: number[]; readonly idleRss: number[]; readonly readyMsMedian: number; readonly idleRssMedian: number };
  ratios?: Record<string, Spread | null>;
  checks?: Check[];
}

export interface Check {
  readonly name: string;
  readonly value: string;
  readonly target: string;
  /** null: not measured in this run. */
  readonly pass: boolean | null;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

const rpsOf = (m: LoadMeasurement): number => m.load.rps;
const cpuPerReq = (m: LoadMeasurement): number => m.proxyCpuUsPerRequest ?? Number.NaN;

export function computeRatios(results: Results): Record<string, Spread | null> {
  const tp = (key: TargetKey): LoadMeasurement[] | undefined => results.targets[key]?.throughput;
  const out: Record<string, Spread | null> = {};
  const rps = (a: TargetKey, b: TargetKey): void => {
    out[`req/s ${a}/${b}`] = paired(tp(a), tp(b), (x, y) => rpsOf(x) / rpsOf(y));
  };
  for (const glp of ['glp', 'glp-info'] as const) {
    rps(glp, 'direct');
    rps(glp, 'bare');
    rps(glp, 'nginx');
  }
  rps('bare', 'nginx');
  rps('bare', 'direct');
  rps('nginx', 'direct');
  for (const glp of ['glp', 'glp-info'] as const) {
    out[`CPU per request ${glp}/bare`] = paired(tp(glp), tp('bare'), (x, y) => cpuPerReq(x) / cpuPerReq(y));
    out[`CPU per request ${glp}/nginx`] = paired(tp(glp), tp('nginx'), (x, y) => cpuPerReq(x) / cpuPerReq(y));
  }
  // The Redis store and the inbound limit, each against the same proxy without it.
  for (const [a, b] of [
    ['glp-redis', 'glp'],
    ['glp-limit', 'glp'],
    ['glp-redis-limit', 'glp-limit'],
  ] as const) {
    rps(a, b);
    out[`CPU per request ${a}/${b}`] = paired(tp(a), tp(b), (x, y) => cpuPerReq(x) / cpuPerReq(y));
    if (a !== 'glp-limit') out[`CPU per request with redis-server's ${a}/${b}`] = paired(tp(a), tp(b), (x, y) => cpuWithRedis(x) / cpuPerReq(y));
  }
  return out;
}

/** Proxy plus redis-server CPU per 2xx response, microseconds. */
const cpuWithRedis = (m: LoadMeasurement): number =>
  m.proxyCpuSec === undefined || m.load.requests2xx === 0 ? Number.NaN : ((m.proxyCpuSec + (m.redisCpuSec ?? 0)) / m.load.requests2xx) * 1e6;
const redisCpuPerReq = (m: LoadMeasurement): number =>
  m.redisCpuSec === undefined || m.load.requests2xx === 0 ? Number.NaN : (m.redisCpuSec / m.load.requests2xx) * 1e6;
const redisCommandsPerReq = (m: LoadMeasurement): number =>
  m.redisCommands === undefined || m.load.requests2xx === 0 ? Number.NaN : m.redisCommands / m.load.requests2xx;

/** What the Redis store costs a target, against the same configuration without it: medians over rounds. */
export interface RedisCost {
  /** The same proxy without the store. */
  readonly without: TargetKey;
  readonly rpsRatio: number | null;
  readonly proxyCpuUsPerRequest: number | null;
  readonly redisCpuUsPerRequest: number | null;
  /** Proxy CPU per request over the one without the store's. */
  readonly cpuRatio: number | null;
  /** Proxy plus redis-server CPU per request over the one without the store's. */
  readonly cpuWithRedisRatio: number | null;
  /** Commands Redis processed per request during the throughput runs. */
  readonly redisCommandsPerRequest: number | null;
  /** At the fixed rate, minus direct in the same round, ms. */
  readonly addedP50Ms: number | null;
  readonly addedP99Ms: number | null;
  readonly addedP50MsWithout: number | null;
  readonly addedP99MsWithout: number | null;
}

export function computeRedisCost(results: Results): Partial<Record<TargetKey, RedisCost>> {
  const out: Partial<Record<TargetKey, RedisCost>> = {};
  for (const [key, without] of [
    ['glp-redis', 'glp'],
    ['glp-redis-limit', 'glp-limit'],
  ] as const) {
    const runs = results.targets[key]?.throughput;
    if (!runs || runs.length === 0) continue;
    const base = results.targets[without]?.throughput;
    const m = (v: Spread | null | undefined): number | null => v?.median ?? null;
    out[key] = {
      without,
      rpsRatio: m(paired(runs, base, (x, y) => rpsOf(x) / rpsOf(y))),
      proxyCpuUsPerRequest: m(over(runs, cpuPerReq)),
      redisCpuUsPerRequest: m(over(runs, redisCpuPerReq)),
      cpuRatio: m(paired(runs, base, (x, y) => cpuPerReq(x) / cpuPerReq(y))),
      cpuWithRedisRatio: m(paired(runs, base, (x, y) => cpuWithRedis(x) / cpuPerReq(y))),
      redisCommandsPerRequest: m(over(runs, redisCommandsPerReq)),
      addedP50Ms: m(addedLatency(results, key, 'p50')),
      addedP99Ms: m(addedLatency(results, key, 'p99')),
      addedP50MsWithout: m(addedLatency(results, without, 'p50')),
      addedP99MsWithout: m(addedLatency(results, without, 'p99')),
    };
  }
  return out;
}

/** Proxy latency minus direct latency at the fixed rate, per round. */
export function addedLatency(results: Results, key: TargetKey, q: 'p50' | 'p99', kind: 'rate' | 'paced' = 'rate'): Spread | null {
  return paired(results.targets[key]?.[kind], results.targets.direct?.[kind], (x, y) => x.load.latencyMs[q] - y.load.latencyMs[q]);
}

const fmtX = (v: number | null | undefined): string => (v === null || v === undefined ? 'n/a' : `${v.toFixed(2)}x`);
const fmtMs = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? 'n/a' : `${v.toFixed(3)} ms`);
const fmtMiB = (v: number | undefined): string => (v === undefined ? 'n/a' : `${(v / MIB).toFixed(1)} MiB`);

export function computeChecks(results: Results): Check[] {
  const r = results.ratios ?? computeRatios(results);
  const checks: Check[] = [];
  const atLeast = (name: string, v: Spread | null | undefined, min: number): void => {
    const range = v && v.n > 1 ? ` (${v.min.toFixed(2)}-${v.max.toFixed(2)})` : '';
    checks.push({ name, value: v ? `${fmtX(v.median)}${range}` : 'n/a', target: `>= ${min.toFixed(1)}x`, pass: v ? v.median >= min : null });
  };
  const below = (name: string, v: number | undefined, max: number, fmt: (v: number | undefined) => string, maxText: string): void => {
    checks.push({ name, value: fmt(v), target: `< ${maxText}`, pass: v === undefined || Number.isNaN(v) ? null : v < max });
  };
  for (const key of ['glp', 'glp-info'] as const) {
    const tag = key === 'glp' ? 'warn' : 'info';
    atLeast(`req/s vs bare @fastify/http-proxy (${tag})`, r[`req/s ${key}/bare`], 1.0);
    atLeast(`req/s vs nginx 1 worker (${tag})`, r[`req/s ${key}/nginx`], 0.5);
    below(`added p50 at ${results.meta.settings.rate} req/s (${tag})`, addedLatency(results, key, 'p50')?.median, 0.5, fmtMs, '0.5 ms');
    below(`added p99 at ${results.meta.settings.rate} req/s (${tag})`, addedLatency(results, key, 'p99')?.median, 2, fmtMs, '2 ms');
  }
  for (const key of REDIS_KEYS) {
    if (results.targets[key] === undefined) continue;
    const tag = key === 'glp-redis' ? 'Redis store' : 'limit + Redis';
    below(`added p50 at ${results.meta.settings.rate} req/s (${tag})`, addedLatency(results, key, 'p50')?.median, 0.5, fmtMs, '0.5 ms');
    below(`added p99 at ${results.meta.settings.rate} req/s (${tag})`, addedLatency(results, key, 'p99')?.median, 2, fmtMs, '2 ms');
  }
  for (const key of ['glp', 'glp-info'] as const) {
    const tag = key === 'glp' ? 'warn' : 'info';
    below(`added p50, evenly paced (${tag}, informative)`, addedLatency(results, key, 'p50', 'paced')?.median, 0.5, fmtMs, '0.5 ms');
    below(`added p99, evenly paced (${tag}, informative)`, addedLatency(results, key, 'p99', 'paced')?.median, 2, fmtMs, '2 ms');
  }
  const t = results.tokens;
  checks.push({
    name: `token requests at ${t?.concurrent ?? results.meta.settings.coldConcurrent} cold concurrent requests`,
    value: t ? `${t.tokenRequests} (${t.ok}/${t.concurrent} ok)` : 'n/a',
    target: '= 1, all ok',
    pass: t ? t.tokenRequests === 1 && t.failed === 0 : null,
  });
  const tr = results.tokensReplicas;
  if (tr) {
    checks.push({
      name: `token requests, ${tr.withRedis.replicas} replicas sharing Redis, ${tr.withRedis.concurrent} cold requests`,
      value: `${tr.withRedis.tokenRequests} (${tr.withRedis.ok}/${tr.withRedis.concurrent} ok)`,
      target: '= 1, all ok',
      pass: tr.withRedis.tokenRequests === 1 && tr.withRedis.failed === 0,
    });
    checks.push({
      name: `token requests, ${tr.withoutRedis.replicas} replicas without Redis (for comparison)`,
      value: `${tr.withoutRedis.tokenRequests} (${tr.withoutRedis.ok}/${tr.withoutRedis.concurrent} ok)`,
      target: `= ${tr.withoutRedis.replicas}, all ok`,
      pass: tr.withoutRedis.tokenRequests === tr.withoutRedis.replicas && tr.withoutRedis.failed === 0,
    });
  }
  below('idle RSS (1 s after ready)', results.startup?.idleRssMedian, 64 * MIB, fmtMiB, '64 MiB');
  const maxRss = (key: TargetKey): number | undefined => over(results.targets[key]?.throughput, (m) => m.proxyMaxRss)?.max;
  below('RSS at 50 connections (warn)', maxRss('glp'), 96 * MIB, fmtMiB, '96 MiB');
  below('RSS at 50 connections (info)', maxRss('glp-info'), 96 * MIB, fmtMiB, '96 MiB');
  const s = results.stream?.glp;
  const size = results.meta.settings.streamBytes / MIB;
  below(`RSS growth streaming ${size} MiB download`, s?.download.growth, 32 * MIB, fmtMiB, '32 MiB');
  below(`RSS growth streaming ${size} MiB upload`, s?.upload.growth, 32 * MIB, fmtMiB, '32 MiB');
  const ready = results.startup?.readyMsMedian;
  checks.push({
    name: `ready after start (median of ${results.startup?.readyMs.length ?? 0})`,
    value: ready === undefined ? 'n/a' : `${ready.toFixed(0)} ms`,
    target: '< 300 ms',
    pass: ready === undefined ? null : ready < 300,
  });
  return checks;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const n0 = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '-' : Math.round(v).toLocaleString('en-US'));
const n2 = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(2));
const n3 = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '-' : v.toFixed(3));
const pct = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '-' : `${Math.round(v * 100)}%`);
const mib = (v: number | undefined): string => (v === undefined ? '-' : (v / MIB).toFixed(1));
const signed = (v: number | undefined): string => (v === undefined || Number.isNaN(v) ? '-' : `${v >= 0 ? '+' : ''}${v.toFixed(3)}`);
/** "±x%": half the range over rounds, relative to the median. */
const pm = (v: Spread | null): string => (v === null || v.n < 2 || !(v.median > 0) ? '' : `±${(((v.max - v.min) / 2 / v.median) * 100).toFixed(0)}%`);

export function formatReport(results: Results): string {
  const { meta } = results;
  const s = meta.settings;
  const out: string[] = [];
  out.push(
    `greenlake-proxy benchmark, ${meta.date}; proxy under test: ${meta.commit}`,
    `node ${meta.node}, ${meta.nginx === null ? 'nginx not run' : `nginx ${meta.nginx}`}, ${meta.redis ? `Redis ${meta.redis}` : 'Redis not run'}, ${meta.cpus} CPUs (${meta.cpuModel}), ${meta.memoryGiB} GiB, Linux ${meta.kernel}`,
    `${s.rounds} round(s); each run: warm-up (${s.warmupSec} s first round, 1 s later), then ${s.durationSec} s measured; autocannon in its own process; all on 127.0.0.1`,
  );
  for (const note of meta.notes) out.push(`note: ${note}`);
  let repeated = 0;
  const busy: string[] = [];
  for (const k of TARGET_KEYS) {
    for (const kind of ['throughput', 'rate', 'paced'] as const) {
      for (const [i, m] of (results.targets[k]?.[kind] ?? []).entries()) {
        repeated += m.attempts - 1;
        const share = m.foreignCpuSec / m.load.durationSec;
        if (share > 0.05) busy.push(`${LABELS[k]} ${kind} round ${i + 1}: ${Math.round(share * 100)}%`);
      }
    }
  }
  if (repeated > 0) out.push(`note: ${repeated} run(s) were repeated because other processes used the CPU meanwhile`);
  if (busy.length > 0) {
    out.push(`WARNING: other processes used CPU during these runs (share of one core): ${busy.join('; ')}; their figures may be off`);
  }

  const present = TARGET_KEYS.filter((k) => results.targets[k] !== undefined);
  const rounds = Math.max(0, ...present.map((k) => results.targets[k]?.throughput.length ?? 0));
  const med = (k: TargetKey, kind: 'throughput' | 'rate' | 'paced', f: (m: LoadMeasurement) => number | undefined): number | undefined =>
    over(results.targets[k]?.[kind], f)?.median;

  out.push(
    '',
    `Throughput: small JSON GET (~1 KiB), ${s.throughputConnections} connections; median of ${rounds} round(s), targets taken in turn`,
  );
  out.push(
    table(
      ['', 'req/s', 'spread', 'x direct', 'p50 ms', 'p99 ms', 'proxy CPU', 'of it sys', 'CPU us/req', 'RSS max MiB', 'RSS after MiB', 'loadgen CPU', 'errors'],
      present.map((k) => {
        const runs = results.targets[k]?.throughput;
        const run = results.targets[k];
        const rps = over(runs, rpsOf);
        const xDirect = k === 'direct' ? null : paired(runs, results.targets.direct?.throughput, (x, y) => rpsOf(x) / rpsOf(y));
        const cpuShare = med(k, 'throughput', (m) => (m.proxyCpuSec === undefined ? undefined : m.proxyCpuSec / m.load.durationSec));
        return [
          LABELS[k],
          n0(rps?.median),
          pm(rps),
          k === 'direct' ? '1.00' : n2(xDirect?.median),
          n3(med(k, 'throughput', (m) => m.load.latencyMs.p50)),
          n3(med(k, 'throughput', (m) => m.load.latencyMs.p99)),
          cpuShare === undefined ? '-' : `${Math.round(cpuShare * 100)}%`,
          pct(med(k, 'throughput', (m) => (m.proxySystemCpuSec === undefined || !m.proxyCpuSec ? undefined : m.proxySystemCpuSec / m.proxyCpuSec))),
          n0(med(k, 'throughput', (m) => m.proxyCpuUsPerRequest)),
          mib(over(runs, (m) => m.proxyMaxRss)?.max),
          mib(run?.rssAfterLoad),
          `${Math.round((med(k, 'throughput', (m) => m.load.loadgenCpuSec / m.load.durationSec) ?? 0) * 100)}%`,
          String((runs ?? []).reduce((sum, m) => sum + m.load.non2xx + m.load.errors, 0)),
        ];
      }),
    ),
  );
  out.push('  proxy CPU: share of one core; of it sys: kernel time (syscalls, loopback TCP); RSS max: highest sample (every 50 ms) during warm-up and runs');

  const latencyTable = (kind: 'rate' | 'paced'): string =>
    table(
      ['', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'added p50', 'added p99', 'proxy CPU', 'CPU us/req'],
      present
        .filter((k) => (results.targets[k]?.[kind].length ?? 0) > 0)
        .map((k) => {
          const cpuShare = med(k, kind, (m) => (m.proxyCpuSec === undefined ? undefined : m.proxyCpuSec / m.load.durationSec));
          return [
            LABELS[k],
            n0(med(k, kind, rpsOf)),
            n3(med(k, kind, (m) => m.load.latencyMs.p50)),
            n3(med(k, kind, (m) => m.load.latencyMs.p90)),
            n3(med(k, kind, (m) => m.load.latencyMs.p99)),
            k === 'direct' ? '' : signed(addedLatency(results, k, 'p50', kind)?.median),
            k === 'direct' ? '' : signed(addedLatency(results, k, 'p99', kind)?.median),
            cpuShare === undefined ? '-' : `${Math.round(cpuShare * 100)}%`,
            n0(med(k, kind, (m) => m.proxyCpuUsPerRequest)),
          ];
        }),
    );
  out.push(
    '',
    `Latency at a fixed rate: autocannon overallRate ${s.rate} req/s, ${s.rateConnections} connections; median of ${rounds} round(s); added = minus direct in the same round`,
    `  (autocannon paces per connection and second: each connection sends its share back to back, then waits; so these are bursts of ${s.rateConnections} concurrent requests)`,
  );
  out.push(latencyTable('rate'));
  if (present.some((k) => (results.targets[k]?.paced.length ?? 0) > 0)) {
    out.push(
      '',
      `Latency, evenly paced: one request every ${(1000 / s.rate).toFixed(1)} ms over ${s.rateConnections} pooled connections (undici client, open loop: time waiting for a free connection counts)`,
    );
    out.push(latencyTable('paced'));
  }

  const redisCost = results.redis ?? computeRedisCost(results);
  const costRows = REDIS_KEYS.flatMap((k) => {
    const c = redisCost[k];
    if (!c) return [];
    const x = (v: number | null): string => (v === null || Number.isNaN(v) ? '-' : `${v.toFixed(2)}x`);
    const u = (v: number | null): string => n0(v ?? undefined);
    const ms = (v: number | null): string => signed(v ?? undefined);
    return [
      [
        LABELS[k],
        c.without,
        x(c.rpsRatio),
        u(c.proxyCpuUsPerRequest),
        u(c.redisCpuUsPerRequest),
        x(c.cpuRatio),
        x(c.cpuWithRedisRatio),
        n2(c.redisCommandsPerRequest ?? undefined),
        ms(c.addedP50Ms),
        ms(c.addedP99Ms),
        ms(c.addedP50MsWithout),
        ms(c.addedP99MsWithout),
      ],
    ];
  });
  if (costRows.length > 0) {
    out.push(
      '',
      `Redis store: what it costs, against the same proxy without it ("vs"), in the same rounds; Redis ${meta.redis ?? '?'} on 127.0.0.1`,
    );
    out.push(
      table(
        ['', 'vs', 'req/s x', 'proxy us/req', 'Redis us/req', 'CPU x', 'CPU x +Redis', 'Redis cmds/req', 'added p50', 'added p99', 'vs: p50', 'vs: p99'],
        costRows,
      ),
    );
    out.push(
      '  proxy/Redis us/req: CPU per request of the proxy and of redis-server (throughput runs); CPU x +Redis: (proxy + redis-server) over the proxy without a store;',
      `  Redis cmds/req: commands Redis ran per request, the commands a Lua script runs included (EVALSHA + 2 inside = 3);`,
      `  added p50/p99: ms over direct at ${s.rate} req/s, for this target and for "vs"`,
    );
  }

  if (results.tokens) {
    const t = results.tokens;
    out.push(
      '',
      `Tokens: ${t.concurrent} concurrent requests (one connection each) at a freshly started greenlake-proxy:`,
      `  ${t.tokenRequests} token request(s); ${t.ok} answered 200, ${t.failed} failed; all answered in ${t.ms.toFixed(0)} ms`,
    );
  }
  if (results.tokensReplicas) {
    const { withRedis, withoutRedis } = results.tokensReplicas;
    out.push(
      '',
      `Tokens, replicas: ${withRedis.concurrent} concurrent requests (one connection each) spread in turn over ${withRedis.replicas} freshly started greenlake-proxies:`,
    );
    for (const [what, b] of [
      ['sharing one Redis', withRedis],
      ['without Redis    ', withoutRedis],
    ] as const) {
      out.push(`  ${what}: ${b.tokenRequests} token request(s); ${b.ok} answered 200, ${b.failed} failed; all answered in ${b.ms.toFixed(0)} ms`);
    }
  }

  if (results.stream) {
    out.push('', `Streaming ${(s.streamBytes / MIB).toFixed(0)} MiB through a fresh proxy (RSS sampled every 50 ms)`);
    const rows: string[][] = [];
    for (const k of TARGET_KEYS) {
      const pair = results.stream[k];
      if (!pair) continue;
      for (const m of [pair.download, pair.upload]) {
        rows.push([LABELS[k], m.direction, n0(m.mibPerSec), mib(m.baselineRss), mib(m.maxRss), mib(m.growth)]);
      }
    }
    out.push(table(['', 'direction', 'MiB/s', 'RSS before', 'RSS max', 'growth MiB'], rows));
  }

  if (results.startup) {
    const st = results.startup;
    out.push(
      '',
      `Startup (greenlake-proxy, LOG_LEVEL=warn, ${st.readyMs.length} fresh starts): spawn -> first 200 from /-/readyz`,
      `  ready ms: median ${st.readyMsMedian.toFixed(0)}, each ${st.readyMs.map((v) => v.toFixed(0)).join(', ')}`,
      `  idle RSS 1 s after ready: median ${mib(st.idleRssMedian)} MiB, each ${st.idleRss.map((v) => mib(v)).join(', ')}`,
    );
  }

  const r = results.ratios ?? {};
  out.push('', 'Ratios (each taken within one round, then the median over rounds)');
  out.push(
    table(
      ['', 'median', 'min', 'max'],
      Object.entries(r)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, fmtX(v?.median), fmtX(v?.min), fmtX(v?.max)]),
    ),
  );

  out.push('', 'Targets');
  out.push(
    table(
      ['', 'measured', 'target', 'result'],
      (results.checks ?? []).map((c) => [c.name, c.value, c.target, c.pass === null ? 'not run' : c.pass ? 'PASS' : 'FAIL']),
    ),
  );
  return `${out.join('\n')}\n`;
}
