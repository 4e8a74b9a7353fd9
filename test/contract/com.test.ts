/** Contract: Compute Ops Management v1 servers, groups, jobs and errors, as HPE's COM API reference gives them. */
import t from 'tap';
import { contractSession, runFamily, schemaErrors } from '../helpers/contract.ts';

const session = await contractSession(t);
await runFamily(t, session, 'com');

t.test('an unknown server answers 404 in COM\'s error shape (HPE-GL-COMPUTE_OPS-... codes)', async (t) => {
  const answer = await session.api('GET', `/compute-ops-mgmt/v1/servers/${encodeURIComponent('P00000-B21+NOSUCHSERVER')}`);
  t.equal(answer.status, 404, 'answers 404', { body: answer.text.slice(0, 300) });
  const body = answer.json();
  t.same(schemaErrors('com#error', body), [], 'matches com#error');
  t.equal(body['httpStatusCode'], 404, 'httpStatusCode repeats the status');
});

t.test('servers page with limit and offset', async (t) => {
  const answer = await session.api('GET', '/compute-ops-mgmt/v1/servers?limit=2&offset=1');
  t.equal(answer.status, 200, 'answers 200', { body: answer.text.slice(0, 300) });
  const page = answer.json<{ offset: number; count: number; total: number; items: unknown[] }>();
  t.same(schemaErrors('com#serverList', page), [], 'matches com#serverList');
  t.equal(page.offset, 1, 'offset echoes the query');
  t.ok(page.items.length <= 2 && page.count === page.items.length, 'count is the number of items, at most limit');
});
