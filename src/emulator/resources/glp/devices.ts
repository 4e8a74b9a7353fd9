/**
 * Devices v1 and its async operations. Published limits: list 160/min, by id 40/min, POST 25/min,
 * PATCH 20/min, async operations 90/min; `limit` up to 2000 (the default).
 */
import { ASYNC_OPERATION_LIFECYCLE } from '../async.ts';
import { CREATED_AT, indices, pick, stableHex, stableUuid, UPDATED_AT } from '../data/ids.ts';
import type { Item, ResourceDeclaration, WriteContext } from '../types.ts';
import { offsetList, PER_MINUTE } from './common.ts';

export const DEVICES_ASYNC_PATH = '/devices/v1/async-operations';

const DEVICE_KINDS = [
  { deviceType: 'COMPUTE', partNumber: 'P07595-B21', model: 'ProLiant DL360 Gen10 Plus' },
  { deviceType: 'STORAGE', partNumber: 'R7A11A', model: 'HPE Alletra 6070' },
  { deviceType: 'SWITCH', partNumber: 'JL659A', model: 'Aruba 6300M' },
  { deviceType: 'AP', partNumber: 'R4H17A', model: 'Aruba AP-635' },
] as const;

export const COM_APPLICATION_ID = stableUuid('application:com');

function sampleDevice(i: number): Item {
  const kind = pick(DEVICE_KINDS, i);
  const id = stableUuid(`device:${i}`);
  const subscriptionId = stableUuid(`subscription:${i % 3}`);
  return {
    id,
    type: 'devices/device',
    serialNumber: `SG${stableHex(`serial:${i}`, 8).toUpperCase()}`,
    partNumber: kind.partNumber,
    macAddress: stableHex(`mac:${i}`, 12).toUpperCase().match(/../g)?.join(':') ?? '',
    deviceType: kind.deviceType,
    model: kind.model,
    region: i % 3 === 0 ? 'eu-central' : 'us-west',
    archived: false,
    application: { id: COM_APPLICATION_ID, resourceUri: `/service-catalog/v1/service-managers/${COM_APPLICATION_ID}` },
    tags: { site: i % 2 === 0 ? 'Lab A' : 'Lab B' },
    subscription: [{ id: subscriptionId, resourceUri: `/subscriptions/v1/subscriptions/${subscriptionId}` }],
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
  };
}

/**
 * PATCH /devices/v1/devices?id=…: `application {id}` assigns (`{}` unassigns), `subscription [{id}]`
 * replaces the subscriptions, `region` moves; references get their resourceUri as GreenLake shows them.
 */
function updateDevices(body: Item, context: WriteContext): Item | undefined {
  for (const device of context.targets) {
    const application = body['application'] as Item | undefined;
    if (application !== undefined) {
      if (typeof application['id'] === 'string') device['application'] = { id: application['id'], resourceUri: `/service-catalog/v1/service-managers/${application['id']}` };
      else delete device['application'];
    }
    const subscriptions = body['subscription'] as Item[] | undefined;
    if (Array.isArray(subscriptions)) {
      device['subscription'] = subscriptions.map((s) => ({ id: String(s['id']), resourceUri: `/subscriptions/v1/subscriptions/${String(s['id'])}` }));
    }
    if (typeof body['region'] === 'string') device['region'] = body['region'];
    Object.assign(device, { updatedAt: context.now() });
  }
  return context.targets[0];
}

// A network device's kind (AP, switch, gateway) comes from GreenLake's inventory, which the emulator does not have.
const DEVICE_TYPE_OF_GROUP = { compute: 'COMPUTE', network: 'UNKNOWN', storage: 'STORAGE' } as const;

/**
 * POST /devices/v1/devices: `{compute: [{serialNumber, partNumber}], network: [{serialNumber,
 * macAddress}], storage: [...]}`, as HPE's collection sends it; each named device joins the
 * workspace (found by its serial number once the operation is accepted). Other bodies add nothing.
 */
function addDevices(body: Item, context: WriteContext): Item | undefined {
  let first: Item | undefined;
  for (const [group, deviceType] of Object.entries(DEVICE_TYPE_OF_GROUP)) {
    const entries = body[group];
    if (!Array.isArray(entries)) continue;
    for (const entry of entries as Item[]) {
      if (typeof entry['serialNumber'] !== 'string') continue;
      const now = context.now();
      const device: Item = {
        id: context.newId(),
        type: 'devices/device',
        serialNumber: entry['serialNumber'],
        partNumber: typeof entry['partNumber'] === 'string' ? entry['partNumber'] : '',
        macAddress: typeof entry['macAddress'] === 'string' ? entry['macAddress'] : '',
        deviceType,
        archived: false,
        ...(typeof entry['tags'] === 'object' && entry['tags'] !== null && { tags: entry['tags'] }),
        createdAt: now,
        updatedAt: now,
      };
      context.items.set(String(device['id']), device);
      first ??= device;
    }
  }
  return first;
}

export const DEVICE_RESOURCES: ResourceDeclaration[] = [
  {
    name: 'devices',
    errors: 'glp',
    collection: '/devices/v1/devices',
    seed: () => indices(12).map(sampleDevice),
    list: offsetList(2000, 2000, PER_MINUTE(160)),
    get: { rateLimit: PER_MINUTE(40) },
    create: { answer: 'async', asyncPath: DEVICES_ASYNC_PATH, rateLimit: PER_MINUTE(25), apply: addDevices },
    patchMany: { answer: 'async', asyncPath: DEVICES_ASYNC_PATH, rateLimit: PER_MINUTE(20), apply: updateDevices },
  },
  {
    name: 'devices-async-operations',
    errors: 'glp',
    collection: DEVICES_ASYNC_PATH,
    seed: () => [],
    get: { rateLimit: PER_MINUTE(90) },
    lifecycle: ASYNC_OPERATION_LIFECYCLE,
  },
];
