/**
 * Which mappings of a process grew: compares two copies of /proc/PID/smaps taken apart in time
 * (e.g. `cp /proc/PID/smaps /tmp/a` during a soak, again later), mapping by mapping (start
 * address), by resident size. glibc's malloc arenas are anonymous regions of up to 64 MiB,
 * aligned to 64 MiB; V8's heap pages are anonymous 256 KiB pages; the brk heap is `[heap]`.
 *
 *   node test/bench/smaps-diff.ts BEFORE AFTER [--top 20]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface Mapping {
  readonly start: bigint;
  readonly size: number;
  readonly name: string;
  rss: number;
}

const ARENA_ALIGN = 64n * 1024n * 1024n;

export function parseSmaps(text: string): Map<string, Mapping> {
  const out = new Map<string, Mapping>();
  let current: Mapping | undefined;
  for (const line of text.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (header) {
      const start = BigInt(`0x${header[1]}`);
      const end = BigInt(`0x${header[2]}`);
      current = { start, size: Number(end - start), name: header[3] ?? '', rss: 0 };
      out.set(header[1] ?? '', current);
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss && current) current.rss = Number(rss[1]) * 1024;
  }
  return out;
}

/** What a mapping probably is, from its name, size and alignment. */
export function kindOf(m: Mapping): string {
  if (m.name !== '') return m.name.startsWith('/') ? `file ${m.name.split('/').at(-1) ?? ''}` : m.name;
  if (m.start % ARENA_ALIGN === 0n && m.size <= Number(ARENA_ALIGN)) return 'anon, 64 MiB-aligned (malloc arena?)';
  return 'anon';
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' } } });
  const [before, after] = positionals;
  if (before === undefined || after === undefined) {
    process.stderr.write('usage: node test/bench/smaps-diff.ts BEFORE AFTER [--top N]\n');
    process.exit(2);
  }
  const a = parseSmaps(readFileSync(before, 'utf8'));
  const b = parseSmaps(readFileSync(after, 'utf8'));
  const kib = (n: number): string => (n / 1024).toFixed(0);
  const rows = [...new Set([...a.keys(), ...b.keys()])].map((key) => {
    const x = a.get(key);
    const y = b.get(key);
    const m = (y ?? x) as Mapping;
    return { key, kind: kindOf(m), size: m.size, before: x?.rss ?? 0, after: y?.rss ?? 0 };
  });
  const byKind = new Map<string, { before: number; after: number; count: number }>();
  for (const r of rows) {
    const k = r.kind.startsWith('file ') ? 'file pages' : r.kind;
    const t = byKind.get(k) ?? { before: 0, after: 0, count: 0 };
    t.before += r.before;
    t.after += r.after;
    t.count++;
    byKind.set(k, t);
  }
  const out: string[] = ['resident KiB by kind', `${'kind'.padEnd(40)}${'mappings'.padStart(10)}${'before'.padStart(10)}${'after'.padStart(10)}${'Δ'.padStart(10)}`];
  for (const [k, t] of [...byKind].sort((p, q) => q[1].after - q[1].before - (p[1].after - p[1].before))) {
    out.push(`${k.padEnd(40)}${String(t.count).padStart(10)}${kib(t.before).padStart(10)}${kib(t.after).padStart(10)}${kib(t.after - t.before).padStart(10)}`);
  }
  out.push('', 'mappings that changed most', `${'start'.padEnd(14)}${'size KiB'.padStart(10)}${'before'.padStart(10)}${'after'.padStart(10)}${'Δ'.padStart(10)}  kind`);
  const top = Number(values.top ?? 20);
  for (const r of [...rows].sort((p, q) => Math.abs(q.after - q.before) - Math.abs(p.after - p.before)).slice(0, top)) {
    if (r.after === r.before) break;
    out.push(`${r.key.padEnd(14)}${kib(r.size).padStart(10)}${kib(r.before).padStart(10)}${kib(r.after).padStart(10)}${kib(r.after - r.before).padStart(10)}  ${r.kind}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

if (import.meta.main) main();
