/** Contract: GreenLake's error body, on the answers every platform API shares (401, 404, 5xx). */
import t from 'tap';
import { call } from '../helpers/index.ts';
import { contractSession, schemaErrors } from '../helpers/contract.ts';

const session = await contractSession(t);

t.test('a request without a token answers 401 in GreenLake\'s error shape', async (t) => {
  const answer = await call(session.agent, `${session.emu.url}/devices/v1/devices`);
  t.equal(answer.status, 401, 'answers 401', { body: answer.text.slice(0, 300) });
  t.match(answer.headers['content-type'], /^application\/json/);
  const body = answer.json();
  t.same(schemaErrors('errors#greenlakeError', body), [], 'matches errors#greenlakeError');
  t.equal(body['httpStatusCode'], 401, 'httpStatusCode repeats the status');
});

t.test('an unknown device answers 404 in GreenLake\'s error shape', async (t) => {
  const answer = await session.api('GET', '/devices/v1/devices/00000000-0000-4000-8000-000000000000');
  t.equal(answer.status, 404, 'answers 404', { body: answer.text.slice(0, 300) });
  const body = answer.json();
  t.same(schemaErrors('errors#greenlakeError', body), [], 'matches errors#greenlakeError');
  t.equal(body['httpStatusCode'], 404, 'httpStatusCode repeats the status');
});

t.test('a 5xx carries errorDetails[].retryAfterSeconds, as HPE\'s 500 examples do', async (t) => {
  session.emu.setApiFault({ kind: 'status', status: 503, times: 1 });
  t.teardown(() => session.emu.setApiFault(undefined));
  const answer = await session.api('GET', '/devices/v1/devices');
  t.equal(answer.status, 503, 'answers 503', { body: answer.text.slice(0, 300) });
  t.same(schemaErrors('errors#serverError', answer.json()), [], 'matches errors#serverError');
  t.notOk('retry-after' in answer.headers, 'no Retry-After: HPE documents none');
});
