/** Contract: Data Services Cloud Console v1 storage systems, volumes, tasks, audit events and errors, as HPE's DSCC OpenAPI 1.2.0 gives them. */
import t from 'tap';
import { contractSession, runFamily, schemaErrors } from '../helpers/contract.ts';

const session = await contractSession(t);
await runFamily(t, session, 'dscc');

for (const path of ['/api/v1/storage-systems', '/api/v1/volumes', '/api/v1/tasks', '/api/v1/audit-events']) {
  t.test(`${path} pages with limit and offset, echoed as pageLimit and pageOffset`, async (t) => {
    const answer = await session.api('GET', `${path}?limit=2&offset=1`);
    t.equal(answer.status, 200, 'answers 200', { body: answer.text.slice(0, 300) });
    const page = answer.json<{ items: unknown[]; pageLimit: number; pageOffset: number; total: number }>();
    t.equal(page.pageLimit, 2);
    t.equal(page.pageOffset, 1);
    t.ok(Array.isArray(page.items) && page.items.length <= 2, 'at most limit items');
    t.ok(page.total >= page.items.length, 'total counts every item');
  });
}

t.test('the taskUri of an accepted write names a task that GET /api/v1/tasks/{id} answers', async (t) => {
  const systemId = (await session.api('GET', '/api/v1/storage-systems')).json<{ items: { id: string }[] }>().items[0]?.id ?? '';
  const accepted = await session.api('POST', `/api/v1/storage-systems/device-type1/${encodeURIComponent(systemId)}/volumes`, {
    name: 'contract-vol-2',
    userCpg: 'SSD_r6',
    sizeMib: 16384,
  });
  t.equal(accepted.status, 202, 'answers 202', { body: accepted.text.slice(0, 300) });
  const taskUri = String(accepted.json()['taskUri']);
  const taskPath = new URL(taskUri, session.emu.url).pathname;
  t.match(taskPath, /^\/api\/v1\/tasks\/[^/]+$/, 'taskUri points at /api/v1/tasks/{id}');
  const task = await session.api('GET', taskPath);
  t.equal(task.status, 200, 'answers 200', { body: task.text.slice(0, 300) });
  t.same(schemaErrors('dscc#task', task.json()), [], 'matches dscc#task');
});

t.test('an unknown volume answers 404 in the DSCC error shape', async (t) => {
  const answer = await session.api('GET', '/api/v1/volumes/no-such-volume');
  t.equal(answer.status, 404, 'answers 404', { body: answer.text.slice(0, 300) });
  t.same(schemaErrors('dscc#error', answer.json()), [], 'matches dscc#error');
});

t.test('an unknown task answers 404 with error, errorCode and traceId', async (t) => {
  const answer = await session.api('GET', '/api/v1/tasks/no-such-task');
  t.equal(answer.status, 404, 'answers 404', { body: answer.text.slice(0, 300) });
  t.same(schemaErrors('dscc#taskError', answer.json()), [], 'matches dscc#taskError');
});
