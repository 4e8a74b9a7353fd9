/**
 * A bare @fastify/http-proxy with default options and a fixed Authorization header:
 * no token logic, no logging, no checks. Shows what greenlake-proxy's features cost.
 * argv: <upstream origin> <prefix>; env BENCH_AUTHORIZATION: the Authorization value. Reports
 * `{ port }` over IPC once listening.
 */
import proxy from '@fastify/http-proxy';
import Fastify from 'fastify';

const [upstream, prefix] = process.argv.slice(2);
const authorization = process.env.BENCH_AUTHORIZATION;
if (upstream === undefined || prefix === undefined || authorization === undefined) {
  throw new Error('usage: BENCH_AUTHORIZATION=<value> bare-proxy.ts <upstream> <prefix>');
}

const app = Fastify();
await app.register(proxy, {
  upstream,
  prefix,
  replyOptions: {
    rewriteRequestHeaders: (_request, headers) => ({ ...headers, authorization }),
  },
});
app.get('/-/readyz', async () => ({ status: 'ready' }));
try {
  await app.listen({ host: '127.0.0.1', port: 0 });
} catch (err) {
  process.send?.({ error: `bare @fastify/http-proxy: cannot listen: ${(err as Error).message}` });
  process.exit(1);
}
const address = app.server.address();
process.send?.({ port: typeof address === 'object' && address !== null ? address.port : 0 });
process.on('disconnect', () => process.exit(0));
process.on('SIGTERM', () => {
  void app.close().then(() => process.exit(0));
});
