/**
 * Workspaces v1 (workspace, its contact, API client credentials, MSP tenants), identity users and
 * IAM organizations (X-RateLimit-* headers; list 5/min, by id 100/min per subject).
 */
import { randomBytes } from 'node:crypto';
import { CREATED_AT, indices, SAMPLE_WORKSPACE_ID, SAMPLE_WORKSPACE_NAME, stableHex, stableUuid, UPDATED_AT } from '../data/ids.ts';
import { ResourceError } from '../errors.ts';
import type { CustomAnswer, CustomRequest, Item, ResourceDeclaration } from '../types.ts';
import { offsetList, PER_MINUTE } from './common.ts';

const WORKSPACE_ID = /^[0-9a-f]{32}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Any well-formed workspace id answers, so a script may use the workspace its token names. */
function workspace(id: string): Item {
  return {
    id,
    type: 'workspace',
    workspaceName: id === SAMPLE_WORKSPACE_ID ? SAMPLE_WORKSPACE_NAME : `Workspace ${id.slice(0, 8)}`,
    generation: 1,
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
    createdBy: 'demo.user@example.com',
  };
}

function workspaceRoute(request: CustomRequest, answer: (id: string) => Item): CustomAnswer {
  const id = request.params['workspaceId'] ?? '';
  if (!WORKSPACE_ID.test(id)) throw new ResourceError(404, `workspace ${id} not found`);
  return { status: 200, body: answer(id) };
}

function contact(): Item {
  return {
    address: { streetAddress: '1701 E Mossy Oaks Rd', streetAddressComplement: '', city: 'Spring', stateOrRegion: 'TX', zip: '77389', countryCode: 'US' },
    phoneNumber: '+1 555 0100',
    email: 'admin@example.com',
  };
}

function sampleCredential(i: number): Item {
  const id = stableUuid(`credential:${i}`);
  return {
    id,
    credentialName: `automation-${i + 1}`,
    clientId: stableUuid(`credential-client:${i}`),
    type: 'workspaces/credential',
    generation: 1,
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
    associatedTenant: { resourceUri: `/workspaces/v1/workspaces/${SAMPLE_WORKSPACE_ID}`, tenantName: SAMPLE_WORKSPACE_NAME },
    associatedServiceManagerProvision: { resourceUri: `/service-catalog/v1/service-manager-provisions/${stableUuid('provision:0')}` },
  };
}

/** The secret is shown once: in the create and reset answers, never in a list. */
function withNewSecret(credential: Item): Item {
  return { ...credential, clientSecret: randomBytes(24).toString('hex') };
}

function newCredential(items: Map<string, Item>, body: Item, id: string, now: string): Item {
  if (typeof body['credentialName'] !== 'string' || body['credentialName'] === '') throw new ResourceError(400, 'credentialName is required');
  const credential: Item = { ...sampleCredential(0), ...body, id, clientId: stableUuid(`client:${id}`), createdAt: now, updatedAt: now };
  items.set(id, credential);
  return withNewSecret(credential);
}

function resetCredential(request: CustomRequest): CustomAnswer {
  const credential = request.items.get(request.params['credentialId'] ?? '');
  if (credential === undefined) throw new ResourceError(404, 'credential not found');
  Object.assign(credential, { updatedAt: request.now, generation: Number(credential['generation']) + 1 });
  return { status: 200, body: withNewSecret(credential) };
}

function sampleTenant(i: number): Item {
  return { ...workspace(stableHex(`tenant:${i}`)), type: 'msp-tenant', workspaceName: `Tenant ${i + 1}` };
}

function sampleUser(i: number): Item {
  const statuses = ['VERIFIED', 'UNVERIFIED', 'BLOCKED'] as const;
  return {
    id: stableUuid(`user:${i}`),
    type: 'user',
    username: i === 0 ? 'demo.user@example.com' : `user${i}@example.com`,
    generation: 1,
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
    userStatus: statuses[i % statuses.length],
    lastLogin: UPDATED_AT,
  };
}

function sampleOrganization(): Item {
  const id = stableUuid('organization');
  return { id, type: 'organization', name: 'Emulated Organization', description: '', generation: 1, createdAt: CREATED_AT, updatedAt: UPDATED_AT };
}

export const WORKSPACE_RESOURCES: ResourceDeclaration[] = [
  {
    name: 'workspaces',
    errors: 'glp',
    collection: '/workspaces/v1/workspaces',
    seed: () => [],
    routes: [
      { method: 'GET', path: '/workspaces/v1/workspaces/:workspaceId', handle: (request) => workspaceRoute(request, workspace) },
      { method: 'GET', path: '/workspaces/v1/workspaces/:workspaceId/contact', handle: (request) => workspaceRoute(request, contact) },
    ],
  },
  {
    name: 'credentials',
    errors: 'glp',
    collection: '/workspaces/v1/credentials',
    itemPath: '/workspaces/v1/credentials/:id',
    seed: () => indices(2).map(sampleCredential),
    list: { paging: 'count', defaultLimit: 100, maxLimit: 100 },
    create: { answer: 'created', apply: (body, c) => newCredential(c.items, body, c.newId(), c.now()) },
    delete: { answer: 'no-content' },
    routes: [{ method: 'POST', path: '/workspaces/v1/credentials/:credentialId/reset', handle: resetCredential }],
  },
  {
    name: 'msp-tenants',
    errors: 'glp',
    collection: '/workspaces/v1/msp-tenants',
    seed: () => indices(3).map(sampleTenant),
    list: offsetList(100, 300),
    get: {},
    create: { answer: 'message' },
    put: { answer: 'message', status: 200 },
    delete: { answer: 'no-content' },
  },
  {
    name: 'users',
    errors: 'glp',
    collection: '/identity/v1/users',
    seed: () => indices(6).map(sampleUser),
    list: offsetList(300, 600, PER_MINUTE(300)),
    get: { rateLimit: PER_MINUTE(300) },
    create: { answer: 'message', apply: (body, c) => inviteUser(c.items, body, c.newId(), c.now()) },
    put: { answer: 'item', apply: (body, c) => void Object.assign(c.target ?? {}, body, { updatedAt: c.now() }) },
    delete: { answer: 'no-content' },
  },
  {
    name: 'organizations',
    errors: 'glp',
    rateHeaders: 'iam',
    collection: '/organizations/v1alpha1/organizations',
    seed: () => [sampleOrganization()],
    list: offsetList(100, 100, PER_MINUTE(5)),
    get: { rateLimit: PER_MINUTE(100) },
  },
];

function inviteUser(items: Map<string, Item>, body: Item, id: string, now: string): Item {
  if (typeof body['email'] !== 'string' || !body['email'].includes('@')) throw new ResourceError(400, 'email is required');
  const user: Item = { ...sampleUser(1), id, username: body['email'], userStatus: 'UNVERIFIED', createdAt: now, updatedAt: now, lastLogin: now };
  items.set(id, user);
  return user;
}
