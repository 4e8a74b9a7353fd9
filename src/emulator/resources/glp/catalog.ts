/** Service catalog v1: service managers, per-region service managers, service manager provisions. */
import { CREATED_AT, stableUuid, UPDATED_AT } from '../data/ids.ts';
import { ResourceError } from '../errors.ts';
import type { Item, ResourceDeclaration } from '../types.ts';
import { offsetList } from './common.ts';
import { COM_APPLICATION_ID } from './devices.ts';

const REGIONS = ['us-west', 'eu-central', 'ap-northeast'] as const;
const MANAGERS = [
  { id: COM_APPLICATION_ID, name: 'Compute Ops Management', msp: true },
  { id: stableUuid('application:dscc'), name: 'Data Services', msp: false },
  { id: stableUuid('application:aruba'), name: 'HPE Aruba Networking Central', msp: true },
] as const;

function serviceManager(manager: (typeof MANAGERS)[number]): Item {
  return {
    id: manager.id,
    type: 'service-catalog/service-manager',
    resourceUri: `/service-catalog/v1/service-managers/${manager.id}`,
    name: manager.name,
    description: `${manager.name} (emulated)`,
    standaloneSupported: true,
    mspSupported: manager.msp,
    tenantOnlySupported: false,
    mspOnlySupported: false,
    workspaceTransferSupported: true,
    workspaceOpModesSupported: 'STANDALONE,MSP',
    generation: 1,
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
  };
}

function perRegion(region: string): Item {
  return { id: region, type: 'service-catalog/per-region-service-manager', regionName: region, serviceManagers: MANAGERS.map(serviceManager), generation: 1 };
}

function provision(manager: (typeof MANAGERS)[number], region: string, index: number): Item {
  const id = stableUuid(`provision:${index}`);
  return {
    id,
    type: 'service-catalog/service-manager-provision',
    resourceUri: `/service-catalog/v1/service-manager-provisions/${id}`,
    serviceManager: { id: manager.id, resourceUri: `/service-catalog/v1/service-managers/${manager.id}` },
    region,
    provisionStatus: 'PROVISIONED',
    createdBy: 'demo.user@example.com',
    generation: 1,
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
    // Not shown: HPE's own example filters provisions by `status eq 'PROVISIONED'`.
    status: 'PROVISIONED',
  };
}

export const CATALOG_RESOURCES: ResourceDeclaration[] = [
  { name: 'service-managers', errors: 'glp', collection: '/service-catalog/v1/service-managers', seed: () => MANAGERS.map(serviceManager), list: offsetList(2000, 2000), get: {} },
  { name: 'per-region-service-managers', errors: 'glp', collection: '/service-catalog/v1/per-region-service-managers', seed: () => REGIONS.map(perRegion), list: offsetList(2000, 2000), get: {} },
  {
    name: 'service-manager-provisions',
    errors: 'glp',
    collection: '/service-catalog/v1/service-manager-provisions',
    // Three, so HPE's Postman test that reads items[2] finds one.
    seed: () => MANAGERS.map((manager, i) => provision(manager, REGIONS[i] ?? 'us-west', i)),
    list: { ...offsetList(2000, 2000), view: hideStatus },
    itemView: hideStatus,
    get: {},
    create: { answer: 'created', apply: (body, c) => newProvision(c.items, body, c.newId(), c.now()) },
    delete: { answer: 'no-content' },
  },
];

function hideStatus({ status: _status, ...shown }: Item): Item {
  return shown;
}

function newProvision(items: Map<string, Item>, body: Item, id: string, now: string): Item {
  const manager = MANAGERS.find((candidate) => candidate.id === body['serviceManagerId']) ?? MANAGERS[0];
  if (typeof body['region'] !== 'string' || body['region'] === '') throw new ResourceError(400, 'region is required');
  const created: Item = { ...provision(manager, body['region'], 0), id, resourceUri: `/service-catalog/v1/service-manager-provisions/${id}`, createdAt: now, updatedAt: now };
  items.set(id, created);
  return created;
}
