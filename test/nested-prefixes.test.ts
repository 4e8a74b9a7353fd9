import t from 'tap';
import { call, client, configFor, emulator, proxy } from './helpers/index.ts';

t.test('nested route prefixes: the longest prefix a request starts with picks its route, in whatever order they are configured', async (t) => {
  const emu = await emulator(t);
  // Each route's upstream base path says which route forwarded the request.
  const outer = { prefix: '/lab', upstream: `${emu.url}/echo/outer` };
  const inner = { prefix: '/lab/deep', upstream: `${emu.url}/echo/inner` };
  for (const routes of [[outer, inner], [inner, outer]]) {
    const gw = await proxy(t, configFor(emu, { routes }));
    const http = client(t);
    const seen = async (path: string): Promise<unknown> => (await call(http, gw.url + path)).json().rawUrl;
    const order = routes[0] === outer ? 'shorter first' : 'longer first';
    t.equal(await seen('/lab/deep/x?q=1'), '/echo/inner/x?q=1', `${order}: under the longer prefix, its route`);
    t.equal(await seen('/lab/deep'), '/echo/inner', `${order}: the longer prefix itself`);
    t.equal(await seen('/lab/deeper/x'), '/echo/outer/deeper/x', `${order}: not at a segment boundary of the longer one: the shorter`);
    t.equal(await seen('/lab/x'), '/echo/outer/x', `${order}: elsewhere under the shorter prefix, its route`);
  }
});
