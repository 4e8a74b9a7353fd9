/** Contract: GreenLake audit logs v1, as HPE's Postman collection and API reference give them. */
import t from 'tap';
import { contractSession, runFamily, schemaErrors } from '../helpers/contract.ts';

const session = await contractSession(t);
await runFamily(t, session, 'glp-audit-logs');

t.test('limit=2000, the documented maximum, is accepted and remainingRecords says whether more follow', async (t) => {
  const answer = await session.api('GET', '/audit-log/v1/logs?limit=2000&offset=0');
  t.equal(answer.status, 200, 'answers 200', { body: answer.text.slice(0, 300) });
  const page = answer.json<{ total: number; count: number; remainingRecords?: boolean }>();
  t.same(schemaErrors('glp-audit-logs#auditLogList', page), [], 'matches glp-audit-logs#auditLogList');
  t.type(page.remainingRecords, 'boolean', 'remainingRecords is there');
  const first = (await session.api('GET', '/audit-log/v1/logs?limit=1&offset=0')).json<{ total: number; remainingRecords?: boolean }>();
  t.equal(first.remainingRecords, first.total > 1, 'one item of several leaves records remaining');
});

t.test("filter=user/username eq '...' answers only that user's logs", async (t) => {
  const all = (await session.api('GET', '/audit-log/v1/logs')).json<{ items: { user?: { username?: string } }[] }>();
  const username = all.items[0]?.user?.username ?? '';
  const page = (await session.api('GET', `/audit-log/v1/logs?filter=${encodeURIComponent(`user/username eq '${username}'`)}`)).json<{
    items: { user?: { username?: string } }[];
  }>();
  t.ok(page.items.length >= 1, 'the user has logs');
  t.same([...new Set(page.items.map((item) => item.user?.username))], [username], 'and only theirs are answered');
});
