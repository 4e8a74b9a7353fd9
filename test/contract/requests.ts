/**
 * The requests the contract tests send, each with the answer HPE documents for it.
 *
 * Rows with `source: 'collection'` are every request of HPE's GreenLake platform Postman
 * collection (hpe-dev-incubator/GLP-API-Tooling, `Postman-Collections/APIs for common HPE
 * Greenlake cloud services.postman_collection.json`, commit cd56c30: 71 requests, 69 API calls
 * and the 2 "Step1-Generate Token" requests), in the collection's order within each family,
 * reads before writes and deletes last, with the folder, name, method and path template
 * exactly as the collection writes them (`:param` segments). The expected status is the
 * status of the collection's success example. Query values the collection leaves as
 * placeholders (`<string>`, `<integer>`) are dropped or given a working value; `{name}`
 * marks a value filled in from the emulator's own answers (see `params`).
 * Rows with `source: 'com-reference'` come from HPE's Compute Ops Management API reference,
 * `source: 'dscc-openapi'` from HPE's DSCC OpenAPI spec v1.2.0 (storage-api.json).
 */

export const FAMILIES = [
  'tokens',
  'glp-workspaces',
  'glp-identity',
  'glp-msp-tenants',
  'glp-locations',
  'glp-tags',
  'glp-service-catalog',
  'glp-devices',
  'glp-subscriptions',
  'glp-audit-logs',
  'glp-wellness',
  'com',
  'dscc',
] as const;
export type Family = (typeof FAMILIES)[number];

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Where a `{name}` (query, body) or `:name` (path) value comes from. */
export type Source =
  /** A claim of the access token the session uses. */
  | { readonly claim: string }
  /** A field (dotted path) of an item of a GET list answer: the first, the `index`th, the last, or the first matching `where`. */
  | { readonly list: string; readonly field: string; readonly index?: number | 'last'; readonly where?: Readonly<Record<string, unknown>> }
  /** From the answer of an earlier row of the same run: a body field, or the last path segment of a body field or of the Location header. */
  | { readonly answer: string; readonly field?: string; readonly location?: true; readonly lastSegment?: true }
  | { readonly value: string };

export interface ContractRequest {
  readonly source: 'collection' | 'com-reference' | 'dscc-openapi';
  readonly family: Family;
  /** The collection's folder path, for collection rows (names repeat across folders). */
  readonly folder?: string;
  /** The request's name in HPE's source; rows refer to each other by it. */
  readonly name: string;
  readonly method: Method;
  /** Path template, exactly as HPE's source writes it. */
  readonly path: string;
  readonly query?: string;
  readonly params?: Readonly<Record<string, Source>>;
  /** A JSON body shaped as the collection's; string values `{name}` are filled in. */
  readonly body?: unknown;
  /** The token requests send a client-credentials form and no bearer token. */
  readonly form?: true;
  readonly status: number;
  /** `<schema file>#<$defs name>`; absent when HPE documents an empty body. */
  readonly schema?: string;
  /** The answer carries a Location header; a string is the path it must start with. */
  readonly location?: true | string;
}

const INVITED = 'invited.contract@example.com';

const tokens: ContractRequest[] = [
  {
    source: 'collection', family: 'tokens', folder: 'Step1-Generate Token', name: 'Generate AccessToken',
    method: 'POST', path: '/as/token.oauth2', form: true, status: 200, schema: 'tokens#classicTokenAnswer',
  },
  {
    source: 'collection', family: 'tokens', folder: 'Step1-Generate Token', name: 'Generate AccessToken With TokenIssuerURL',
    method: 'POST', path: '/authorization/v2/oauth2/:workspaceId/token', params: { workspaceId: { claim: 'platform_customer_id' } },
    form: true, status: 200, schema: 'tokens#workspaceTokenAnswer',
  },
];

const WORKSPACE = { workspaceId: { claim: 'platform_customer_id' } } as const;

const workspaces: ContractRequest[] = [
  {
    source: 'collection', family: 'glp-workspaces', folder: 'Step1-Generate Token', name: 'Get workspace information',
    method: 'GET', path: '/workspaces/v1/workspaces/:workspaceId', params: WORKSPACE, status: 200, schema: 'glp-workspaces#workspace',
  },
  {
    source: 'collection', family: 'glp-workspaces', folder: 'Configuring and Managing GLP Workspace/Step2-IAM/workspaces/v1/workspaces/{workspaceId}/contact',
    name: 'Get detailed workspace information', method: 'GET', path: '/workspaces/v1/workspaces/:workspaceId/contact', params: WORKSPACE,
    status: 200, schema: 'glp-workspaces#contact',
  },
  {
    source: 'collection', family: 'glp-workspaces', folder: 'Configuring and Managing GLP Workspace/Step2-IAM/workspaces/v1/workspaces/{workspaceId}',
    name: 'Get workspace information', method: 'GET', path: '/workspaces/v1/workspaces/:workspaceId', params: WORKSPACE,
    status: 200, schema: 'glp-workspaces#workspace',
  },
];

const USERS_FOLDER = 'Configuring and Managing GLP Workspace/Step2-IAM/identity-user-management/v1/users';
const CREDENTIALS_FOLDER = 'Configuring and Managing GLP Workspace/Step2-IAM/credentials';
const invitedUser = { list: `/identity/v1/users?filter=${encodeURIComponent(`username eq '${INVITED}'`)}`, field: 'id' } as const;

const identity: ContractRequest[] = [
  {
    source: 'collection', family: 'glp-identity', folder: USERS_FOLDER, name: 'Get users by Username',
    method: 'GET', path: '/identity/v1/users', query: "filter=username eq '{username}'",
    params: { username: { list: '/identity/v1/users', field: 'username' } }, status: 200, schema: 'glp-identity#userList',
  },
  {
    source: 'collection', family: 'glp-identity', folder: USERS_FOLDER, name: 'Get users',
    method: 'GET', path: '/identity/v1/users', query: 'filter=&offset=0&limit=300', status: 200, schema: 'glp-identity#userList',
  },
  {
    source: 'collection', family: 'glp-identity', folder: `${USERS_FOLDER}/{id}`, name: 'Get a user',
    method: 'GET', path: '/identity/v1/users/:id', params: { id: { list: '/identity/v1/users', field: 'id' } },
    status: 200, schema: 'glp-identity#user',
  },
  {
    source: 'collection', family: 'glp-identity', folder: USERS_FOLDER, name: 'Invite a user',
    method: 'POST', path: '/identity/v1/users', body: { email: INVITED, sendWelcomeEmail: true },
    status: 201, schema: 'glp-identity#message', location: true,
  },
  {
    source: 'collection', family: 'glp-identity', folder: USERS_FOLDER, name: 'Get Invited users by Username',
    method: 'GET', path: '/identity/v1/users', query: `filter=username eq '${INVITED}'`, status: 200, schema: 'glp-identity#userList',
  },
  {
    source: 'collection', family: 'glp-identity', folder: `${USERS_FOLDER}/{id}`, name: 'Update a user',
    method: 'PUT', path: '/identity/v1/users/:id', params: { id: invitedUser }, body: { language: 'en', idleTimeout: 1800 },
    status: 200, schema: 'glp-identity#userUpdated',
  },
  {
    source: 'collection', family: 'glp-identity', folder: CREDENTIALS_FOLDER, name: 'Get list of credentials',
    method: 'GET', path: '/workspaces/v1/credentials', query: 'filter=', status: 200, schema: 'glp-identity#credentialList',
  },
  {
    source: 'collection', family: 'glp-identity', folder: CREDENTIALS_FOLDER, name: 'Create a credential',
    method: 'POST', path: '/workspaces/v1/credentials',
    params: { provision: { list: '/service-catalog/v1/service-manager-provisions', field: 'resourceUri' } },
    body: { credentialName: 'contract-test-client', associatedServiceManagerProvision: { resourceUri: '{provision}' } },
    status: 201, schema: 'glp-identity#credentialWithSecret', location: true,
  },
  {
    source: 'collection', family: 'glp-identity', folder: `${CREDENTIALS_FOLDER}/{credentialId}`, name: 'Reset a credential',
    method: 'POST', path: '/workspaces/v1/credentials/:credentialId/reset',
    params: { credentialId: { answer: 'Create a credential', field: 'id' } }, status: 200, schema: 'glp-identity#credentialWithSecret',
  },
  {
    source: 'collection', family: 'glp-identity', folder: `${CREDENTIALS_FOLDER}/{credentialId}`, name: 'Delete a credential',
    method: 'DELETE', path: '/workspaces/v1/credentials/:credentialId',
    params: { credentialId: { answer: 'Create a credential', field: 'id' } }, status: 204,
  },
  {
    source: 'collection', family: 'glp-identity', folder: `${USERS_FOLDER}/{id}`, name: 'Disassociate a user',
    method: 'DELETE', path: '/identity/v1/users/:id', params: { id: invitedUser }, status: 204,
  },
];

const TENANTS_FOLDER = 'Configuring and Managing GLP Workspace/Step2-IAM/workspaces/v1/msp-tenants';
const TENANT_ADDRESS = {
  countryCode: 'GB', streetAddress: '1 Contract Street', streetAddressComplement: 'Floor 2', city: 'London', stateOrRegion: 'London', zip: 'EC1A 1AA',
};
const lastTenant = { tenantId: { list: '/workspaces/v1/msp-tenants?offset=0&limit=300', field: 'id', index: 'last' } } as const;

const mspTenants: ContractRequest[] = [
  {
    source: 'collection', family: 'glp-msp-tenants', folder: TENANTS_FOLDER, name: 'Get list of MSP Tenants',
    method: 'GET', path: '/workspaces/v1/msp-tenants', query: 'offset=0&limit=300', status: 200, schema: 'glp-msp-tenants#tenantList',
  },
  {
    source: 'collection', family: 'glp-msp-tenants', folder: TENANTS_FOLDER, name: 'Create MSP customer workspace',
    method: 'POST', path: '/workspaces/v1/msp-tenants',
    body: { workspaceName: 'Contract Tenant', address: TENANT_ADDRESS, phoneNumber: '+44 20 7946 0000', email: 'tenant.admin@example.com', description: 'Created by the contract tests' },
    status: 201, schema: 'glp-msp-tenants#message', location: true,
  },
  {
    source: 'collection', family: 'glp-msp-tenants', folder: `${TENANTS_FOLDER}/{tenantId}`, name: 'Update managed service tenant',
    method: 'PUT', path: '/workspaces/v1/msp-tenants/:tenantId', params: lastTenant,
    body: { workspaceName: 'Contract Tenant Renamed', address: TENANT_ADDRESS, phoneNumber: '+44 20 7946 0001', email: 'tenant.admin@example.com', description: 'Updated by the contract tests' },
    status: 200, schema: 'glp-msp-tenants#message',
  },
  {
    source: 'collection', family: 'glp-msp-tenants', folder: `${TENANTS_FOLDER}/{tenantId}`, name: 'Delete a managed service tenant',
    method: 'DELETE', path: '/workspaces/v1/msp-tenants/:tenantId', params: lastTenant, status: 204,
  },
];

const LOCATIONS_FOLDER = 'Configuring and Managing GLP Workspace/Step3-Locations, Tags/locations/v1/locations';
const firstLocation = { id: { list: '/locations/v1/locations?offset=0&limit=100', field: 'id' } } as const;
const createdLocation = { id: { answer: 'Create a Location', field: 'id' } } as const;

const locations: ContractRequest[] = [
  {
    source: 'collection', family: 'glp-locations', folder: LOCATIONS_FOLDER, name: 'Lists all locations',
    method: 'GET', path: '/locations/v1/locations', query: 'offset=0&limit=100', status: 200, schema: 'glp-locations#locationList',
  },
  {
    source: 'collection', family: 'glp-locations', folder: `${LOCATIONS_FOLDER}/{id}`, name: 'Retrieve a location',
    method: 'GET', path: '/locations/v1/locations/:id', params: firstLocation, status: 200, schema: 'glp-locations#location',
  },
  {
    source: 'collection', family: 'glp-locations', folder: `${LOCATIONS_FOLDER}/tags`, name: 'Get tags for a workspace',
    method: 'GET', path: '/locations/v1/locations/tags', query: 'offset=0&limit=100', status: 200, schema: 'glp-locations#tagList',
  },
  {
    source: 'collection', family: 'glp-locations', folder: `${LOCATIONS_FOLDER}/tags`, name: 'Retrieves tags for given a location',
    method: 'GET', path: '/locations/v1/locations/tags/:id', params: firstLocation, status: 200, schema: 'glp-locations#locationTags',
  },
  {
    source: 'collection', family: 'glp-locations', folder: LOCATIONS_FOLDER, name: 'Retrieve location from latitude and longitude.',
    method: 'GET', path: '/locations/v1/locations/address/revgeocode', query: 'latitude=51.5072&longitude=-0.1276&language=en',
    status: 200, schema: 'glp-locations#reverseGeocode',
  },
  {
    source: 'collection', family: 'glp-locations', folder: LOCATIONS_FOLDER, name: 'Create a Location',
    method: 'POST', path: '/locations/v1/locations',
    body: {
      name: 'Contract Lab', description: 'Created by the contract tests', locationType: 'building',
      addresses: [{ streetAddress: '1 Contract Street', city: 'London', state: 'London', postalCode: 'EC1A 1AA', country: 'GB', type: 'street' }],
      contacts: [{ name: 'Lab Admin', email: 'lab.admin@example.com', phoneNumber: '+44 20 7946 0002', type: 'primary' }],
    },
    status: 200, schema: 'glp-locations#locationWritten',
  },
  {
    source: 'collection', family: 'glp-locations', folder: `${LOCATIONS_FOLDER}/{id}`, name: 'Update a location',
    method: 'PATCH', path: '/locations/v1/locations/:id', params: createdLocation,
    body: { name: 'Contract Lab 2', description: 'Updated by the contract tests' }, status: 200, schema: 'glp-locations#locationWritten',
  },
  {
    source: 'collection', family: 'glp-locations', folder: LOCATIONS_FOLDER, name: 'Manage a location',
    method: 'PATCH', path: '/locations/v1/locations/update/:id', params: createdLocation,
    body: {
      addresses: { add: [{ streetAddress: '2 Dock Road', city: 'London', state: 'London', postalCode: 'E16 1AA', country: 'GB', type: 'shipping_receiving' }], delete: [], update: [] },
      contacts: { add: [], delete: [], update: [] },
    },
    status: 200, schema: 'glp-locations#locationWritten',
  },
  {
    source: 'collection', family: 'glp-locations', folder: `${LOCATIONS_FOLDER}/tags`, name: 'Create or delete a tag',
    method: 'PATCH', path: '/locations/v1/locations/tags', params: { locationId: { answer: 'Create a Location', field: 'id' } },
    body: { createTags: [{ name: 'team', value: 'contract' }], deleteTags: [], locationId: '{locationId}' },
    status: 200, schema: 'glp-locations#tagsUpdated',
  },
  {
    source: 'collection', family: 'glp-locations', folder: `${LOCATIONS_FOLDER}/{id}`, name: 'Delete a location',
    method: 'DELETE', path: '/locations/v1/locations/:id', params: createdLocation, status: 204,
  },
];

const TAGS_FOLDER = 'Configuring and Managing GLP Workspace/Step3-Locations, Tags/tags/v1';

const tags: ContractRequest[] = [
  {
    source: 'collection', family: 'glp-tags', folder: TAGS_FOLDER, name: 'Get tags associated to a workspace',
    method: 'GET', path: '/tags/v1/tags', query: 'limit=100&offset=0', status: 200, schema: 'glp-tags#tagList',
  },
  {
    source: 'collection', family: 'glp-tags', folder: TAGS_FOLDER, name: 'Get all the tagged resources for a workspace',
    method: 'GET', path: '/tags/v1/tag-resources', query: "filter=resourceType eq 'DEVICE'&limit=100&offset=0",
    status: 200, schema: 'glp-tags#tagResourceList',
  },
];

const CATALOG_FOLDER = 'Configuring and Managing GLP Workspace/Step4-Service Catalog, Devices and Subscriptions/service-catalog/v1';

const serviceCatalog: ContractRequest[] = [
  {
    source: 'collection', family: 'glp-service-catalog', folder: `${CATALOG_FOLDER}/service-managers`, name: 'Get service managers',
    method: 'GET', path: '/service-catalog/v1/service-managers', query: 'offset=0&limit=2000', status: 200, schema: 'glp-service-catalog#serviceManagerList',
  },
  {
    source: 'collection', family: 'glp-service-catalog', folder: `${CATALOG_FOLDER}/service-managers`, name: 'Get a specific service manager',
    method: 'GET', path: '/service-catalog/v1/service-managers/:id', params: { id: { list: '/service-catalog/v1/service-managers', field: 'id' } },
    status: 200, schema: 'glp-service-catalog#serviceManager',
  },
  {
    source: 'collection', family: 'glp-service-catalog', folder: `${CATALOG_FOLDER}/per-region-service-managers`, name: 'Get service managers by region',
    method: 'GET', path: '/service-catalog/v1/per-region-service-managers', query: 'offset=0&limit=2000', status: 200, schema: 'glp-service-catalog#regionList',
  },
  {
    source: 'collection', family: 'glp-service-catalog', folder: `${CATALOG_FOLDER}/per-region-service-managers`,
    name: 'Get service managers deployed in a specific region.', method: 'GET', path: '/service-catalog/v1/per-region-service-managers/:id',
    params: { id: { list: '/service-catalog/v1/per-region-service-managers', field: 'id' } }, status: 200, schema: 'glp-service-catalog#region',
  },
  {
    source: 'collection', family: 'glp-service-catalog', folder: `${CATALOG_FOLDER}/service-manager-provisions`, name: 'Get service manager provisions',
    method: 'GET', path: '/service-catalog/v1/service-manager-provisions', query: "offset=0&limit=2000&filter=status eq 'PROVISIONED'",
    status: 200, schema: 'glp-service-catalog#provisionList',
  },
  {
    source: 'collection', family: 'glp-service-catalog', folder: `${CATALOG_FOLDER}/service-manager-provisions/{id}`,
    name: 'Get a specific service manager provision entry', method: 'GET', path: '/service-catalog/v1/service-manager-provisions/:id',
    params: { id: { list: '/service-catalog/v1/service-manager-provisions', field: 'id' } }, status: 200, schema: 'glp-service-catalog#provision',
  },
  {
    source: 'collection', family: 'glp-service-catalog', folder: `${CATALOG_FOLDER}/service-manager-provisions`,
    name: 'Provision a service manager in a given region', method: 'POST', path: '/service-catalog/v1/service-manager-provisions',
    params: {
      serviceManagerId: { list: '/service-catalog/v1/service-managers', field: 'id', index: 'last' },
      region: { list: '/service-catalog/v1/per-region-service-managers', field: 'id', index: 'last' },
    },
    body: { serviceManagerId: '{serviceManagerId}', region: '{region}' }, status: 201, schema: 'glp-service-catalog#provisionCreated', location: true,
  },
  {
    source: 'collection', family: 'glp-service-catalog', folder: `${CATALOG_FOLDER}/service-manager-provisions/{id}`,
    name: 'Delete a service manager provision entry', method: 'DELETE', path: '/service-catalog/v1/service-manager-provisions/:id',
    params: { id: { answer: 'Provision a service manager in a given region', field: 'id' } }, status: 204,
  },
];

const DEVICES_FOLDER = 'Configuring and Managing GLP Workspace/Step4-Service Catalog, Devices and Subscriptions/devices/v1';
const DEVICE_ASYNC = '/devices/v1/async-operations/';
const oneDevice = { id: { list: '/devices/v1/devices', field: 'id' } } as const;

function patchDevice(name: string, body: unknown, params: Readonly<Record<string, Source>> = {}): ContractRequest {
  return {
    source: 'collection', family: 'glp-devices', folder: `${DEVICES_FOLDER}/devices`, name,
    method: 'PATCH', path: '/devices/v1/devices', query: 'id={id}', params: { ...oneDevice, ...params }, body,
    status: 202, schema: 'glp-devices#asyncAccepted', location: DEVICE_ASYNC,
  };
}

const devices: ContractRequest[] = [
  {
    source: 'collection', family: 'glp-devices', folder: `${DEVICES_FOLDER}/devices`, name: 'Get devices managed in a workspace',
    method: 'GET', path: '/devices/v1/devices', query: "filter=serialNumber eq '{serialNumber}'",
    params: { serialNumber: { list: '/devices/v1/devices', field: 'serialNumber' } }, status: 200, schema: 'glp-devices#deviceList',
  },
  {
    source: 'collection', family: 'glp-devices', folder: `${DEVICES_FOLDER}/devices`, name: 'Get device information',
    method: 'GET', path: '/devices/v1/devices/:id', params: oneDevice, status: 200, schema: 'glp-devices#device',
  },
  {
    source: 'collection', family: 'glp-devices', folder: `${DEVICES_FOLDER}/devices`, name: 'Add devices',
    method: 'POST', path: '/devices/v1/devices',
    body: { compute: [{ serialNumber: 'CZJCONTRACT1', partNumber: 'P52534-B21' }], network: [], storage: [] },
    status: 202, schema: 'glp-devices#asyncAccepted', location: DEVICE_ASYNC,
  },
  {
    source: 'collection', family: 'glp-devices', folder: `${DEVICES_FOLDER}/devices`, name: 'Add devices - Aruba Access Point with Tag',
    method: 'POST', path: '/devices/v1/devices',
    body: { compute: [], storage: [], network: [{ serialNumber: 'CNCONTRACT2', macAddress: '20:4c:03:00:00:02', tags: { Location: 'Lab Building 2' } }] },
    status: 202, schema: 'glp-devices#asyncAccepted', location: DEVICE_ASYNC,
  },
  {
    ...patchDevice('Update devices', { region: 'us-west' }, { other: { list: '/devices/v1/devices', field: 'id', index: 1 } }),
    query: 'id={id}&id={other}',
  },
  patchDevice('Update devices - Assign Application to a device', { application: { id: '{application}' }, region: 'eu-central' }, {
    application: { list: '/service-catalog/v1/service-managers', field: 'id' },
  }),
  patchDevice('Update devices - Unassign Application for a device', { application: {} }),
  patchDevice('Update devices - Unassign Subscription Key for a device', { subscription: [] }),
  patchDevice('Update devices - Assign Subscription key to a device', { subscription: [{ id: '{subscription}' }] }, {
    subscription: { list: '/subscriptions/v1/subscriptions', field: 'id' },
  }),
  {
    source: 'collection', family: 'glp-devices', folder: DEVICES_FOLDER, name: 'Get progress or status of async operations in devices',
    method: 'GET', path: '/devices/v1/async-operations/:id', // As the collection does: the id is the transactionId of the last write (its AsyncOpsTransaction_Id).
    params: { id: { answer: 'Update devices - Assign Subscription key to a device', field: 'transactionId' } },
    status: 200, schema: 'glp-devices#asyncOperation',
  },
];

const SUBSCRIPTIONS_FOLDER = 'Configuring and Managing GLP Workspace/Step4-Service Catalog, Devices and Subscriptions/subscriptions/v1';
const SUBSCRIPTION_ASYNC = '/subscriptions/v1/async-operations/';
const settingsId = { id: { list: '/subscriptions/v1/auto-subscription-settings', field: 'id' } } as const;

const subscriptions: ContractRequest[] = [
  {
    source: 'collection', family: 'glp-subscriptions', folder: `${SUBSCRIPTIONS_FOLDER}/subscriptions`, name: 'Get subscriptions of a workspace',
    method: 'GET', path: '/subscriptions/v1/subscriptions', query: "filter=key eq '{key}'",
    params: { key: { list: '/subscriptions/v1/subscriptions', field: 'key' } }, status: 200, schema: 'glp-subscriptions#subscriptionList',
  },
  {
    source: 'collection', family: 'glp-subscriptions', folder: `${SUBSCRIPTIONS_FOLDER}/subscriptions`, name: 'Get information on a subscription',
    method: 'GET', path: '/subscriptions/v1/subscriptions/:id', params: { id: { list: '/subscriptions/v1/subscriptions', field: 'id' } },
    status: 200, schema: 'glp-subscriptions#subscription',
  },
  {
    source: 'collection', family: 'glp-subscriptions', folder: `${SUBSCRIPTIONS_FOLDER}/auto-subscription-settings`,
    name: 'Get all configured auto-subscriptions settings', method: 'GET', path: '/subscriptions/v1/auto-subscription-settings',
    status: 200, schema: 'glp-subscriptions#autoSubscriptionSettingsList',
  },
  {
    source: 'collection', family: 'glp-subscriptions', folder: `${SUBSCRIPTIONS_FOLDER}/auto-subscription-settings/{id}`,
    name: 'Get configured auto-subscriptions settings per workspace', method: 'GET', path: '/subscriptions/v1/auto-subscription-settings/:id',
    params: settingsId, status: 200, schema: 'glp-subscriptions#autoSubscriptionSettings',
  },
  {
    source: 'collection', family: 'glp-subscriptions', folder: `${SUBSCRIPTIONS_FOLDER}/auto-subscription-settings/{id}`,
    name: 'Update the configured auto-subscriptions settings of a workspace', method: 'PATCH', path: '/subscriptions/v1/auto-subscription-settings/:id',
    params: settingsId, body: { autoSubscriptionSettings: [{ deviceType: 'COMPUTE', tier: 'ENHANCED_COMPUTE' }] },
    status: 200, schema: 'glp-subscriptions#autoSubscriptionSettings',
  },
  {
    source: 'collection', family: 'glp-subscriptions', folder: `${SUBSCRIPTIONS_FOLDER}/subscriptions`, name: 'Add subscriptions',
    method: 'POST', path: '/subscriptions/v1/subscriptions', body: { subscriptions: [{ key: 'CONTRACTKEY01', tags: { team: 'contract' } }] },
    status: 202, schema: 'glp-subscriptions#asyncAccepted', location: SUBSCRIPTION_ASYNC,
  },
  {
    source: 'collection', family: 'glp-subscriptions', folder: `${SUBSCRIPTIONS_FOLDER}/subscriptions`, name: 'Add subscriptions key for devices',
    method: 'POST', path: '/subscriptions/v1/subscriptions', body: { subscriptions: [{ key: 'CONTRACTKEY02' }] },
    status: 202, schema: 'glp-subscriptions#asyncAccepted', location: SUBSCRIPTION_ASYNC,
  },
  {
    source: 'collection', family: 'glp-subscriptions', folder: `${SUBSCRIPTIONS_FOLDER}/subscriptions`, name: 'Update subscriptions',
    method: 'PATCH', path: '/subscriptions/v1/subscriptions', query: 'id={id}&id={other}',
    params: {
      id: { list: '/subscriptions/v1/subscriptions', field: 'id' },
      other: { list: '/subscriptions/v1/subscriptions', field: 'id', index: 1 },
    },
    body: { tags: { team: 'contract' } }, status: 202, schema: 'glp-subscriptions#asyncAccepted', location: SUBSCRIPTION_ASYNC,
  },
  {
    source: 'collection', family: 'glp-subscriptions', folder: SUBSCRIPTIONS_FOLDER, name: 'Get progress or status of async operations in subscriptions',
    method: 'GET', path: '/subscriptions/v1/async-operations/:id', params: { id: { answer: 'Add subscriptions key for devices', field: 'transactionId' } },
    status: 200, schema: 'glp-subscriptions#asyncOperation',
  },
];

const AUDIT_FOLDER = 'Tracking GLP Workspace/Step5-audit-log/audit-log/v1/logs';

const auditLogs: ContractRequest[] = [
  {
    source: 'collection', family: 'glp-audit-logs', folder: AUDIT_FOLDER, name: 'Get all audit logs of an application or user.',
    method: 'GET', path: '/audit-log/v1/logs', query: 'limit=50&offset=0', status: 200, schema: 'glp-audit-logs#auditLogList',
  },
  {
    source: 'collection', family: 'glp-audit-logs', folder: AUDIT_FOLDER, name: 'Get all audit logs of an application',
    method: 'GET', path: '/audit-log/v1/logs', query: "filter=application/id eq '{application}'&filter=createdAt ge '2025-01-29T15:00:00.0000Z'&limit=50&offset=0",
    params: { application: { list: '/audit-log/v1/logs', field: 'application.id' } }, status: 200, schema: 'glp-audit-logs#auditLogList',
  },
  {
    source: 'collection', family: 'glp-audit-logs', folder: AUDIT_FOLDER, name: 'Get all audit logs of a user',
    method: 'GET', path: '/audit-log/v1/logs', query: "filter=user/username eq '{username}'&filter=createdAt ge '2025-01-29T15:00:00.00000Z'&limit=50&offset=0",
    params: { username: { list: '/audit-log/v1/logs', field: 'user.username' } }, status: 200, schema: 'glp-audit-logs#auditLogList',
  },
  {
    source: 'collection', family: 'glp-audit-logs', folder: AUDIT_FOLDER, name: 'Get additional detail of an audit log.',
    method: 'GET', path: '/audit-log/v1/logs/:id/detail', params: { id: { list: '/audit-log/v1/logs', field: 'id', where: { hasDetails: true } } },
    status: 200, schema: 'glp-audit-logs#auditLogDetail',
  },
];

const WELLNESS_FOLDER = 'Tracking GLP Workspace/Step6-Wellness';
const oneEvent = { id: { list: '/wellness/v2/events', field: 'id' } } as const;

const wellness: ContractRequest[] = [
  {
    source: 'collection', family: 'glp-wellness', folder: `${WELLNESS_FOLDER}/events`, name: 'Get a list of wellness events',
    method: 'GET', path: '/wellness/v2/events', query: 'limit=100', status: 200, schema: 'glp-wellness#eventList',
  },
  {
    source: 'collection', family: 'glp-wellness', folder: `${WELLNESS_FOLDER}/events/{id}`, name: 'Get wellness event with specific ID',
    method: 'GET', path: '/wellness/v2/events/:id', params: oneEvent, status: 200, schema: 'glp-wellness#event',
  },
  {
    source: 'collection', family: 'glp-wellness', folder: `${WELLNESS_FOLDER}/events/{id}`, name: 'Update wellness event with specific ID',
    method: 'PATCH', path: '/wellness/v2/events/:id', params: oneEvent, body: { read: true, flag: false, archive: false },
    status: 200, schema: 'glp-wellness#eventUpdated',
  },
  {
    source: 'collection', family: 'glp-wellness', folder: `${WELLNESS_FOLDER}/support-cases`, name: 'Get a list of support cases',
    method: 'GET', path: '/wellness/v2/support-cases', query: 'limit=100', status: 200, schema: 'glp-wellness#supportCaseList',
  },
  {
    source: 'collection', family: 'glp-wellness', folder: `${WELLNESS_FOLDER}/support-cases`, name: 'Get support case with specific ID',
    method: 'GET', path: '/wellness/v2/support-cases/:id', params: { id: { list: '/wellness/v2/support-cases', field: 'id' } },
    status: 200, schema: 'glp-wellness#supportCase',
  },
  {
    source: 'collection', family: 'glp-wellness', folder: `${WELLNESS_FOLDER}/support-cases`, name: 'Create a support case',
    method: 'POST', path: '/wellness/v2/support-cases',
    params: { id: { list: '/wellness/v2/events', field: 'id', index: 'last' }, resourceUri: { list: '/wellness/v2/events', field: 'resourceUri', index: 'last' } },
    body: { event: { resourceUri: '{resourceUri}', id: '{id}' } }, status: 202, location: true,
  },
  {
    source: 'collection', family: 'glp-wellness', folder: `${WELLNESS_FOLDER}/async-operations`, name: 'Get a list of asynchronous operations',
    method: 'GET', path: '/wellness/v2/async-operations', query: 'limit=100', status: 200, schema: 'glp-wellness#asyncOperationList',
  },
  {
    source: 'collection', family: 'glp-wellness', folder: `${WELLNESS_FOLDER}/async-operations`, name: 'Get asynchronous operation details',
    method: 'GET', path: '/wellness/v2/async-operations/:id', params: { id: { list: '/wellness/v2/async-operations', field: 'id' } },
    status: 200, schema: 'glp-wellness#asyncOperationDetail',
  },
];

const com: ContractRequest[] = [
  {
    source: 'com-reference', family: 'com', name: 'get_v1_servers', method: 'GET', path: '/compute-ops-mgmt/v1/servers',
    status: 200, schema: 'com#serverList',
  },
  {
    source: 'com-reference', family: 'com', name: 'get_v1_server_by_id', method: 'GET', path: '/compute-ops-mgmt/v1/servers/:id',
    params: { id: { list: '/compute-ops-mgmt/v1/servers', field: 'id' } }, status: 200, schema: 'com#server',
  },
  {
    source: 'com-reference', family: 'com', name: 'get_v1_groups', method: 'GET', path: '/compute-ops-mgmt/v1/groups',
    status: 200, schema: 'com#groupList',
  },
  {
    source: 'com-reference', family: 'com', name: 'get_v1_group_by_id', method: 'GET', path: '/compute-ops-mgmt/v1/groups/:group-id',
    params: { 'group-id': { list: '/compute-ops-mgmt/v1/groups', field: 'id' } }, status: 200, schema: 'com#group',
  },
  {
    source: 'com-reference', family: 'com', name: 'get_v1_jobs', method: 'GET', path: '/compute-ops-mgmt/v1/jobs',
    status: 200, schema: 'com#jobList',
  },
  {
    source: 'com-reference', family: 'com', name: 'get_v1_job_by_id', method: 'GET', path: '/compute-ops-mgmt/v1/jobs/:job-id',
    params: { 'job-id': { list: '/compute-ops-mgmt/v1/jobs', field: 'id' } }, status: 200, schema: 'com#job',
  },
];

const dscc: ContractRequest[] = [
  {
    source: 'dscc-openapi', family: 'dscc', name: 'SystemsList', method: 'GET', path: '/api/v1/storage-systems',
    status: 200, schema: 'dscc#storageSystemList',
  },
  {
    source: 'dscc-openapi', family: 'dscc', name: 'SystemGetById', method: 'GET', path: '/api/v1/storage-systems/:id',
    params: { id: { list: '/api/v1/storage-systems', field: 'id' } }, status: 200, schema: 'dscc#storageSystemDetail',
  },
  {
    source: 'dscc-openapi', family: 'dscc', name: 'VolumesList', method: 'GET', path: '/api/v1/volumes', status: 200, schema: 'dscc#volumeList',
  },
  {
    source: 'dscc-openapi', family: 'dscc', name: 'VolumeGetById', method: 'GET', path: '/api/v1/volumes/:id',
    params: { id: { list: '/api/v1/volumes', field: 'id' } }, status: 200, schema: 'dscc#volumeDetail',
  },
  {
    source: 'dscc-openapi', family: 'dscc', name: 'VolumeCreate', method: 'POST', path: '/api/v1/storage-systems/device-type1/:systemId/volumes',
    params: { systemId: { list: '/api/v1/storage-systems', field: 'id' } },
    body: { name: 'contract-vol-1', userCpg: 'SSD_r6', sizeMib: 16384, count: 1 }, status: 202, schema: 'dscc#taskAccepted',
  },
  {
    source: 'dscc-openapi', family: 'dscc', name: 'ListTasks', method: 'GET', path: '/api/v1/tasks', status: 200, schema: 'dscc#taskList',
  },
  {
    source: 'dscc-openapi', family: 'dscc', name: 'GetTask', method: 'GET', path: '/api/v1/tasks/:id',
    params: { id: { answer: 'VolumeCreate', field: 'taskUri', lastSegment: true } }, status: 200, schema: 'dscc#task',
  },
  {
    source: 'dscc-openapi', family: 'dscc', name: 'AuditEventsGet', method: 'GET', path: '/api/v1/audit-events',
    status: 200, schema: 'dscc#auditEventList',
  },
];

export const REQUESTS: readonly ContractRequest[] = [
  ...tokens, ...workspaces, ...identity, ...mspTenants, ...locations, ...tags, ...serviceCatalog,
  ...devices, ...subscriptions, ...auditLogs, ...wellness, ...com, ...dscc,
];

export function requestsOf(family: Family): ContractRequest[] {
  return REQUESTS.filter((request) => request.family === family);
}

/** How many requests HPE's collection holds (69 API calls and 2 token requests). */
export const COLLECTION_REQUEST_COUNT = 71;
