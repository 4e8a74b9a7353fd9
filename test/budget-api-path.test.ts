import t from 'tap';
import { generalisePath } from '../src/budget/index.ts';

// [what is sent upstream, the API whose budget it spends]
const CASES: ReadonlyArray<readonly [string, string]> = [
  // GreenLake platform: collections keep their words, IDs become {id}, queries never count.
  ['/devices/v1/devices', '/devices/v1/devices'],
  ['/devices/v1/devices?limit=2000&filter=serialNumber%20eq%20%27X%27', '/devices/v1/devices'],
  ['/devices/v1/devices/0f9a8b7c-6d5e-4f3a-9b2c-1d0e9f8a7b6c', '/devices/v1/devices/{id}'],
  ['/devices/v1/async-operations/8e3c2b1a-0f9e-4d8c-b7a6-5f4e3d2c1b0a', '/devices/v1/async-operations/{id}'],
  ['/identity/v1/users', '/identity/v1/users'],
  ['/identity/v1/users/42', '/identity/v1/users/{id}'],
  ['/subscriptions/v1alpha1/subscriptions', '/subscriptions/v1alpha1/subscriptions'],
  ['/workspaces/v1/workspaces/3f2504e04f8941d39a0c0305e82c3301/contact', '/workspaces/v1/workspaces/{id}/contact'],
  ['/authorization/v2/oauth2/3f2504e04f8941d39a0c0305e82c3301/token', '/authorization/v2/oauth2/{id}/token'],
  // COM: server IDs are product number + serial, raw or with the + percent-encoded.
  ['/compute-ops-mgmt/v1/servers/P07595-B21+MXQ1140XVX', '/compute-ops-mgmt/v1/servers/{id}'],
  ['/compute-ops-mgmt/v1/servers/P07595-B21%2BMXQ1140XVX/raw-inventory', '/compute-ops-mgmt/v1/servers/{id}/raw-inventory'],
  ['/compute-ops-mgmt/v1beta2/jobs/1d2c3b4a5f6e7d8c9b0a1f2e3d4c5b6a', '/compute-ops-mgmt/v1beta2/jobs/{id}'],
  // DSCC: 32-hex volume and host IDs, storage systems by serial, device types keep their digit.
  ['/api/v1/volumes/0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e', '/api/v1/volumes/{id}'],
  ['/api/v1/storage-systems/device-type1/7CE751P312/volumes', '/api/v1/storage-systems/device-type1/{id}/volumes'],
  ['/api/v1/storage-systems/device-type2/2M202205GG', '/api/v1/storage-systems/device-type2/{id}'],
  ['/api/v1/tasks/7c1e5a9f-3b2d-4e8a-9f10-2a3b4c5d6e7f', '/api/v1/tasks/{id}'],
  // Names with spaces or other encoded bytes are values; a trailing slash is kept as sent.
  ['/tags/v1/tags/my%20tag/resources', '/tags/v1/tags/{id}/resources'],
  ['/devices/v1/devices/', '/devices/v1/devices/'],
  ['/a/12/b/34', '/a/{id}/b/{id}'],
  ['/', '/'],
  ['', ''],
];

t.test('generalisePath: the API of a request, by its path with IDs generalised', async (t) => {
  for (const [sent, api] of CASES) t.equal(generalisePath(sent), api, sent === '' ? '(empty)' : sent);
});

t.test('two devices share one budget; users have their own', async (t) => {
  t.equal(generalisePath('/devices/v1/devices/A1B2C3D4E5'), generalisePath('/devices/v1/devices/Z9Y8X7W6V5'));
  t.not(generalisePath('/identity/v1/users'), generalisePath('/devices/v1/devices'));
});
