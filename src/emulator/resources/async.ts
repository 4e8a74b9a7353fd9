/**
 * Asynchronous answers: GreenLake's async operations (202, relative Location, `{code, status,
 * transactionId}`) and Data Services v1 tasks (202, `{taskUri, status, message}`), with the
 * lifecycles that move them to their end state as they are polled.
 */
import type { FastifyReply } from 'fastify';
import { SAMPLE_WORKSPACE_ID } from './data/ids.ts';
import type { EngineDeps } from './engine.ts';
import { styledError } from './errors.ts';
import type { Item, Lifecycle, ResourceDeclaration } from './types.ts';

export function asyncAnswer(deps: EngineDeps, reply: FastifyReply, operations: ResourceDeclaration, resultType: string, subject: Item | undefined): FastifyReply {
  const id = deps.store.newId();
  const now = new Date().toISOString();
  const operation: Item = {
    id,
    type: `${resultType}/async-operations`,
    status: 'INITIALIZED',
    startedAt: now,
    progressPercent: 0,
    suggestedPollingIntervalSeconds: 1,
    timeoutMinutes: 60,
    result: {},
    resultType,
  };
  if (subject !== undefined && typeof subject['id'] === 'string') operation['result'] = { id: subject['id'] };
  deps.store.collection(operations.name).set(id, operation);
  deps.store.track(operation, deps.nextAsyncFails());
  return reply.code(202).header('location', `${operations.collection}/${id}`).send({ code: 202, status: '202 ACCEPTED', transactionId: id });
}

export const ASYNC_OPERATION_LIFECYCLE: Lifecycle = {
  running: (item) => Object.assign(item, { status: 'RUNNING', progressPercent: 50 }),
  succeeded: (item, now) => Object.assign(item, { status: 'SUCCEEDED', progressPercent: 100, endedAt: now }),
  failed: (item, now) =>
    Object.assign(item, {
      status: 'FAILED',
      progressPercent: 100,
      endedAt: now,
      result: styledError('glp', 500, 'The operation failed (emulator fault switch)'),
    }),
};

export function taskAnswer(deps: EngineDeps, reply: FastifyReply, tasks: ResourceDeclaration, subject: Item | undefined): FastifyReply {
  const id = deps.store.newId();
  const now = new Date().toISOString();
  const taskUri = `${tasks.collection}/${id}`;
  const task: Item = {
    id,
    type: 'task',
    name: 'Emulated storage operation',
    displayName: 'Emulated storage operation',
    resourceUri: taskUri,
    customerId: SAMPLE_WORKSPACE_ID,
    generation: 1,
    createdAt: now,
    updatedAt: now,
    startedAt: now,
    state: 'INITIALIZED',
    healthStatus: 'OK',
    progressPercent: 0,
    suggestedPollingIntervalSeconds: 1,
    estimatedRunningDurationMinutes: 1,
    userId: 'demo.user@example.com',
    associatedResources: subject === undefined ? [] : [{ name: String(subject['name'] ?? subject['id']), resourceUri: String(subject['resourceUri'] ?? ''), type: String(subject['type'] ?? '') }],
    childTasks: [],
    logMessages: [{ message: 'Task created', timestampAt: now }],
  };
  deps.store.collection(tasks.name).set(id, task);
  deps.store.track(task, deps.nextAsyncFails());
  return reply.code(202).header('location', taskUri).send({ taskUri, status: 'SUBMITTED', message: 'Successfully submitted' });
}

export const TASK_LIFECYCLE: Lifecycle = {
  running: (item, now) => Object.assign(item, { state: 'RUNNING', progressPercent: 50, updatedAt: now, generation: 2 }),
  succeeded: (item, now) => Object.assign(item, { state: 'SUCCEEDED', progressPercent: 100, endedAt: now, updatedAt: now, generation: 3 }),
  failed: (item, now) =>
    Object.assign(item, {
      state: 'FAILED',
      healthStatus: 'ERROR',
      progressPercent: 100,
      endedAt: now,
      updatedAt: now,
      generation: 3,
      error: styledError('dscc', 500, 'The task failed (emulator fault switch)'),
    }),
};
