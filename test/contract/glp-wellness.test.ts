/** Contract: GreenLake wellness v2 (events, support cases, async operations), as HPE's Postman collection and API reference give them. */
import t from 'tap';
import { contractSession, runFamily, schemaErrors } from '../helpers/contract.ts';

const session = await contractSession(t);
await runFamily(t, session, 'glp-wellness');

t.test('events page with the opaque next cursor', async (t) => {
  const first = await session.api('GET', '/wellness/v2/events?limit=1');
  t.equal(first.status, 200, 'answers 200', { body: first.text.slice(0, 300) });
  const page = first.json<{ items: { id: string }[]; total: number; next: string }>();
  t.same(schemaErrors('glp-wellness#eventList', page), [], 'matches glp-wellness#eventList');
  t.ok(page.total > 1, 'the emulator holds more than one event, so there is a next page');
  const second = await session.api('GET', `/wellness/v2/events?limit=1&next=${encodeURIComponent(page.next)}`);
  t.equal(second.status, 200, 'answers 200', { body: second.text.slice(0, 300) });
  const next = second.json<{ items: { id: string }[] }>();
  t.same(schemaErrors('glp-wellness#eventList', next), [], 'matches glp-wellness#eventList');
  t.not(next.items[0]?.id, page.items[0]?.id, 'the cursor moves on');
});
