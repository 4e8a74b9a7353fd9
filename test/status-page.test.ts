import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { DEMO_CLIENT } from '../src/emulator/index.ts';
import {
  assertNoCredentialsIn,
  call,
  client,
  DEMO_SECRET,
  emulator,
  proxy,
  tokensSeenBy,
  type RunningProxy,
  type Tap,
} from './helpers/index.ts';
import { colourCounts, decodePng } from './helpers/png.ts';
import type { Emulator } from '../src/emulator/index.ts';

/** What the token endpoint says when it refuses: markup in error_description must reach the page as text. */
const HOSTILE_DESCRIPTION = '<script>alert(1)</script>';
/** Names from the configuration: any non-empty string is allowed there, so they must be escaped too. */
const HOSTILE_REGION = '<img src=x onerror=alert(2)>';
const HOSTILE_CLIENT_ID = '"><b id="injected">x</b>';
const OTHER_SECRET = 'odd-client-secret-0a1b2c3d4e5f';

const TABLES = ['tokens', 'requests', 'routes', 'clients'] as const;

/**
 * A proxy whose status page has something in every table: a valid token (/dscc/us1), a failing
 * one whose error carries markup (/glp/global), one never fetched (/com/us-west, hostile names).
 */
async function busyProxy(t: Tap): Promise<{ emu: Emulator; gw: RunningProxy }> {
  const emu = await emulator(t);
  const gw = await proxy(t, {
    listen: { host: '127.0.0.1', port: 0 },
    clients: [
      { name: 'team', clientId: DEMO_CLIENT.clientId, clientSecret: DEMO_SECRET, tokenUrl: emu.tokenUrl },
      { name: 'odd', clientId: HOSTILE_CLIENT_ID, clientSecret: OTHER_SECRET, tokenUrl: emu.tokenUrl },
    ],
    routes: [
      { prefix: '/dscc/us1', upstream: emu.url, client: 'team' },
      { prefix: '/glp/global', upstream: emu.url, client: 'team' },
      { prefix: '/com/us-west', upstream: emu.url, client: 'odd', region: HOSTILE_REGION },
    ],
    tokens: { maxAttempts: 1 },
  });
  const http = client(t);
  t.equal((await call(http, `${gw.url}/dscc/us1/api/v1/volumes`)).status, 200);
  emu.setTokenFault({
    kind: 'status',
    status: 401,
    body: JSON.stringify({ error: 'invalid_client', error_description: HOSTILE_DESCRIPTION }),
  });
  t.equal((await call(http, `${gw.url}/glp/global/devices/v1/devices`)).status, 502);
  emu.setTokenFault(undefined);
  return { emu, gw };
}

/** The rows of `<table id=...>` in a page, each as its cells' text (entities left as they are). */
function tableRows(html: string, id: string): string[][] | undefined {
  const table = new RegExp(`<table id="${id}">([\\s\\S]*?)</table>`).exec(html)?.[1];
  if (table === undefined) return undefined;
  const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table)?.[1] ?? '';
  return [...body.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) => cell[1]!.replace(/<[^>]+>/g, '')),
  );
}

function checkTables(t: Tap, html: string, where: string): void {
  for (const id of TABLES) t.ok(tableRows(html, id), `${where}: has the ${id} table`);
  const tokens = tableRows(html, 'tokens') ?? [];
  t.same(
    tokens.map((r) => [r[0], r[1], r[2]]),
    [
      ['team', '/dscc/us1', 'valid'],
      ['team', '/glp/global', 'failing'],
      ['odd', '&lt;img src=x onerror=alert(2)&gt;', 'empty'],
    ],
    `${where}: one token row per (client, region), with its state`,
  );
  t.match(tokens[1]?.[7], 'GREENLAKE_PROXY_TOKEN_REJECTED: token endpoint answered 401 (invalid_client: &lt;script&gt;alert(1)&lt;/script&gt;)', `${where}: the failing token's error, escaped`);
  t.same(
    (tableRows(html, 'requests') ?? []).map((r) => r[0]),
    ['/dscc/us1', '/glp/global'],
    `${where}: a request row per route used (the page's own request is not counted yet)`,
  );
  t.same(
    (tableRows(html, 'routes') ?? []).map((r) => [r[0], r[3], r[4]]),
    [
      ['/dscc/us1', 'team', '/dscc/us1'],
      ['/glp/global', 'team', '/glp/global'],
      ['/com/us-west', 'odd', '&lt;img src=x onerror=alert(2)&gt;'],
    ],
    `${where}: every route with its client and region`,
  );
  t.same(
    (tableRows(html, 'clients') ?? []).map((r) => [r[0], r[1], r[4]]),
    [
      ['team', DEMO_CLIENT.clientId, 'config'],
      ['odd', '"&gt;&lt;b id="injected"&gt;x&lt;/b&gt;', 'config'],
    ].map(([name, id, from]) => [name, where === 'served HTML' ? id!.replaceAll('"', '&quot;') : id, from]),
    `${where}: every client, never its secret`,
  );
  t.notMatch(html, /<script|<img|<b id="injected"/i, `${where}: no markup from the token endpoint or the configuration became an element`);
}

t.test('GET /-/ is an HTML page with the four tables, escaped text, and no credential', async (t) => {
  const { emu, gw } = await busyProxy(t);
  const page = await call(client(t), `${gw.url}/-/`);
  t.equal(page.status, 200);
  t.equal(page.headers['content-type'], 'text/html; charset=utf-8');
  t.equal(page.headers['cache-control'], 'no-store');
  t.match(page.text, /^<!doctype html>/);
  t.match(page.text, '&lt;script&gt;alert(1)&lt;/script&gt;', 'the endpoint\'s description is shown, as text');
  checkTables(t, page.text, 'served HTML');
  assertNoCredentialsIn(t, [page.text], [DEMO_SECRET, OTHER_SECRET, ...tokensSeenBy(emu)]);
});

/** Chromium from CHROMIUM or /usr/bin/chromium; undefined when absent. */
function findChromium(): string | undefined {
  const candidates = [process.env.CHROMIUM, '/usr/bin/chromium'].filter((c): c is string => Boolean(c));
  return candidates.find((c) => existsSync(c));
}

const chromium = findChromium();
const inCi = process.env.CI === 'true';
const chromiumSkip = chromium === undefined && !inCi ? 'no Chromium here (set CHROMIUM or install /usr/bin/chromium): not rendering the status page' : false;

/** One headless Chromium run with a fresh profile; resolves with its stdout once it exits 0. */
async function runChromium(t: Tap, args: string[]): Promise<string> {
  const profile = await mkdtemp(join(tmpdir(), 'glp-chromium-'));
  t.teardown(() => rm(profile, { recursive: true, force: true }));
  const child = spawn(
    chromium as string,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      ...args,
    ],
    // A wedged browser must not outlive the test: killed after a minute (the test then fails on its exit status).
    { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000, killSignal: 'SIGKILL' },
  );
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c, s) => resolve([c, s]));
  });
  if (code !== 0) {
    // Without a D-Bus, Chromium logs a screenful of harmless errors: leave them out.
    const said = stderr.split('\n').filter((l) => l.trim() !== '' && !/dbus/i.test(l)).slice(-15).join('\n');
    const how = signal === 'SIGKILL' ? 'did not finish within 60 s (a blocked page, e.g. an alert(), keeps --dump-dom waiting)' : `exited ${code ?? signal}`;
    throw new Error(`chromium ${args.join(' ')} ${how}: ${said}`);
  }
  return stdout;
}

t.test('headless Chromium renders the status page: the four tables, text not markup, a non-blank screenshot', { skip: chromiumSkip }, async (t) => {
  if (chromium === undefined) {
    t.fail('CI=true but Chromium is missing: .ci/run installs it (apt-get install chromium)');
    return;
  }
  const { emu, gw } = await busyProxy(t);
  const url = `${gw.url}/-/`;

  const dom = await runChromium(t, ['--dump-dom', url]);
  t.match(dom, /<title>greenlake-proxy status<\/title>/, 'the browser loaded the status page');
  checkTables(t, dom, 'rendered DOM');
  t.match(dom, '&lt;script&gt;alert(1)&lt;/script&gt;', 'the endpoint\'s description is a text node in the DOM');
  assertNoCredentialsIn(t, [dom], [DEMO_SECRET, OTHER_SECRET, ...tokensSeenBy(emu)]);

  const shots = await mkdtemp(join(tmpdir(), 'glp-shots-'));
  t.teardown(() => rm(shots, { recursive: true, force: true }));
  const shoot = async (name: string, target: string) => {
    const file = join(shots, name);
    await runChromium(t, [`--screenshot=${file}`, '--window-size=1280,900', target]);
    t.ok(existsSync(file), `${name} was written`);
    return decodePng(await readFile(file));
  };
  const page = await shoot('status.png', url);
  t.equal(page.width, 1280, 'IHDR width is the window width');
  t.equal(page.height, 900, 'IHDR height is the window height');

  // The same screenshot of an empty page: one colour. The status page must be far from that.
  const blank = await shoot('blank.png', 'data:text/html,<!doctype html><html><body></body></html>');
  t.equal(colourCounts(blank).size, 1, 'a blank page decodes to a single colour (the decoder reads pixels right)');
  const colours = colourCounts(page);
  const [background, backgroundPixels] = [...colours].sort((a, b) => b[1] - a[1])[0]!;
  t.ok(colours.size > 2, `the status page has ${colours.size} colours`);
  t.ok(backgroundPixels < page.width * page.height, `not every pixel is the background ${background}`);
  // The state badges' borders are drawn in their colour: green for valid (#197a3a), red for failing (#bb3333).
  t.ok(colours.has('#197a3a'), 'the green "valid" badge was rendered');
  t.ok(colours.has('#bb3333'), 'the red "failing" badge and error text were rendered');
});
