/**
 * A large body streamed through the proxy must not pile up in its memory: the figure is the
 * proxy process's resident set (VmRSS), sampled from outside while 256 MiB pass each way.
 * Without the proxy's own young-generation collections, V8 lets about 64 MiB of spent
 * socket buffers accumulate before it collects, and the growth is 80-90 MiB.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import t from 'tap';
import type { Agent } from 'undici';
import { downloadSha256 } from '../src/emulator/index.ts';
import { startServe, writeServeConfig, type ServeProcess } from './helpers/cli.ts';
import { client, delay, emulator, type Tap } from './helpers/index.ts';

const MIB = 1024 * 1024;
const STREAMED = 256 * MIB;
/** Well above the collections' own cadence (8 MiB) and well below V8's 64 MiB trigger. */
const MAX_GROWTH = 40 * MIB;

const LINUX_ONLY = { skip: process.platform !== 'linux' && 'reads /proc' };

t.test('256 MiB downloaded through a fresh proxy grow it by less than 40 MiB', LINUX_ONLY, async (t) => {
  const { serve, http } = await freshProxy(t);
  const down = await sampleRss(serve.child.pid!, async () => {
    const res = await http.request({ origin: serve.url, path: `/dscc/us1/download?bytes=${STREAMED}`, method: 'GET' });
    const hash = createHash('sha256');
    let bytes = 0;
    for await (const chunk of res.body) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
    }
    return { status: res.statusCode, bytes, sha256: hash.digest('hex') };
  });
  t.same(down.result, { status: 200, bytes: STREAMED, sha256: downloadSha256(STREAMED) }, 'the download arrived whole');
  t.ok(down.growth < MAX_GROWTH, `RSS grew ${mib(down.growth)} MiB (limit ${mib(MAX_GROWTH)})`);
});

t.test('256 MiB uploaded through a fresh proxy grow it by less than 40 MiB', LINUX_ONLY, async (t) => {
  const { serve, http } = await freshProxy(t);
  const sent = createHash('sha256');
  const up = await sampleRss(serve.child.pid!, async () => {
    const res = await http.request({
      origin: serve.url,
      path: '/dscc/us1/upload',
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(STREAMED) },
      body: uploadBody(STREAMED, sent),
    });
    return { status: res.statusCode, json: (await res.body.json()) as unknown };
  });
  t.same(up.result, { status: 200, json: { bytes: STREAMED, sha256: sent.digest('hex') } }, 'the upload arrived whole');
  t.ok(up.growth < MAX_GROWTH, `RSS grew ${mib(up.growth)} MiB (limit ${mib(MAX_GROWTH)})`);
});

/** `serve` as its own process in front of an emulator, after one small request (token fetched, pools open). */
async function freshProxy(t: Tap): Promise<{ serve: ServeProcess; http: Agent }> {
  const emu = await emulator(t);
  const dir = await mkdtemp(join(tmpdir(), 'glp-stream-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const serve = await startServe(t, await writeServeConfig(dir, emu));
  const http = client(t);
  const warm = await http.request({ origin: serve.url, path: '/dscc/us1/download?bytes=1024', method: 'GET' });
  await warm.body.dump();
  if (warm.statusCode !== 200) throw new Error(`warm-up request: status ${warm.statusCode}`);
  return { serve, http };
}

/** Runs `transfer` while sampling the process's VmRSS every 10 ms; growth is the peak over the resting figure just before. */
async function sampleRss<T>(pid: number, transfer: () => Promise<T>): Promise<{ result: T; growth: number }> {
  await delay(200);
  const resting = rssOf(pid);
  let peak = resting;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 10);
  try {
    const result = await transfer();
    peak = Math.max(peak, rssOf(pid));
    return { result, growth: peak - resting };
  } finally {
    clearInterval(sampler);
  }
}

function rssOf(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** `bytes` of a repeating pattern in 64 KiB chunks, each also fed to `hash`. */
function uploadBody(bytes: number, hash: ReturnType<typeof createHash>): Readable {
  const chunk = Buffer.alloc(64 * 1024, 'greenlake');
  let left = bytes;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const piece = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= piece.length;
      hash.update(piece);
      this.push(piece);
    },
  });
}

function mib(bytes: number): string {
  return (bytes / MIB).toFixed(1);
}
