/**
 * Micro-benchmark of what per-API budgets add to every request: the budget key (the generalised
 * path and one string) and the open-budget check (one Map lookup). Run: npx node test/bench/budget-key.ts
 */
import { generalisePath, RateBudgets } from '../../src/budget/index.ts';

const PATHS = [
  '/devices/v1/devices?limit=100',
  '/devices/v1/devices/0f9a8b7c-6d5e-4f3a-9b2c-1d0e9f8a7b6c',
  '/compute-ops-mgmt/v1/servers/P07595-B21%2BMXQ1140XVX',
  '/api/v1/storage-systems/device-type1/7CE751P312/volumes?limit=50&offset=0',
  '/identity/v1/users',
];
const ORIGIN = 'https://global.api.greenlake.hpe.com';
const ROUNDS = 2_000_000;

function measure(name: string, step: (i: number) => unknown): void {
  let sink = 0;
  for (let i = 0; i < 200_000; i++) sink += step(i) === undefined ? 0 : 1; // warm-up: optimised code
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) sink += step(i) === undefined ? 0 : 1;
  const ns = Number(process.hrtime.bigint() - start) / ROUNDS;
  console.log(`${name.padEnd(40)} ${ns.toFixed(1)} ns/request${sink < 0 ? '' : ''}`);
}

const budgets = new RateBudgets({ maxWaitMs: 5000, retryIdempotent: true });
const team = { client: 'team', tenant: undefined };
measure('generalisePath', (i) => generalisePath(PATHS[i % PATHS.length]!));
measure('keyFor', (i) => budgets.keyFor(team, 'GET', ORIGIN, PATHS[i % PATHS.length]!));
measure('keyFor + blockedUntil (open budget)', (i) => budgets.blockedUntil(budgets.keyFor(team, 'GET', ORIGIN, PATHS[i % PATHS.length]!)));
const prebuilt = PATHS.map((p) => budgets.keyFor(team, 'GET', ORIGIN, p));
measure('blockedUntil alone (key prebuilt)', (i) => budgets.blockedUntil(prebuilt[i % PATHS.length]!));
const answer = { 'ratelimit-limit': '160', 'ratelimit-remaining': '120', 'ratelimit-reset': '30' };
measure('keyFor + blockedUntil + observe (headers)', (i) => {
  const key = budgets.keyFor(team, 'GET', ORIGIN, PATHS[i % PATHS.length]!);
  budgets.blockedUntil(key);
  budgets.observe(key, 200, answer);
  return key;
});
