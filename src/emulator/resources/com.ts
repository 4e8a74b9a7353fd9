/** Compute Ops Management v1: servers, groups, jobs. Errors use COM's HPE-GL-COMPUTE_OPS-… codes. */
import { sampleGroups, sampleJobs, sampleServers } from './data/com.ts';
import { ResourceError } from './errors.ts';
import type { Item, Lifecycle, ListSpec, ResourceDeclaration } from './types.ts';

const COM_LIST: ListSpec = { paging: 'offset', defaultLimit: 100, maxLimit: 1000 };

const JOB_LIFECYCLE: Lifecycle = {
  running: (job, now) => Object.assign(job, { state: 'RUNNING', status: 'Running', updatedAt: now, generation: 2 }),
  succeeded: (job, now) => Object.assign(job, { state: 'COMPLETE', resultCode: 'SUCCESS', status: 'Completed', updatedAt: now, generation: 3 }),
  failed: (job, now) => Object.assign(job, { state: 'ERROR', resultCode: 'FAILURE', status: 'Failed (emulator fault switch)', updatedAt: now, generation: 3 }),
};

export const COM_RESOURCES: ResourceDeclaration[] = [
  {
    name: 'com-servers',
    errors: 'com',
    collection: '/compute-ops-mgmt/v1/servers',
    seed: sampleServers,
    list: COM_LIST,
    get: {},
  },
  {
    name: 'com-groups',
    errors: 'com',
    collection: '/compute-ops-mgmt/v1/groups',
    seed: sampleGroups,
    list: COM_LIST,
    get: {},
    create: { answer: 'created', apply: (body, c) => newGroup(c.items, body, c.newId(), c.now()) },
    patch: { answer: 'item' },
    delete: { answer: 'no-content' },
  },
  {
    name: 'com-jobs',
    errors: 'com',
    collection: '/compute-ops-mgmt/v1/jobs',
    seed: sampleJobs,
    list: COM_LIST,
    get: {},
    create: { answer: 'created', apply: (body, c) => newJob(c.items, body, c.newId(), c.now()) },
    lifecycle: JOB_LIFECYCLE,
  },
];

/** POST /compute-ops-mgmt/v1/jobs: `{jobTemplate, resourceId, resourceType, jobParams?}`, answered 201 with a PENDING job. */
function newJob(items: Map<string, Item>, body: Item, id: string, now: string): Item {
  for (const field of ['jobTemplate', 'resourceId', 'resourceType']) {
    if (typeof body[field] !== 'string' || body[field] === '') throw new ResourceError(400, `${field} is required`);
  }
  const job: Item = {
    id,
    type: 'compute-ops-mgmt/job',
    resourceUri: `/compute-ops-mgmt/v1/jobs/${id}`,
    name: 'Job.New',
    parentJobId: null,
    generation: 1,
    deleteOnComplete: false,
    createdAt: now,
    updatedAt: now,
    jobTemplate: body['jobTemplate'],
    resource: { id: body['resourceId'], type: body['resourceType'] },
    jobParams: body['jobParams'] ?? {},
    results: {},
    state: 'PENDING',
    resultCode: null,
    status: 'Pending',
    statusDetails: null,
  };
  items.set(id, job);
  return job;
}

function newGroup(items: Map<string, Item>, body: Item, id: string, now: string): Item {
  if (typeof body['name'] !== 'string' || body['name'] === '') throw new ResourceError(400, 'name is required');
  const group: Item = {
    ...sampleGroups()[0],
    ...body,
    id,
    resourceUri: `/compute-ops-mgmt/v1/groups/${id}`,
    devices: [],
    generation: 1,
    createdAt: now,
    updatedAt: now,
  };
  items.set(id, group);
  return group;
}
