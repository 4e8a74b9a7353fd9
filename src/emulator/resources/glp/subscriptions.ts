/** Subscriptions v1, its async operations and auto-subscription settings (60/min reads, 20/min writes, 25/min settings). */
import { ASYNC_OPERATION_LIFECYCLE } from '../async.ts';
import { CREATED_AT, indices, pick, SAMPLE_WORKSPACE_ID, stableHex, stableUuid, UPDATED_AT } from '../data/ids.ts';
import type { Item, ResourceDeclaration } from '../types.ts';
import { offsetList, PER_MINUTE } from './common.ts';

const ASYNC_PATH = '/subscriptions/v1/async-operations';
const TIERS = [
  { sku: 'R4Q82AAE', productType: 'DEVICE', tier: 'ENHANCED', description: 'HPE Compute Ops Management Enhanced 3-year' },
  { sku: 'S0B82AAE', productType: 'SERVICE', tier: 'FOUNDATION', description: 'HPE GreenLake for Block Storage' },
  { sku: 'Q9Y63AAE', productType: 'DEVICE', tier: 'ADVANCED', description: 'Aruba Central AP Advanced 1-year' },
] as const;

function sampleSubscription(i: number): Item {
  const tier = pick(TIERS, i);
  return {
    id: stableUuid(`subscription:${i}`),
    type: 'subscriptions/subscription',
    subscriptionType: tier.productType === 'DEVICE' ? 'CENTRAL_COMPUTE' : 'STORAGE',
    key: `E${stableHex(`subscription-key:${i}`, 12).toUpperCase()}`,
    quantity: String(10 * (i + 1)),
    availableQuantity: String(10 * (i + 1) - 3),
    isEval: false,
    sku: tier.sku,
    skuDescription: tier.description,
    contract: `C${stableHex(`contract:${i}`, 8).toUpperCase()}`,
    startTime: CREATED_AT,
    endTime: '2027-03-31T23:59:59.000Z',
    tags: {},
    productType: tier.productType,
    tier: tier.tier,
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
  };
}

function autoSubscriptionSetting(): Item {
  const id = stableUuid('auto-subscription');
  return {
    id,
    type: 'subscriptions/auto-subscription-setting',
    resourceUri: `/subscriptions/v1/auto-subscription-settings/${id}`,
    generation: 1,
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
    autoSubscriptionSettings: [{ deviceType: 'COMPUTE', tier: 'ENHANCED_COMPUTE' }],
    tenantWorkspaceId: SAMPLE_WORKSPACE_ID,
  };
}

export const SUBSCRIPTION_RESOURCES: ResourceDeclaration[] = [
  {
    name: 'subscriptions',
    errors: 'glp',
    collection: '/subscriptions/v1/subscriptions',
    seed: () => indices(3).map(sampleSubscription),
    list: offsetList(50, 50, PER_MINUTE(60)),
    get: { rateLimit: PER_MINUTE(60) },
    create: { answer: 'async', asyncPath: ASYNC_PATH, rateLimit: PER_MINUTE(20), apply: () => undefined },
    patchMany: { answer: 'async', asyncPath: ASYNC_PATH, rateLimit: PER_MINUTE(20) },
  },
  { name: 'subscriptions-async-operations', errors: 'glp', collection: ASYNC_PATH, seed: () => [], get: {}, lifecycle: ASYNC_OPERATION_LIFECYCLE },
  {
    name: 'auto-subscription-settings',
    errors: 'glp',
    collection: '/subscriptions/v1/auto-subscription-settings',
    seed: () => [autoSubscriptionSetting()],
    list: offsetList(100, 100, PER_MINUTE(25)),
    get: { rateLimit: PER_MINUTE(25) },
    patch: { answer: 'item', rateLimit: PER_MINUTE(25) },
  },
];
