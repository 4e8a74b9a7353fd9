/**
 * The request table itself: every request of HPE's GreenLake platform Postman collection has
 * its row, every row can be sent (each param has a source) and checked (its schema exists),
 * and every family has its test file, so a resource the emulator lacks shows as a failing test.
 */
import { existsSync, readFileSync } from 'node:fs';
import t from 'tap';
import { assertSchemaRefResolves } from '../helpers/contract.ts';
import { COLLECTION_REQUEST_COUNT, FAMILIES, REQUESTS, type ContractRequest } from './requests.ts';

const collectionRows = REQUESTS.filter((request) => request.source === 'collection');

t.test('the table has a row for each of the collection\'s 71 requests, none twice', async (t) => {
  t.equal(collectionRows.length, COLLECTION_REQUEST_COUNT);
  const keys = collectionRows.map((request) => `${request.folder ?? ''} :: ${request.name}`);
  t.same(keys.filter((key, i) => keys.indexOf(key) !== i), [], 'no (folder, name) appears twice');
});

t.test('every family has its test file and its schema file', async (t) => {
  for (const family of FAMILIES) {
    t.ok(existsSync(new URL(`${family}.test.ts`, import.meta.url)), `test/contract/${family}.test.ts`);
    t.ok(existsSync(new URL(`schemas/${family}.json`, import.meta.url)), `test/contract/schemas/${family}.json`);
  }
});

t.test('every row names a schema that exists, or documents an empty answer', async (t) => {
  for (const request of REQUESTS) {
    if (request.schema === undefined) {
      t.ok([202, 204].includes(request.status), `${request.name}: no body only for 202/204`);
      continue;
    }
    t.doesNotThrow(() => assertSchemaRefResolves(request.schema ?? ''), `${request.name}: ${request.schema}`);
  }
});

t.test('every :param and {value} of a row has a source', async (t) => {
  for (const request of REQUESTS) {
    const wanted = new Set(placeholders(request));
    t.same([...wanted].filter((name) => request.params?.[name] === undefined), [], `${request.name}: ${[...wanted].join(', ') || 'none'}`);
  }
});

function placeholders(request: ContractRequest): string[] {
  const fromPath = [...request.path.matchAll(/:([A-Za-z][\w-]*)/g)].map((match) => match[1] ?? '');
  const text = `${request.query ?? ''} ${JSON.stringify(request.body ?? null)}`;
  const fromRest = [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '');
  return [...fromPath, ...fromRest];
}

/** Set HPE_POSTMAN_COLLECTION to a copy of HPE's collection to compare the table with it (the tests never fetch it). */
const collectionFile = process.env['HPE_POSTMAN_COLLECTION'];
t.test('the table matches HPE\'s collection, request by request', { skip: collectionFile === undefined ? 'HPE_POSTMAN_COLLECTION is not set' : false }, async (t) => {
  const collection = JSON.parse(readFileSync(collectionFile ?? '', 'utf8')) as { item: PostmanItem[] };
  const fromCollection = requestsIn(collection.item).sort();
  const fromTable = collectionRows.map((request) => `${request.method} ${request.path} :: ${request.name}`).sort();
  t.same(fromTable, fromCollection);
});

interface PostmanItem {
  name: string;
  item?: PostmanItem[];
  request?: { method: string; url: string | { raw: string; path?: string[] } };
}

const TOKEN_HOSTS: Record<string, string> = {
  '{{sso_URI}}': '/as/token.oauth2',
  '{{TokenIssuerURL}}': '/authorization/v2/oauth2/:workspaceId/token',
};

function requestsIn(items: readonly PostmanItem[]): string[] {
  return items.flatMap((item) => {
    if (item.item !== undefined) return requestsIn(item.item);
    const url = item.request?.url;
    if (url === undefined || typeof url === 'string') return [];
    const host = /^https:\/\/(\{\{\w+\}\})$/.exec(url.raw)?.[1];
    const path = host !== undefined ? TOKEN_HOSTS[host] : `/${(url.path ?? []).join('/')}`;
    return [`${item.request?.method} ${path} :: ${item.name}`];
  });
}
