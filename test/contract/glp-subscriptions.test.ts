/** Contract: GreenLake subscriptions, auto-subscription settings and their async operations, as HPE's Postman collection and API reference give them. */
import t from 'tap';
import { contractSession, movesForwardToSuccess, pollAsync, runFamily } from '../helpers/contract.ts';

const session = await contractSession(t);
await runFamily(t, session, 'glp-subscriptions');

t.test('adding a subscription key answers 202 and its async operation reaches SUCCEEDED', async (t) => {
  const added = await session.api('POST', '/subscriptions/v1/subscriptions', { subscriptions: [{ key: 'CONTRACTCHAIN1' }] });
  t.equal(added.status, 202, 'answers 202', { body: added.text.slice(0, 300) });
  const transactionId = String(added.json()['transactionId']);
  t.equal(added.headers['location'], `/subscriptions/v1/async-operations/${transactionId}`, 'Location names the operation whose id is the transactionId');
  const statuses = await pollAsync(t, session, `/subscriptions/v1/async-operations/${encodeURIComponent(transactionId)}`, 'glp-subscriptions#asyncOperation');
  t.ok(movesForwardToSuccess(statuses), `the operation moves forward to SUCCEEDED (saw ${statuses.join(' -> ')})`);
});
