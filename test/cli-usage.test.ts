// The command line's own answers: help, refused options, look-alike variables.
import t from 'tap';
import { runCli } from './helpers/cli.ts';

t.test('a variable that looks like ours but is not: a warning naming the closest known one', async (t) => {
  const res = await runCli(['hash-key', '--generate'], { GREENLAKE_TOKEN_ULR: 'https://x', GREENLAKE_PROXY_PROT: '9', MY_OWN_SECRET: 'x' });
  t.equal(res.code, 0, 'a warning, not a refusal');
  t.match(res.stderr, /warning: GREENLAKE_TOKEN_ULR .*did you mean GREENLAKE_TOKEN_URL\?/);
  t.match(res.stderr, /warning: GREENLAKE_PROXY_PROT .*did you mean GREENLAKE_PROXY_PORT\?/);
  t.notMatch(res.stderr, /MY_OWN_SECRET/, 'unrelated variables are left alone');
  t.equal((await runCli(['hash-key', '--generate'], { GREENLAKE_TOKEN_URL: 'https://x' })).stderr, '', 'a known variable: no warning');
});

t.test('per-command help, and options a command does not take are refused', async (t) => {
  const viaFlag = await runCli(['token', '--help']);
  const viaHelp = await runCli(['help', 'token']);
  t.equal(viaFlag.code, 0);
  t.equal(viaFlag.stdout, viaHelp.stdout, 'token --help and help token say the same');
  t.match(viaFlag.stdout, /^Usage: greenlake-proxy token \[options\]/);
  t.match(viaFlag.stdout, /--tenant NAME/);
  t.notMatch(viaFlag.stdout, /--online|--generate/, 'only its own options');
  t.match((await runCli(['help'])).stdout, /Commands:[\s\S]*wait[\s\S]*Environment:[\s\S]*GREENLAKE_PROXY_PORT/);
  t.equal((await runCli(['help', 'frobnicate'])).code, 2);

  const foreign = await runCli(['token', '--online']);
  t.equal(foreign.code, 2, 'token --online: refused, not ignored');
  t.match(foreign.stderr, /token does not take --online \(its options: --config, --client, --tenant, --region\)/);
  t.match(foreign.stderr, /Run greenlake-proxy help token for usage/);
  t.match((await runCli(['hash-key', '--port', '1'])).stderr, /hash-key does not take --port/);
  t.match((await runCli(['serve', '--log-format', 'xml'])).stderr, /--log-format: must be pretty or json/);
});

