/** Audit logs v1: `{offset, count, total, items, remainingRecords}`, limit up to 2000, and each log's detail. */
import { indices, pick, SAMPLE_WORKSPACE_ID, SAMPLE_WORKSPACE_NAME, stableUuid } from '../data/ids.ts';
import { ResourceError } from '../errors.ts';
import type { CustomRequest, Item, ResourceDeclaration } from '../types.ts';
import { COM_APPLICATION_ID } from './devices.ts';

const GLP_APPLICATION_ID = '00000000-0000-0000-0000-000000000000';
const EVENTS = [
  { category: 'User Management', description: 'User demo.user@example.com logged in', hasDetails: false },
  { category: 'Device Management', description: 'Device SG1A2B3C4D added to workspace', hasDetails: true },
  { category: 'API Client', description: 'Personal API client demo-client created', hasDetails: false },
  { category: 'Subscription Management', description: 'Subscription key assigned to 3 devices', hasDetails: true },
  { category: 'User Management', description: 'Role Observer assigned to ops@example.com', hasDetails: false },
] as const;

function sampleLog(i: number): Item {
  const event = pick(EVENTS, i);
  const at = `2025-01-2${i % 10}T08:1${i % 10}:00.000Z`;
  return {
    id: stableUuid(`audit:${i}`),
    type: '/audit-log/logs',
    application: { id: i % 4 === 1 ? COM_APPLICATION_ID : GLP_APPLICATION_ID },
    region: i % 4 === 1 ? 'us-west' : 'global',
    user: { username: i % 5 === 4 ? 'ops@example.com' : 'demo.user@example.com' },
    category: event.category,
    description: event.description,
    workspace: { id: SAMPLE_WORKSPACE_ID, workspaceName: SAMPLE_WORKSPACE_NAME },
    createdAt: at,
    updatedAt: at,
    generation: 1,
    additionalInfo: { ipAddress: '192.0.2.10' },
    hasDetails: event.hasDetails,
  };
}

function detail(request: CustomRequest) {
  const log = request.items.get(request.params['id'] ?? '');
  if (log === undefined) throw new ResourceError(404, 'audit log not found');
  return { status: 200, body: { id: log['id'], type: '/audit-log/logs', header: String(log['description']), body: [`category: ${String(log['category'])}`, `region: ${String(log['region'])}`] } };
}

export const AUDIT_RESOURCES: ResourceDeclaration[] = [
  {
    name: 'audit-logs',
    errors: 'glp',
    collection: '/audit-log/v1/logs',
    seed: () => indices(5).map(sampleLog),
    list: { paging: 'audit', defaultLimit: 50, maxLimit: 2000 },
    routes: [{ method: 'GET', path: '/audit-log/v1/logs/:id/detail', handle: detail }],
  },
];
