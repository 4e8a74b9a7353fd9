#!/usr/bin/env -S node --max-semi-space-size=16 --no-memory-reducer
// --max-semi-space-size=16: V8's young generation capped at 16 MiB per semi-space instead of 32,
// about 60 MiB less peak memory under load at no measurable throughput cost.
// --no-memory-reducer: when a busy spell goes quiet, V8's memory reducer collects to shrink
// the heap, and the optimised request path is thrown away (--trace-deopt: wrong maps, missing
// type feedback). What V8 builds again ran 15-20 % more CPU per request, for the rest of the
// process's life. The price: RSS stays at its busy level while idle (test/bench/README.md).
// `npm start` and the container image set the same; the sidecar manifest keeps the reducer.
// Plain JavaScript on purpose: the entry point is the one file Node must load before the
// compile cache is on, and a .ts file there would start Node's TypeScript stripper (about
// 25 MiB of memory) even when every other file is served from the cache. It must also stay
// syntax an old Node can parse, to say which Node it needs. The package runs a copy of it from
// dist/ (npm run build), where run.ts has become run.js.
import * as nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';

if (Number(process.versions.node.split('.')[0]) < 24) {
  process.stderr.write(
    `greenlake-proxy: needs Node.js 24 or later, this is ${process.version}: install it from https://nodejs.org/ (or \`nvm install 24\`), then run it again\n`,
  );
  process.exit(2);
}

// Stripped types and compiled code of every module below are cached on disk, in
// node_modules/.cache/node-compile-cache (NODE_COMPILE_CACHE chooses another directory,
// NODE_DISABLE_COMPILE_CACHE=1 turns it off). A start from the cache is faster and never loads
// the stripper. The container image ships the cache read-only; a cache that cannot be written
// changes nothing.
nodeModule.enableCompileCache(process.env.NODE_COMPILE_CACHE ?? fileURLToPath(new URL('../../node_modules/.cache/node-compile-cache', import.meta.url)));

const { runCli } = await import('./run.ts');
process.exitCode = await runCli(process.argv.slice(2), process.env);
