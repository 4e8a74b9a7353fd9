import t from 'tap';
import type { Emulator } from '../../src/emulator/index.ts';
import { configFor, emulator, proxy, type RunningProxy } from '../helpers/index.ts';
import { rawRequest, type RawAnswer } from './support.ts';

type Raw = Record<string, unknown>;

/** configFor's routes, with `rules` merged into the /glp/global route. */
function withGlpRules(emu: Emulator, rules: Raw): Raw {
  const base = configFor(emu);
  const routes = (base['routes'] as Raw[]).map((route) => (route['prefix'] === '/glp/global' ? { ...route, ...rules } : route));
  return { ...base, routes };
}

function send(gw: RunningProxy, method: string, target: string): Promise<RawAnswer> {
  return rawRequest(gw.url, `${method} ${target} HTTP/1.1`, method === 'GET' ? [] : ['Content-Length: 0']);
}

function codeOf(answer: RawAnswer): unknown {
  try {
    return (JSON.parse(answer.body) as Raw)['errorCode'];
  } catch {
    return undefined;
  }
}

t.test('several allow rules: a request passes when any one of them permits it, and only then', async (t) => {
  const emu = await emulator(t);
  const gw = await proxy(
    t,
    withGlpRules(emu, {
      allow: [
        { methods: ['GET'], paths: ['/devices/v1/devices'] },
        { methods: ['GET'], paths: ['/locations/**'] },
      ],
    }),
  );
  const devices = await send(gw, 'GET', '/glp/global/devices/v1/devices');
  t.equal(devices.status, 200, 'permitted by the first rule alone');
  const locations = await send(gw, 'GET', '/glp/global/locations/v1/locations');
  t.not(codeOf(locations), 'GREENLAKE_PROXY_NOT_ALLOWED', 'permitted by the second rule alone');
  t.not(locations.status, 403);
  t.equal(emu.apiRequestCount, 2, 'both reached the upstream');
  const neither = await send(gw, 'GET', '/glp/global/subscriptions/v1/subscriptions');
  t.equal(neither.status, 403, 'a path no rule names is refused');
  t.equal(codeOf(neither), 'GREENLAKE_PROXY_NOT_ALLOWED');
  const wrongMethod = await send(gw, 'DELETE', '/glp/global/devices/v1/devices');
  t.equal(codeOf(wrongMethod), 'GREENLAKE_PROXY_NOT_ALLOWED', 'a path named only with another method is refused');
  t.equal(emu.apiRequestCount, 2, 'the refused ones reached no one');
});
