/** Contract: GreenLake identity (users) and API client credentials, as HPE's Postman collection and API reference give them. */
import t from 'tap';
import { contractSession, runFamily, schemaErrors } from '../helpers/contract.ts';

const session = await contractSession(t);
await runFamily(t, session, 'glp-identity');

t.test('limit=600, the documented maximum for users, is accepted', async (t) => {
  const answer = await session.api('GET', '/identity/v1/users?offset=0&limit=600');
  t.equal(answer.status, 200, 'answers 200', { body: answer.text.slice(0, 300) });
  t.same(schemaErrors('glp-identity#userList', answer.json()), [], 'matches glp-identity#userList');
});

t.test("filter=username eq '...' answers only that user", async (t) => {
  const all = (await session.api('GET', '/identity/v1/users')).json<{ items: { username: string }[] }>();
  const username = all.items[0]?.username ?? '';
  const page = (await session.api('GET', `/identity/v1/users?filter=${encodeURIComponent(`username eq '${username}'`)}`)).json<{
    items: { username: string }[];
  }>();
  t.same(page.items.map((item) => item.username), [username]);
});
