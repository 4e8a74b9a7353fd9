// The container image's HEALTHCHECK command (src/cli/health.ts): asks the running proxy on the
// listeners its configuration, environment and arguments give it. Plain JavaScript for the same
// reason as main.js: the compile cache is on before any TypeScript is loaded.
import * as nodeModule from 'node:module';
import { fileURLToPath } from 'node:url';

nodeModule.enableCompileCache(process.env.NODE_COMPILE_CACHE ?? fileURLToPath(new URL('../../node_modules/.cache/node-compile-cache', import.meta.url)));

const { runHealthcheck } = await import('./health.ts');
process.exitCode = await runHealthcheck(process.argv.slice(2), process.env);
