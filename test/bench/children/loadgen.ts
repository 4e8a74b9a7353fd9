/**
 * The load generator, in a process of its own so it never shares an event loop with
 * what it measures. Runs one autocannon measurement per IPC message and answers with
 * its figures. Latency is recorded from every response's own timing (autocannon's
 * histogram keeps whole milliseconds only, too coarse for sub-millisecond targets).
 */
import autocannon from 'autocannon';
import { Pool } from 'undici';
import type { LatencySummary, LoadRequest, LoadResult, LoadMessage } from '../load-types.ts';

process.on('message', (message: LoadMessage) => {
  void (message.request.mode === 'paced' ? paced(message.request) : run(message.request)).then(
    (result) => process.send?.({ id: message.id, result }),
    (err: unknown) => process.send?.({ id: message.id, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ ready: true });

function run(request: LoadRequest): Promise<LoadResult> {
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  const cpuBefore = process.cpuUsage();
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: request.url,
        connections: request.connections,
        duration: request.durationSec,
        timeout: 10,
        ...(request.overallRate !== undefined && { overallRate: request.overallRate }),
        ...(request.method !== undefined && { method: request.method }),
        ...(request.headers !== undefined && { headers: request.headers }),
        ...(request.body !== undefined && { body: request.body }),
      },
      (err: unknown, result: autocannon.Result) => {
        if (err) return reject(err instanceof Error ? err : new Error(String(err)));
        const cpu = process.cpuUsage(cpuBefore);
        resolve({
          durationSec: result.duration,
          requests2xx: result['2xx'],
          non2xx: result.non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          rps: result['2xx'] / result.duration,
          latencyMs: summarise(latencies.subarray(0, count)),
          autocannonLatencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
          loadgenCpuSec: (cpu.user + cpu.system) / 1e6,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode < 200 || statusCode > 299) return;
      if (count === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[count++] = responseTime;
    });
  });
}

function summarise(latencies: Float64Array): LatencySummary {
  const sorted = latencies.sort();
  const count = sorted.length;
  const pick = (q: number): number => (count === 0 ? Number.NaN : (sorted[Math.min(count - 1, Math.floor(q * count))] ?? Number.NaN));
  let sum = 0;
  for (let i = 0; i < count; i++) sum += sorted[i] ?? 0;
  return {
    p50: pick(0.5),
    p90: pick(0.9),
    p99: pick(0.99),
    p999: pick(0.999),
    max: count === 0 ? Number.NaN : (sorted[count - 1] ?? Number.NaN),
    mean: count === 0 ? Number.NaN : sum / count,
    samples: count,
  };
}

/**
 * Evenly spaced arrivals: request i is due at start + i/rate and is sent then (or as soon
 * as the 1 ms timer notices). Its latency runs from that send to the end of the body:
 * when every pooled connection is busy the request waits in the pool, and that wait counts,
 * so a proxy that falls behind is charged for it (open loop, no coordinated omission).
 */
async function paced(request: LoadRequest): Promise<LoadResult> {
  const rate = request.overallRate;
  if (rate === undefined || !(rate > 0)) throw new Error('paced mode needs overallRate');
  const url = new URL(request.url);
  const pool = new Pool(url.origin, { connections: request.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const total = Math.max(1, Math.round(rate * request.durationSec));
  const intervalMs = 1000 / rate;
  const latencies = new Float64Array(total);
  let ok = 0;
  let non2xx = 0;
  let errors = 0;
  let sent = 0;
  const pending = new Set<Promise<void>>();
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const fire = (): void => {
    const sentAt = performance.now();
    const done = pool
      .request({ path: url.pathname + url.search, method: 'GET', headers: request.headers ?? {} })
      .then(async (res) => {
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) latencies[ok++] = performance.now() - sentAt;
        else non2xx++;
      })
      .catch(() => {
        errors++;
      });
    pending.add(done);
    void done.finally(() => pending.delete(done));
  };
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
      for (; sent < due; sent++) fire();
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
  await Promise.all(pending);
  const durationSec = (performance.now() - start) / 1000;
  await pool.close();
  const cpu = process.cpuUsage(cpuBefore);
  return {
    durationSec,
    requests2xx: ok,
    non2xx,
    errors,
    timeouts: 0,
    rps: ok / durationSec,
    latencyMs: summarise(latencies.subarray(0, ok)),
    autocannonLatencyMs: { p50: Number.NaN, p99: Number.NaN },
    loadgenCpuSec: (cpu.user + cpu.system) / 1e6,
  };
}
