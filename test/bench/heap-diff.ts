/**
 * Compares two V8 heap snapshots (.heapsnapshot, e.g. from `soak.ts --snapshots 20,40`) by
 * object kind: constructor name for objects and closures' function names, node type otherwise
 * (string, code, array...). Prints the kinds whose count or self size grew the most.
 *
 *   node test/bench/heap-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot [--top 25]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

interface HeapSnapshotFile {
  readonly snapshot: { readonly meta: { readonly node_fields: string[]; readonly node_types: [string[], ...unknown[]] } };
  readonly nodes: number[];
  readonly strings: string[];
}

interface Kind {
  count: number;
  selfSize: number;
}

/** Object kinds (type:name) with their count and summed self size. */
export function kindsOf(file: string): Map<string, Kind> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as HeapSnapshotFile;
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const kinds = new Map<string, Kind>();
  const { nodes, strings } = snap;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt] ?? 0] ?? '?';
    // Objects and closures by name; strings, numbers and code by type alone (their names are their values).
    const named = type === 'object' || type === 'closure' || type === 'native' || type === 'hidden';
    const key = named ? `${type}:${(strings[nodes[i + nameAt] ?? 0] ?? '?').slice(0, 80)}` : type;
    const kind = kinds.get(key) ?? { count: 0, selfSize: 0 };
    kind.count++;
    kind.selfSize += nodes[i + sizeAt] ?? 0;
    kinds.set(key, kind);
  }
  return kinds;
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string' } } });
  const [before, after] = positionals;
  if (before === undefined || after === undefined) {
    process.stderr.write('usage: node test/bench/heap-diff.ts BEFORE.heapsnapshot AFTER.heapsnapshot [--top N]\n');
    process.exit(2);
  }
  const top = Number(values.top ?? 25);
  const a = kindsOf(before);
  const b = kindsOf(after);
  const rows = [...new Set([...a.keys(), ...b.keys()])].map((key) => {
    const x = a.get(key) ?? { count: 0, selfSize: 0 };
    const y = b.get(key) ?? { count: 0, selfSize: 0 };
    return { key, count: y.count, dCount: y.count - x.count, size: y.selfSize, dSize: y.selfSize - x.selfSize };
  });
  const total = (m: Map<string, Kind>): Kind => [...m.values()].reduce((t, k) => ({ count: t.count + k.count, selfSize: t.selfSize + k.selfSize }), { count: 0, selfSize: 0 });
  const ta = total(a);
  const tb = total(b);
  const out: string[] = [`total: ${ta.count} → ${tb.count} objects, ${(ta.selfSize / 1048576).toFixed(2)} → ${(tb.selfSize / 1048576).toFixed(2)} MiB`];
  const table = (title: string, sorted: typeof rows): void => {
    out.push('', title, `${'kind'.padEnd(60)}${'count'.padStart(10)}${'Δcount'.padStart(10)}${'KiB'.padStart(10)}${'ΔKiB'.padStart(10)}`);
    for (const r of sorted.slice(0, top)) {
      out.push(`${r.key.padEnd(60)}${String(r.count).padStart(10)}${String(r.dCount).padStart(10)}${(r.size / 1024).toFixed(1).padStart(10)}${(r.dSize / 1024).toFixed(1).padStart(10)}`);
    }
  };
  table('grew most in count', [...rows].sort((p, q) => q.dCount - p.dCount));
  table('grew most in self size', [...rows].sort((p, q) => q.dSize - p.dSize));
  process.stdout.write(`${out.join('\n')}\n`);
}

if (import.meta.main) main();
