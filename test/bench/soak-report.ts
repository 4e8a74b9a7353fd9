/**
 * The soak's figures (soak.ts): samples, least-squares slopes over each half of the run, and
 * the printed table.
 */
import type { InsideMemory } from './inspector.ts';
import { MIB, type MemoryDetail, type RssByMapping } from './proc.ts';

export interface SoakSettings {
  readonly minutes: number;
  readonly rate: number;
  readonly sampleSec: number;
  readonly tokenLifetime: number;
  readonly logLevel: string;
  readonly mallocArenaMax: number | undefined;
  readonly nodeArgs: readonly string[];
  readonly snapshots: readonly number[];
  /** false with --no-gc; absent in files from before the option (true then). */
  readonly forcedGc?: boolean;
  readonly mix: readonly string[];
}

/** One reading: after each load period (minute 0 is right after the first request). */
export interface SoakSample {
  readonly minute: number;
  /** Answers so far (all kinds) and this period's. */
  readonly requests: number;
  readonly periodRequests: number;
  readonly periodNon2xx: number;
  readonly periodErrors: number;
  readonly periodRps: number;
  readonly tokenRequests: number;
  readonly proxyCpuSec: number;
  readonly loadgenCpuSec: number;
  /** CPU seconds of the whole machine in this period (all cores). */
  readonly machineBusySec: number;
  readonly proc: MemoryDetail;
  /** proc and mappings are read at the end of a load period, before the forced GC. */
  readonly mappings: RssByMapping | undefined;
  /** RSS read once a second through the period: highest and mean (NaN at minute 0). */
  readonly periodRssMax: number;
  readonly periodRssMean: number;
  /** RSS right after the forced GC; undefined with --no-gc. */
  readonly rssAfterGc: number | undefined;
  /** After a forced GC through the inspector; undefined with --no-gc (no inspector). */
  readonly inside: InsideMemory | undefined;
  readonly logBytes: number;
}

export interface SoakResults {
  readonly meta: {
    readonly date: string;
    readonly commit: string;
    readonly node: string;
    readonly cpus: number;
    readonly kernel: string;
    readonly settings: SoakSettings;
    readonly notes: string[];
  };
  readonly samples: SoakSample[];
  slopes?: Slopes;
}

export const mib = (bytes: number): string => (bytes / MIB).toFixed(1);

const SERIES = {
  rss: (s: SoakSample) => s.proc.rss,
  rssMean: (s: SoakSample) => s.periodRssMean ?? Number.NaN,
  rssMax: (s: SoakSample) => s.periodRssMax ?? Number.NaN,
  rssAfterGc: (s: SoakSample) => s.rssAfterGc ?? Number.NaN,
  rssAnon: (s: SoakSample) => s.proc.rssAnon,
  heapUsedAfterGc: (s: SoakSample) => s.inside?.heapUsed ?? Number.NaN,
  heapTotal: (s: SoakSample) => s.inside?.heapTotal ?? Number.NaN,
  external: (s: SoakSample) => s.inside?.external ?? Number.NaN,
  arrayBuffers: (s: SoakSample) => s.inside?.arrayBuffers ?? Number.NaN,
  mallocedMemory: (s: SoakSample) => s.inside?.mallocedMemory ?? Number.NaN,
  vmData: (s: SoakSample) => s.proc.vmData,
  brkHeap: (s: SoakSample) => s.mappings?.brkHeap ?? Number.NaN,
  anonMappings: (s: SoakSample) => s.mappings?.anonymous ?? Number.NaN,
} as const;
type SeriesKey = keyof typeof SERIES;

/** MiB per 10 minutes, least squares, over the first and the second half of the run. */
export type Slopes = Record<SeriesKey, { firstHalf: number; secondHalf: number }> & { readonly halfAtMinute: number };

/** Least-squares slope of y over x; NaN with fewer than 2 points. */
export function slope(given: readonly (readonly [number, number])[]): number {
  // Minute 0 has no period figures (NaN): they start at the first period.
  const points = given.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

export function computeSlopes(samples: readonly SoakSample[]): Slopes {
  const last = samples.at(-1)?.minute ?? 0;
  const half = last / 2;
  const per10 = (key: SeriesKey, from: number, to: number): number =>
    (slope(samples.filter((s) => s.minute >= from - 1e-6 && s.minute <= to + 1e-6).map((s) => [s.minute, SERIES[key](s) / MIB])) * 10);
  const out: Partial<Record<SeriesKey, { firstHalf: number; secondHalf: number }>> = {};
  for (const key of Object.keys(SERIES) as SeriesKey[]) out[key] = { firstHalf: per10(key, 0, half), secondHalf: per10(key, half, last) };
  return { ...(out as Record<SeriesKey, { firstHalf: number; secondHalf: number }>), halfAtMinute: half };
}

export function formatSoak(results: SoakResults): string {
  const { meta, samples } = results;
  const lines: string[] = [];
  lines.push(`greenlake-proxy soak, ${meta.date}, commit ${meta.commit}, node ${meta.node}, ${meta.cpus} CPUs, kernel ${meta.kernel}`);
  lines.push(`settings: ${meta.settings.minutes} min at ${meta.settings.rate} req/s, LOG_LEVEL=${meta.settings.logLevel}, token lifetime ${meta.settings.tokenLifetime} s`);
  for (const m of meta.settings.mix) lines.push(`  ${m}`);
  for (const n of meta.notes) lines.push(`note: ${n}`);
  lines.push('');
  lines.push('MiB; rss, rssAnon, vmData, brkHeap, anonMaps: /proc at the end of each minute, before the forced GC; rssMean, rssMax: read every second through the minute; rssAftGc, heap*, external, arrayBuf, malloced: after a forced full GC; rssAnon = RssAnon (not file pages); malloced = V8 malloced_memory; brkHeap = resident [heap] (the glibc main arena); anonMaps = resident anonymous mappings (V8 heap, other arenas, stacks)');
  lines.push(
    `${['min', 'rss', 'rssMean', 'rssMax', 'rssAftGc', 'rssAnon', 'heapUsed', 'heapTotal', 'external', 'arrayBuf', 'malloced', 'vmData', 'brkHeap', 'anonMaps', 'requests', 'req/s', 'non2xx', 'errors', 'tokens', 'cpu s', 'handles'].map((h) => h.padStart(10)).join('')}`,
  );
  for (const s of samples) {
    lines.push(
      [
        s.minute.toFixed(1),
        mib(s.proc.rss),
        mib(s.periodRssMean ?? Number.NaN),
        mib(s.periodRssMax ?? Number.NaN),
        mib(s.rssAfterGc ?? Number.NaN),
        mib(s.proc.rssAnon),
        mib(s.inside?.heapUsed ?? Number.NaN),
        mib(s.inside?.heapTotal ?? Number.NaN),
        mib(s.inside?.external ?? Number.NaN),
        mib(s.inside?.arrayBuffers ?? Number.NaN),
        mib(s.inside?.mallocedMemory ?? Number.NaN),
        mib(s.proc.vmData),
        mib(s.mappings?.brkHeap ?? Number.NaN),
        mib(s.mappings?.anonymous ?? Number.NaN),
        String(s.requests),
        s.periodRps.toFixed(0),
        String(s.periodNon2xx),
        String(s.periodErrors),
        String(s.tokenRequests),
        s.proxyCpuSec.toFixed(1),
        String(s.inside?.activeResources ?? Number.NaN),
      ]
        .map((c) => c.padStart(10))
        .join(''),
    );
  }
  const slopes = results.slopes ?? computeSlopes(samples);
  lines.push('');
  lines.push(`slopes, MiB per 10 min (least squares), minutes 0-${slopes.halfAtMinute.toFixed(1)} | ${slopes.halfAtMinute.toFixed(1)}-end:`);
  for (const key of Object.keys(SERIES) as SeriesKey[]) {
    const { firstHalf, secondHalf } = slopes[key];
    lines.push(`  ${key.padEnd(16)} ${firstHalf.toFixed(2).padStart(7)} | ${secondHalf.toFixed(2).padStart(7)}`);
  }
  const last = samples.at(-1);
  const first = samples[0];
  if (last && first && last.minute > 0) {
    const cpuShare = (last.proxyCpuSec - first.proxyCpuSec) / (last.minute * 60);
    lines.push(`proxy CPU: ${(cpuShare * 100).toFixed(1)} % of one core on average; ${last.requests} requests, log ${mib(last.logBytes)} MiB`);
  }
  return `${lines.join('\n')}\n`;
}

