/** Contract: GreenLake devices and their async operations, as HPE's Postman collection and API reference give them. */
import t from 'tap';
import { contractSession, movesForwardToSuccess, pollAsync, runFamily, schemaErrors } from '../helpers/contract.ts';

const session = await contractSession(t);
await runFamily(t, session, 'glp-devices');

t.test('the async chain HPE documents completes: POST a device, read transactionId, poll to SUCCEEDED', async (t) => {
  const added = await session.api('POST', '/devices/v1/devices', {
    compute: [{ serialNumber: 'CZJCHAIN0001', partNumber: 'P52534-B21' }],
    network: [],
    storage: [],
  });
  t.equal(added.status, 202, 'answers 202', { body: added.text.slice(0, 300) });
  const transactionId = String(added.json()['transactionId']);
  const location = String(added.headers['location']);
  t.equal(location, `/devices/v1/async-operations/${transactionId}`, 'Location names the operation whose id is the transactionId');
  const statuses = await pollAsync(t, session, `/devices/v1/async-operations/${encodeURIComponent(transactionId)}`, 'glp-devices#asyncOperation');
  t.ok(movesForwardToSuccess(statuses), `the operation moves forward to SUCCEEDED (saw ${statuses.join(' -> ')})`);
});

t.test("filter=serialNumber eq '...' answers only that device", async (t) => {
  const all = (await session.api('GET', '/devices/v1/devices')).json<{ items: { serialNumber: string }[] }>();
  const serial = all.items.at(-1)?.serialNumber ?? '';
  const answer = await session.api('GET', `/devices/v1/devices?filter=${encodeURIComponent(`serialNumber eq '${serial}'`)}`);
  t.equal(answer.status, 200, 'answers 200', { body: answer.text.slice(0, 300) });
  const page = answer.json<{ items: { serialNumber: string }[] }>();
  t.same(schemaErrors('glp-devices#deviceList', page), [], 'matches glp-devices#deviceList');
  t.ok(page.items.length >= 1, 'the device is found');
  t.same([...new Set(page.items.map((item) => item.serialNumber))], [serial], 'and no other');
});

t.test('limit=2000, the documented maximum and default, is accepted', async (t) => {
  const answer = await session.api('GET', '/devices/v1/devices?limit=2000&offset=0');
  t.equal(answer.status, 200, 'answers 200', { body: answer.text.slice(0, 300) });
  t.same(schemaErrors('glp-devices#deviceList', answer.json()), [], 'matches glp-devices#deviceList');
});
