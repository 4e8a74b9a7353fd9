// Counts the leaf assertions of tap's TAP output and prints `N passed, N failed`.
// A subtest's own closing line is not an assertion: its children are.
// The test output is a log too: a JWT, an API key of the proxy's own format or the emulator's
// demo secret in it counts as a failure.
import { readFileSync } from 'node:fs';

const lines = readFileSync(process.argv[2], 'utf8').split('\n');
const subtestIndents = [];
let passed = 0;
let failed = 0;
let typecheckFailed = false;

for (const line of lines) {
  if (/error TS\d+:/.test(line)) typecheckFailed = true;
  const subtest = /^(\s*)# Subtest/.exec(line);
  if (subtest) {
    subtestIndents.push(subtest[1].length);
    continue;
  }
  const point = /^(\s*)(not ok|ok) \d+/.exec(line);
  if (!point) continue;
  const indent = point[1].length;
  // The point that closes a subtest sits at the indentation of that subtest's header.
  if (subtestIndents.length > 0 && subtestIndents.at(-1) === indent) {
    subtestIndents.pop();
    continue;
  }
  if (/# SKIP|# TODO/i.test(line)) continue;
  if (point[2] === 'ok') passed++;
  else failed++;
}
if (typecheckFailed) failed++;
const credentials = /eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}|glproxy_[\w-]{16,}|demo-secret-[0-9a-f]{8,}/;
const leaked = lines.findIndex((line) => credentials.test(line));
if (leaked !== -1) {
  console.log(`a token or secret appears in the test output, line ${leaked + 1}`);
  failed++;
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed > 0 ? 1 : 0;
