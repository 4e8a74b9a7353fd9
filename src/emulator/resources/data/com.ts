/** Compute Ops Management sample data: servers (ids keep the `+` of HPE's docs), groups, jobs. */
import { CREATED_AT, indices, pick, stableHex, stableUuid, UPDATED_AT } from './ids.ts';

/** The COM server id used in HPE's docs; note the `+`, sent percent-encoded as %2B. */
export const SAMPLE_SERVER_ID = 'P07595-B21+MXQ1140XVX';

const SERVER_MODELS = [
  { productId: 'P07595-B21', model: 'ProLiant DL360 Gen10 Plus', generation: 'GEN_10', platformFamily: 'PROLIANT' },
  { productId: 'P52534-B21', model: 'ProLiant DL380 Gen11', generation: 'GEN_11', platformFamily: 'PROLIANT' },
  { productId: 'P58691-B21', model: 'ProLiant DL325 Gen11', generation: 'GEN_11', platformFamily: 'PROLIANT' },
  { productId: 'P38409-B21', model: 'ProLiant DL385 Gen10 Plus v2', generation: 'GEN_10', platformFamily: 'PROLIANT' },
  { productId: '868703-B21', model: 'ProLiant DL360 Gen10', generation: 'GEN_10', platformFamily: 'PROLIANT' },
] as const;

const SERIAL_SUFFIXES = ['XVX', 'J2K', 'L8P', 'R4T', 'W9Z'] as const;

export function sampleServer(i: number): Record<string, unknown> {
  const model = pick(SERVER_MODELS, i);
  const serialNumber = `MXQ${1140 + Math.floor(i / SERIAL_SUFFIXES.length) * 3}${pick(SERIAL_SUFFIXES, i)}`;
  const id = `${model.productId}+${serialNumber}`;
  const name = `esx-${String(i + 1).padStart(2, '0')}.lab.example.com`;
  return {
    id,
    type: 'compute-ops-mgmt/server',
    name,
    resourceUri: `/compute-ops-mgmt/v1/servers/${id}`,
    generation: 3 + (i % 4),
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
    platformFamily: model.platformFamily,
    serverGeneration: model.generation,
    hardware: {
      serialNumber,
      model: model.model,
      uuid: stableUuid(`server-uuid:${i}`),
      productId: model.productId,
      powerState: i % 7 === 6 ? 'OFF' : 'ON',
      indicatorLed: 'OFF',
      health: { summary: i % 9 === 8 ? 'WARNING' : 'OK', fans: 'OK', memory: 'OK', processor: 'OK', storage: 'OK', temperature: 'OK' },
      platform: model.model,
      formFactor: 'RACK',
      bmc: { mac: macOf(`bmc:${i}`), ip: `10.0.${Math.floor(i / 200)}.${10 + (i % 200)}`, hostname: `ilo-${name}`, license: 'ADVANCED', version: 'iLO 6 v1.59' },
      memoryMb: 262144,
      manufacturer: 'HPE',
    },
    state: { managed: true, connected: i % 11 !== 10, connectedModifiedAt: UPDATED_AT, subscriptionState: 'SUBSCRIBED', subscriptionTier: 'ENHANCED', subscriptionExpiresAt: '2027-03-31T23:59:59.000Z' },
    firmwareInventory: [{ name: 'iLO 6', version: '1.59', deviceContext: 'System Board' }],
    softwareInventory: [],
    firmwareBundleUri: null,
    lastFirmwareUpdate: null,
    tags: { location: i % 2 === 0 ? 'Lab A' : 'Lab B' },
    processorVendor: 'Intel(R) Xeon(R) Gold 6330 CPU @ 2.00GHz',
    biosFamily: 'U46',
    host: { osName: 'VMware ESXi', osVersion: '8.0.2', osDescription: 'VMware ESXi 8.0.2', osType: 3 },
    autoIloFwUpdate: true,
    oneview: null,
    deviceClaimType: 'MANUAL',
    connectionType: 'DIRECT',
  };
}

export function sampleServers(): Record<string, unknown>[] {
  return indices(25).map(sampleServer);
}

export function sampleGroups(): Record<string, unknown>[] {
  return ['Production ESXi', 'Lab'].map((name, i) => {
    const id = stableUuid(`com-group:${i}`);
    return {
      id,
      type: 'compute-ops-mgmt/group',
      name,
      description: `${name} servers`,
      resourceUri: `/compute-ops-mgmt/v1/groups/${id}`,
      generation: 1,
      createdAt: CREATED_AT,
      updatedAt: UPDATED_AT,
      platformFamily: 'PROLIANT',
      autoFwUpdateOnAdd: false,
      autoAddServerTags: {},
      devices: sampleServers()
        .filter((_, index) => index % 2 === i)
        .slice(0, 5)
        .map((server) => ({ id: server['id'], type: 'compute-ops-mgmt/server', resourceUri: server['resourceUri'] })),
      serverSettingsUris: [],
      tags: {},
    };
  });
}

export function sampleJobs(): Record<string, unknown>[] {
  const id = stableUuid('com-job:0');
  return [
    {
      id,
      type: 'compute-ops-mgmt/job',
      resourceUri: `/compute-ops-mgmt/v1/jobs/${id}`,
      name: 'PowerOn.New',
      parentJobId: null,
      generation: 5,
      deleteOnComplete: false,
      createdAt: CREATED_AT,
      updatedAt: UPDATED_AT,
      jobTemplate: '0cbb2377-1834-488d-840c-d5bf788c34fb',
      resource: { id: SAMPLE_SERVER_ID, type: 'compute-ops-mgmt/server' },
      jobParams: {},
      results: {},
      state: 'COMPLETE',
      resultCode: 'SUCCESS',
      status: 'Server powered on',
      statusDetails: null,
    },
  ];
}

function macOf(seed: string): string {
  return stableHex(seed, 12).toUpperCase().match(/../g)?.join(':') ?? '';
}
