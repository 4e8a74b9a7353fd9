/**
 * Data Services Cloud Console v1 (storage-api.json 1.2.0): storage systems, volumes, tasks and
 * audit events. Lists are `{items, pageLimit, pageOffset, total, requestUri}`; writes answer 202
 * with `{taskUri, status, message}`; errors are `{error, errorCode, traceId}`.
 */
import { TASK_LIFECYCLE } from './async.ts';
import { sampleAuditEvents, sampleStorageSystems, sampleVolumes } from './data/storage.ts';
import { ResourceError } from './errors.ts';
import type { Item, ListSpec, ResourceDeclaration, WriteContext } from './types.ts';

const DSCC_LIST: ListSpec = { paging: 'dscc', defaultLimit: 100, maxLimit: 1000 };
const VOLUME_WRITES = '/api/v1/storage-systems/device-type1/:systemId/volumes';

export const DSCC_RESOURCES: ResourceDeclaration[] = [
  { name: 'dscc-storage-systems', errors: 'dscc', collection: '/api/v1/storage-systems', seed: sampleStorageSystems, list: DSCC_LIST, get: {} },
  { name: 'dscc-volumes', errors: 'dscc', collection: '/api/v1/volumes', seed: sampleVolumes, list: DSCC_LIST, get: {} },
  {
    name: 'dscc-volume-writes',
    errors: 'dscc',
    collection: VOLUME_WRITES,
    store: 'dscc-volumes',
    create: { answer: 'task', apply: createVolume },
    put: { answer: 'task', apply: (body, c) => Object.assign(checkedTarget(c), body) },
    delete: { answer: 'task', apply: (_body, c) => deleteVolume(c) },
  },
  { name: 'dscc-tasks', errors: 'dscc', collection: '/api/v1/tasks', seed: () => [], list: DSCC_LIST, get: {}, lifecycle: TASK_LIFECYCLE },
  { name: 'dscc-audit-events', errors: 'dscc', collection: '/api/v1/audit-events', seed: sampleAuditEvents, list: DSCC_LIST },
];

/** POST …/device-type1/{systemId}/volumes `{name, sizeMib, userCpg?, …}`: the volume appears at once, its task follows. */
function createVolume(body: Item, context: WriteContext): Item {
  if (typeof body['name'] !== 'string' || body['name'] === '') throw new ResourceError(400, 'name is required');
  const id = context.newId().replace(/-/g, '');
  const sizeMiB = typeof body['sizeMib'] === 'number' ? body['sizeMib'] : 1024;
  const volume: Item = {
    ...sampleVolumes()[0],
    id,
    name: body['name'],
    systemId: context.params['systemId'],
    sizeMiB,
    usedSizeMiB: 0,
    usedCapacityPercent: 0,
    resourceUri: `/api/v1/volumes/${id}`,
  };
  context.items.set(id, volume);
  return volume;
}

function checkedTarget(context: WriteContext): Item {
  const target = context.target;
  if (target === undefined || target['systemId'] !== context.params['systemId']) throw new ResourceError(404, 'volume not found on this system');
  return target;
}

function deleteVolume(context: WriteContext): Item {
  const target = checkedTarget(context);
  context.items.delete(String(target['id']));
  return target;
}
