/** Data Services Cloud Console v1 sample data: storage systems, volumes, audit events. */
import { CREATED_AT, indices, pick, SAMPLE_WORKSPACE_ID, stableHex, stableUuid } from './ids.ts';

const STORAGE_MODELS = [
  { model: 'HPE Alletra 9060', productFamily: 'deviceType1', tierType: 'STORAGE_TIER_9000_NVME' },
  { model: 'HPE Alletra 6070', productFamily: 'deviceType2', tierType: 'STORAGE_TIER_6000_NVME' },
  { model: 'HPE Alletra MP B10000', productFamily: 'deviceType1', tierType: 'STORAGE_TIER_MISSION_CRITICAL' },
  { model: 'HPE Primera 650', productFamily: 'deviceType1', tierType: 'STORAGE_TIER_MISSION_CRITICAL' },
] as const;

const UP_SINCE = Date.parse(CREATED_AT);

export function sampleStorageSystems(): Record<string, unknown>[] {
  return indices(5).map((i) => {
    const id = `7CE${String(751 + i * 13).padStart(4, '0')}P${312 + i}`;
    const kind = pick(STORAGE_MODELS, i);
    return {
      id,
      type: 'storage-system',
      name: `array-${i + 1}`,
      description: `Emulated ${kind.model}`,
      model: kind.model,
      productFamily: kind.productFamily,
      tierType: kind.tierType,
      state: i === 4 ? 'DEGRADED' : 'NORMAL',
      connectionStatus: 'CONNECTED',
      callhomeStatus: 'ENABLED_NORMAL',
      collectionStatus: { configStatus: { status: 'NORMAL' }, metricStatus: { status: 'NORMAL' }, overAllStatus: 'NORMAL' },
      softwareVersion: `9.${5 + (i % 2)}.${i}`,
      systemWWN: stableHex(`wwn:${i}`, 16).toUpperCase(),
      customerId: SAMPLE_WORKSPACE_ID,
      generation: 1,
      lastConnectedTime: UP_SINCE,
      upSince: UP_SINCE,
      arrayList: [{ model: kind.model, name: `array-${i + 1}-node` }],
      associatedLinks: [{ type: 'volumes', resourceUri: `/api/v1/storage-systems/${id}/volumes` }],
      resourceUri: `/api/v1/storage-systems/${id}`,
    };
  });
}

export function sampleVolumes(): Record<string, unknown>[] {
  const systems = sampleStorageSystems();
  return indices(30).map((i) => {
    const id = stableHex(`volume:${i}`);
    const system = systems[i % systems.length] ?? {};
    const sizeMiB = 1024 * (64 << (i % 5));
    const usedSizeMiB = Math.floor((sizeMiB * ((i * 37) % 100)) / 100);
    return {
      id,
      type: 'volume',
      name: `vol-${String(i + 1).padStart(3, '0')}`,
      systemId: system['id'],
      productFamily: system['productFamily'],
      sizeMiB,
      usedSizeMiB,
      usedCapacityPercent: Math.round((usedSizeMiB / sizeMiB) * 100),
      hostWrittenCapacityMiB: usedSizeMiB,
      spaceWarning: 0,
      thinSavings: '1.5:1',
      volumeType: i % 4 === 3 ? 'FULL' : 'THIN',
      subType: 'VOLUME',
      healthState: 'NORMAL',
      isInternal: false,
      isSystemVolume: false,
      wwn: stableHex(`volume-wwn:${i}`).toUpperCase(),
      volumeSetId: '',
      initiators: [],
      customerId: SAMPLE_WORKSPACE_ID,
      generation: 1,
      consoleUri: `/data-ops-manager/volumes/${id}`,
      associatedLinks: [{ type: 'storage-systems', resourceUri: String(system['resourceUri']) }],
      resourceUri: `/api/v1/volumes/${id}`,
    };
  });
}

export function sampleAuditEvents(): Record<string, unknown>[] {
  const codes = ['Create Volume', 'Update Volume', 'Login', 'Delete Snapshot'] as const;
  return indices(8).map((i) => ({
    id: stableUuid(`dscc-audit:${i}`),
    code: pick(codes, i),
    message: `${pick(codes, i)} completed`,
    occurredAt: `2025-01-2${i % 10}T10:0${i % 10}:00Z`,
    state: 'Success',
    userEmail: 'demo.user@example.com',
    customerId: SAMPLE_WORKSPACE_ID,
    permission: 'data-services.volume.update',
    scope: '/',
    source: 'DSCC',
    sourceIpAddress: '192.0.2.10',
    taskId: stableUuid(`dscc-audit-task:${i}`),
    uniqueId: stableHex(`dscc-audit-unique:${i}`),
    contextId: stableHex(`dscc-audit-context:${i}`),
    version: 1,
    associatedResource: { id: stableHex(`volume:${i}`), name: `vol-${String(i + 1).padStart(3, '0')}`, type: 'volume' },
  }));
}
