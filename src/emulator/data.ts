/**
 * Sample data for the emulated services. Deterministic: the same ids every run, so
 * tests may name them. Shapes follow the public API references, trimmed to the
 * fields a proxy test could care about.
 */
import { createHash } from 'node:crypto';

/** The COM server id used in HPE's docs; note the `+`, sent percent-encoded as %2B. */
export const SAMPLE_SERVER_ID = 'P07595-B21+MXQ1140XVX';

const CREATED_AT = '2024-03-14T09:26:53.000Z';
const UPDATED_AT = '2025-01-20T16:02:11.000Z';

function hex(seed: string, length = 32): string {
  return createHash('sha256').update(seed).digest('hex').slice(0, length);
}

function uuid(seed: string): string {
  const h = hex(seed);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function indices(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

// Compute Ops Management

const SERVER_MODELS = [
  { productId: 'P07595-B21', model: 'ProLiant DL360 Gen10 Plus', generation: 'GEN_10' },
  { productId: 'P52534-B21', model: 'ProLiant DL380 Gen11', generation: 'GEN_11' },
  { productId: 'P58691-B21', model: 'ProLiant DL325 Gen11', generation: 'GEN_11' },
  { productId: 'P38409-B21', model: 'ProLiant DL385 Gen10 Plus v2', generation: 'GEN_10' },
  { productId: '868703-B21', model: 'ProLiant DL360 Gen10', generation: 'GEN_10' },
] as const;

const SERIAL_SUFFIXES = ['XVX', 'J2K', 'L8P', 'R4T', 'W9Z'] as const;

export interface Server {
  id: string;
  type: 'compute-ops-mgmt/server';
  name: string;
  resourceUri: string;
  generation: number;
  createdAt: string;
  updatedAt: string;
  hardware: { serialNumber: string; productId: string; model: string; powerState: 'ON' | 'OFF'; health: { summary: 'OK' | 'WARNING' } };
  serverGeneration: string;
}

function sampleServer(i: number): Server {
  const model = SERVER_MODELS[i % SERVER_MODELS.length] ?? SERVER_MODELS[0];
  const serialNumber = `MXQ${1140 + Math.floor(i / SERIAL_SUFFIXES.length) * 3}${SERIAL_SUFFIXES[i % SERIAL_SUFFIXES.length]}`;
  const id = `${model.productId}+${serialNumber}`;
  return {
    id,
    type: 'compute-ops-mgmt/server',
    name: `esx-${String(i + 1).padStart(2, '0')}.lab.example.com`,
    resourceUri: `/compute-ops-mgmt/v1/servers/${id}`,
    generation: 3 + (i % 4),
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
    hardware: {
      serialNumber,
      productId: model.productId,
      model: model.model,
      powerState: i % 7 === 6 ? 'OFF' : 'ON',
      health: { summary: i % 9 === 8 ? 'WARNING' : 'OK' },
    },
    serverGeneration: model.generation,
  };
}

export const SERVERS: readonly Server[] = indices(25).map(sampleServer);

// Data Services Cloud Console

export interface StorageSystem {
  id: string;
  name: string;
  model: string;
  state: 'NORMAL' | 'DEGRADED';
  softwareVersions: string;
  customerId: string;
  resourceUri: string;
}

const STORAGE_MODELS = ['HPE Alletra 9060', 'HPE Alletra 6070', 'HPE Alletra MP B10000', 'HPE Primera 650'] as const;

function sampleStorageSystem(i: number): StorageSystem {
  const id = `7CE${String(751 + i * 13).padStart(4, '0')}P${312 + i}`;
  return {
    id,
    name: `array-${i + 1}`,
    model: STORAGE_MODELS[i % STORAGE_MODELS.length] ?? STORAGE_MODELS[0],
    state: i === 4 ? 'DEGRADED' : 'NORMAL',
    softwareVersions: `9.${5 + (i % 2)}.${i}`,
    customerId: hex('customer'),
    resourceUri: `/api/v1/storage-systems/${id}`,
  };
}

export const STORAGE_SYSTEMS: readonly StorageSystem[] = indices(5).map(sampleStorageSystem);

export interface Volume {
  id: string;
  name: string;
  systemId: string;
  sizeMiB: number;
  usedSizeMiB: number;
  provisioningType: 'thin' | 'full';
  state: 'normal';
  customerId: string;
  resourceUri: string;
}

function sampleVolume(i: number): Volume {
  const id = hex(`volume:${i}`);
  const system = STORAGE_SYSTEMS[i % STORAGE_SYSTEMS.length];
  const sizeMiB = 1024 * (64 << (i % 5));
  return {
    id,
    name: `vol-${String(i + 1).padStart(3, '0')}`,
    systemId: system?.id ?? '',
    sizeMiB,
    usedSizeMiB: Math.floor((sizeMiB * ((i * 37) % 100)) / 100),
    provisioningType: i % 4 === 3 ? 'full' : 'thin',
    state: 'normal',
    customerId: hex('customer'),
    resourceUri: `/api/v1/volumes/${id}`,
  };
}

export const VOLUMES: readonly Volume[] = indices(30).map(sampleVolume);

// GreenLake platform

export interface Device {
  id: string;
  type: 'devices/device';
  serialNumber: string;
  partNumber: string;
  macAddress: string;
  deviceType: 'COMPUTE' | 'STORAGE' | 'SWITCH' | 'AP';
  model: string;
  region: string;
  archived: boolean;
  createdAt: string;
  updatedAt: string;
}

const DEVICE_KINDS = [
  { deviceType: 'COMPUTE', partNumber: 'P07595-B21', model: 'ProLiant DL360 Gen10 Plus' },
  { deviceType: 'STORAGE', partNumber: 'R7A11A', model: 'HPE Alletra 6070' },
  { deviceType: 'SWITCH', partNumber: 'JL659A', model: 'Aruba 6300M' },
  { deviceType: 'AP', partNumber: 'R4H17A', model: 'Aruba AP-635' },
] as const;

function sampleDevice(i: number): Device {
  const kind = DEVICE_KINDS[i % DEVICE_KINDS.length] ?? DEVICE_KINDS[0];
  const mac = hex(`mac:${i}`, 12).toUpperCase().match(/../g)?.join(':') ?? '';
  return {
    id: uuid(`device:${i}`),
    type: 'devices/device',
    serialNumber: `SG${hex(`serial:${i}`, 8).toUpperCase()}`,
    partNumber: kind.partNumber,
    macAddress: mac,
    deviceType: kind.deviceType,
    model: kind.model,
    region: i % 3 === 0 ? 'eu-central' : 'us-west',
    archived: false,
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
  };
}

export const DEVICES: readonly Device[] = indices(12).map(sampleDevice);

export interface AuditLog {
  id: string;
  type: 'audit-log/logs';
  category: string;
  description: string;
  username: string;
  workspaceId: string;
  createdAt: string;
}

const AUDIT_EVENTS = [
  { category: 'User Management', description: 'User demo.user@example.com logged in' },
  { category: 'Device Management', description: 'Device SG1A2B3C4D added to workspace' },
  { category: 'API Client', description: 'Personal API client demo-client created' },
  { category: 'Subscription Management', description: 'Subscription key assigned to 3 devices' },
  { category: 'User Management', description: 'Role Observer assigned to ops@example.com' },
] as const;

export const AUDIT_LOGS: readonly AuditLog[] = AUDIT_EVENTS.map((event, i) => ({
  id: uuid(`audit:${i}`),
  type: 'audit-log/logs',
  ...event,
  username: 'demo.user@example.com',
  workspaceId: hex('workspace'),
  createdAt: `2025-01-2${i}T08:1${i}:00.000Z`,
}));
