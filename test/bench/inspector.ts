/**
 * A minimal Chrome DevTools Protocol client for a child node started with
 * `--inspect=127.0.0.1:0`: force a full GC and read the heap and process memory from outside
 * (the soak). Node 24's global WebSocket; one short-lived connection per reading, so the
 * inspector holds no session state between readings.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** The `ws://127.0.0.1:PORT/UUID` node prints on stderr when --inspect starts; waits up to `timeoutMs`. */
export async function inspectorUrl(errFile: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(errFile, 'utf8').catch(() => '');
    const match = /Debugger listening on (ws:\/\/\S+)/.exec(text);
    if (match?.[1] !== undefined) return match[1];
    if (Date.now() > deadline) throw new Error(`no inspector URL in ${errFile} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

interface CdpReply {
  readonly id?: number;
  readonly method?: string;
  readonly params?: { readonly chunk?: string };
  readonly result?: unknown;
  readonly error?: { readonly message: string };
}

export class InspectorSession {
  readonly #ws: WebSocket;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #onChunk: ((chunk: string) => void) | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.addEventListener('message', (event) => this.#receive(String(event.data)));
    ws.addEventListener('close', () => {
      for (const { reject } of this.#pending.values()) reject(new Error('inspector connection closed'));
      this.#pending.clear();
    });
  }

  static open(url: string, timeoutMs = 10_000): Promise<InspectorSession> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url);
      const timer = setTimeout(() => {
        ws.close();
        reject(new Error(`inspector ${url}: no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      ws.addEventListener('open', () => {
        clearTimeout(timer);
        resolve(new InspectorSession(ws));
      });
      ws.addEventListener('error', () => {
        clearTimeout(timer);
        reject(new Error(`inspector ${url}: cannot connect`));
      });
    });
  }

  #receive(text: string): void {
    const message = JSON.parse(text) as CdpReply;
    if (message.method === 'HeapProfiler.addHeapSnapshotChunk' && message.params?.chunk !== undefined) {
      this.#onChunk?.(message.params.chunk);
      return;
    }
    if (message.id === undefined) return;
    const waiter = this.#pending.get(message.id);
    if (!waiter) return;
    this.#pending.delete(message.id);
    if (message.error) waiter.reject(new Error(`inspector: ${message.error.message}`));
    else waiter.resolve(message.result);
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Runs `expression` in the main context; its value must be JSON text. */
  async evaluateJson<T>(expression: string): Promise<T> {
    const result = (await this.send('Runtime.evaluate', { expression, returnByValue: true })) as {
      result?: { value?: unknown };
      exceptionDetails?: { text?: string };
    };
    if (result.exceptionDetails !== undefined || typeof result.result?.value !== 'string') {
      throw new Error(`inspector: evaluation failed: ${result.exceptionDetails?.text ?? 'no string value'}`);
    }
    return JSON.parse(result.result.value) as T;
  }

  /** A full heap snapshot (after a GC) streamed into `file`. */
  async heapSnapshot(file: string): Promise<void> {
    const out = createWriteStream(file);
    this.#onChunk = (chunk) => out.write(chunk);
    try {
      await this.send('HeapProfiler.takeHeapSnapshot', { reportProgress: false });
    } finally {
      this.#onChunk = undefined;
      await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
    }
  }

  close(): void {
    this.#ws.close();
  }
}

/** What the soak reads inside the proxy after a forced full GC. */
export interface InsideMemory {
  /** Runtime.getHeapUsage: V8 heap used / total, bytes. */
  readonly heapUsed: number;
  readonly heapTotal: number;
  /** process.memoryUsage(). */
  readonly rss: number;
  readonly external: number;
  readonly arrayBuffers: number;
  /** v8.getHeapStatistics(): V8's own malloc'd memory, and contexts (a detached one is a leak). */
  readonly mallocedMemory: number;
  readonly peakMallocedMemory: number;
  readonly nativeContexts: number;
  readonly detachedContexts: number;
  /** process.getActiveResourcesInfo().length: sockets, timers, handles alive. */
  readonly activeResources: number;
  /** Milliseconds the forced GC took (seen from here, round trip included). */
  readonly gcMs: number;
}

const INSIDE_EXPRESSION = `JSON.stringify((() => {
  const m = process.memoryUsage();
  const h = process.getBuiltinModule('v8').getHeapStatistics();
  return { rss: m.rss, external: m.external, arrayBuffers: m.arrayBuffers,
    mallocedMemory: h.malloced_memory, peakMallocedMemory: h.peak_malloced_memory,
    nativeContexts: h.number_of_native_contexts, detachedContexts: h.number_of_detached_contexts,
    activeResources: process.getActiveResourcesInfo().length };
})())`;

/** Connects, forces a full GC, reads the heap and process memory, disconnects. */
export async function readInside(url: string): Promise<InsideMemory> {
  const session = await InspectorSession.open(url);
  try {
    const started = performance.now();
    await session.send('HeapProfiler.collectGarbage');
    const gcMs = performance.now() - started;
    const usage = (await session.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
    const inside = await session.evaluateJson<Omit<InsideMemory, 'heapUsed' | 'heapTotal' | 'gcMs'>>(INSIDE_EXPRESSION);
    return { heapUsed: usage.usedSize, heapTotal: usage.totalSize, ...inside, gcMs };
  } finally {
    session.close();
  }
}

/** Connects, writes a heap snapshot to `file`, disconnects. */
export async function takeHeapSnapshot(url: string, file: string): Promise<void> {
  const session = await InspectorSession.open(url);
  try {
    await session.heapSnapshot(file);
  } finally {
    session.close();
  }
}
