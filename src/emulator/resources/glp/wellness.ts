/** Wellness v2: events, support cases and async operations, paged with an opaque `next` cursor. */
import { CREATED_AT, indices, pick, stableUuid, UPDATED_AT } from '../data/ids.ts';
import { ResourceError } from '../errors.ts';
import type { CustomRequest, Item, ResourceDeclaration } from '../types.ts';
import { CURSOR_LIST } from './common.ts';

const CONDITIONS = [
  { serviceName: 'Storage', productName: 'HPE Alletra 6000', severity: 'warning', name: 'Disk predicted to fail' },
  { serviceName: 'Compute', productName: 'HPE ProLiant DL360 Gen10 Plus', severity: 'critical', name: 'Power supply failed' },
  { serviceName: 'Networking', productName: 'Aruba 6300M', severity: 'notice', name: 'Firmware update available' },
] as const;

function caseOf(eventId: string, i: number): Item {
  const id = stableUuid(`support-case:${i}`);
  return {
    id,
    type: 'wellness/support-case',
    generation: 1,
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
    resourceUri: `/wellness/v2/support-cases/${id}`,
    caseNumber: `5${String(3000000 + i)}`,
    event: { resourceUri: `/wellness/v2/events/${eventId}`, id: eventId },
    user: 'demo.user@example.com',
    crm: 'HPE',
    status: 'open',
    caseHistory: [{ action: 'CREATED', timeStamp: CREATED_AT }],
  };
}

function sampleEvent(i: number): Item {
  const condition = pick(CONDITIONS, i);
  const id = stableUuid(`wellness-event:${i}`);
  return {
    id,
    type: 'wellness/event',
    generation: 1,
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
    resourceUri: `/wellness/v2/events/${id}`,
    title: condition.name,
    description: { mediaType: 'text/plain', content: `${condition.name} on ${condition.productName}` },
    asset: { name: `asset-${i + 1}`, serialNumber: `SG${String(100000 + i)}` },
    condition: { urn: `urn:hpe:wellness:${i}`, severity: condition.severity, name: condition.name, category: 'hardware' },
    status: { currentState: 'open', correlatedTo: [] },
    causes: [{ title: condition.name, description: { mediaType: 'text/plain', content: 'See the recommendation' }, confidence: 90, visibility: 'PUBLIC', recommendation: 'Replace the part' }],
    supportCase: caseOf(id, i),
    correlated: false,
    serviceName: condition.serviceName,
    productName: condition.productName,
    flag: false,
    read: false,
    archive: false,
    supportCaseCreationOpUri: `/wellness/v2/async-operations/${stableUuid(`wellness-op:${i}`)}`,
  };
}

function sampleOperation(i: number): Item {
  const id = stableUuid(`wellness-op:${i}`);
  return {
    id,
    type: 'wellness/async-operation',
    generation: 1,
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
    startedAt: CREATED_AT,
    endedAt: UPDATED_AT,
    sourceResourceUri: `/wellness/v2/events/${stableUuid(`wellness-event:${i}`)}`,
    state: 'SUCCEEDED',
    logMessages: [],
    progressPercent: 100,
    error: null,
    suggestedPollingIntervalSeconds: 5,
    timeoutMinutes: 30,
    results: [{ resourceUri: `/wellness/v2/support-cases/${stableUuid(`support-case:${i}`)}`, name: 'support-case' }],
  };
}

/** PATCH /wellness/v2/events/{id} `{read, flag, archive}` answers `{event, success}`. */
function updateEvent(request: CustomRequest) {
  const event = request.items.get(request.params['id'] ?? '');
  if (event === undefined) throw new ResourceError(404, 'wellness event not found');
  for (const field of ['read', 'flag', 'archive']) if (typeof request.body[field] === 'boolean') event[field] = request.body[field];
  return { status: 200, body: { event: { resourceUri: event['resourceUri'], id: event['id'] }, success: true } };
}

export const WELLNESS_RESOURCES: ResourceDeclaration[] = [
  {
    name: 'wellness-events',
    errors: 'glp',
    collection: '/wellness/v2/events',
    seed: () => indices(6).map(sampleEvent),
    list: CURSOR_LIST,
    get: {},
    routes: [{ method: 'PATCH', path: '/wellness/v2/events/:id', handle: updateEvent }],
  },
  {
    name: 'wellness-support-cases',
    errors: 'glp',
    collection: '/wellness/v2/support-cases',
    seed: () => indices(3).map((i) => caseOf(stableUuid(`wellness-event:${i}`), i)),
    list: CURSOR_LIST,
    get: {},
    create: { answer: 'accepted-empty' },
  },
  { name: 'wellness-async-operations', errors: 'glp', collection: '/wellness/v2/async-operations', seed: () => indices(3).map(sampleOperation), list: CURSOR_LIST, get: {} },
];
