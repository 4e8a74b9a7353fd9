/**
 * The documents a newcomer reads: the README (sections in the order a user needs them, under
 * 7,000 words, links that lead somewhere, one error-code table) and the example configuration
 * (which the README says documents every key: the schema's keys are held against it).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import type { z } from 'zod';
import { configSchema } from '../src/config/schema.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
const example = await readFile(path.join(ROOT, 'config/greenlake-proxy.example.yaml'), 'utf8');

/** What a user needs, in the order they need it; other sections may sit between these. */
const SECTIONS = [
  'Install',
  'Quick start',
  'Use it with real GreenLake credentials',
  'Routes',
  'Examples',
  'Configuration',
  'Deployment',
  'Operations',
  'Troubleshooting',
  'Security',
  'How it works',
];

/** Fenced code blocks hold `#` comments, not headings. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '');
}

/** GitHub's anchor for a heading. */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

t.test('the README: sections in the order a user needs them, and under 7,000 words', async (t) => {
  const headings = [...prose(readme).matchAll(/^## (.+)$/gm)].map((m) => m[1]!.trim());
  const found = SECTIONS.map((s) => headings.indexOf(s));
  t.same(found.filter((i) => i === -1), [], `every section is there: ${SECTIONS.filter((_, i) => found[i] === -1).join(', ') || 'yes'}`);
  t.same(found, [...found].sort((a, b) => a - b), `in this order: ${SECTIONS.join(' → ')}`);
  const words = readme.split(/\s+/).filter(Boolean).length;
  t.ok(words < 7000, `${words} words (wc -w), fewer than 7,000`);
});

t.test('every link in the README leads somewhere: a file of the repository, or a heading', async (t) => {
  const anchors = new Set([...prose(readme).matchAll(/^#{1,6} (.+)$/gm)].map((m) => slug(m[1]!.trim())));
  const links = [...prose(readme).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
  t.ok(links.length > 10, `${links.length} links`);
  for (const link of links) {
    if (/^https?:\/\//.test(link)) continue;
    if (link.startsWith('#')) t.ok(anchors.has(link.slice(1)), `${link} is a heading`);
    else t.ok(existsSync(path.join(ROOT, link.split('#')[0]!)), `${link} exists`);
  }
});

t.test('the README says each thing once: one error-code table', async (t) => {
  t.equal(readme.match(/^\| errorCode \|/gm)?.length, 1, 'one table of error codes');
  const rows = [...readme.matchAll(/^\| `(GREENLAKE_PROXY_[A-Z_]+)`/gm)].map((m) => m[1]!);
  t.same(rows.filter((code, i) => rows.indexOf(code) !== i), [], 'no error code has two rows');
});

// ---------------------------------------------------------------------------------------------

/** Every key path of the configuration schema (`clients[].tenants[].workspaceId`). */
function keyPaths(schema: z.ZodType, prefix = ''): string[] {
  let inner = schema as unknown as { _zod: { def: Record<string, unknown> } };
  for (let def = inner._zod.def; def['innerType'] !== undefined || def['type'] === 'pipe'; def = inner._zod.def) {
    inner = (def['innerType'] ?? def['in']) as typeof inner;
  }
  const def = inner._zod.def;
  if (def['type'] === 'object') {
    return Object.entries(def['shape'] as Record<string, z.ZodType>).flatMap(([key, value]) => {
      const here = prefix === '' ? key : `${prefix}.${key}`;
      return [here, ...keyPaths(value, here)];
    });
  }
  if (def['type'] === 'array') return keyPaths(def['element'] as z.ZodType, `${prefix}[]`);
  return [];
}

t.test('the example configuration documents every key of the schema', async (t) => {
  const paths = keyPaths(configSchema as unknown as z.ZodType);
  t.ok(paths.length > 50, `${paths.length} keys`);
  // Each key's name appears as a YAML key, set or commented out (`# admin:`, `  #   port:`, `- name:`).
  const undocumented = paths.filter((p) => {
    const name = p.split('.').at(-1)!.replace(/\[\]$/, '');
    return !new RegExp(`^[\\s#-]*(\\{ )?${name}:`, 'm').test(example) && !new RegExp(`[{,] ${name}:`).test(example);
  });
  t.same(undocumented, [], 'every key is in config/greenlake-proxy.example.yaml');
  for (const top of paths.filter((p) => !p.includes('.') && !p.includes('['))) {
    t.match(example, new RegExp(`^(# )?${top}:`, 'm'), `${top} has its own block`);
  }
});
