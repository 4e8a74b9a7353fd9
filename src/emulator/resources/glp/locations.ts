/** Locations v1 and location tags; tags v1 and tagged resources. */
import { CREATED_AT, indices, pick, stableUuid, UPDATED_AT } from '../data/ids.ts';
import { ResourceError } from '../errors.ts';
import { pageOf } from '../paging.ts';
import type { CustomRequest, Item, ResourceDeclaration } from '../types.ts';
import { offsetList } from './common.ts';

const CITIES = [
  { city: 'Houston', country: 'US', state: 'TX', postalCode: '77070' },
  { city: 'Grenoble', country: 'FR', state: 'Isere', postalCode: '38000' },
  { city: 'Bangalore', country: 'IN', state: 'KA', postalCode: '560048' },
] as const;

function sampleLocation(i: number): Item {
  const place = pick(CITIES, i);
  const id = stableUuid(`location:${i}`);
  return {
    id,
    type: 'location',
    name: `${place.city} DC`,
    description: `Data centre in ${place.city}`,
    locationType: 'building',
    generation: 1,
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
    addresses: [{ id: stableUuid(`address:${i}`), type: 'street', streetAddress: `${100 + i} Main St`, streetAddress2: '', ...place }],
    contacts: [{ id: stableUuid(`contact:${i}`), type: 'primary', name: 'Site Admin', email: 'site.admin@example.com', phoneNumber: '+1 555 0101' }],
    expiredAt: '2026-12-31T00:00:00.000Z',
    validated: true,
    validatedAt: UPDATED_AT,
    validatedByEmail: 'demo.user@example.com',
    validatedByName: 'Demo User',
    validationCycle: '12',
    validationExpired: false,
    tags: [{ name: 'tier', value: i === 0 ? 'gold' : 'silver', createdAt: CREATED_AT }],
  };
}

/** A list shows the location's summary: its first address's city and country, no contacts. */
function locationSummary(location: Item): Item {
  const address = (location['addresses'] as Item[] | undefined)?.[0] ?? {};
  const { id, name, expiredAt, validated, validatedAt, validatedByEmail, validatedByName, validationCycle, validationExpired } = location;
  return { id, city: address['city'], country: address['country'], expiredAt, name, validated, validatedAt, validatedByEmail, validatedByName, validationCycle, validationExpired };
}

function withoutTags(location: Item): Item {
  const { tags: _tags, ...rest } = location;
  return rest;
}

function locationTags(request: CustomRequest) {
  const tags = [...request.items.values()].flatMap((location) => (location['tags'] as Item[] | undefined) ?? []);
  return { status: 200, body: pageOf(tags, request.query, offsetList(100, 2000), '') };
}

function tagsOfLocation(request: CustomRequest) {
  const location = request.items.get(request.params['id'] ?? '');
  if (location === undefined) throw new ResourceError(404, 'location not found');
  const first = ((location['tags'] as Item[] | undefined) ?? [])[0] ?? {};
  return { status: 200, body: { locationId: location['id'], locationName: location['name'], tags: { name: first['name'], value: first['value'] } } };
}

/** PATCH /locations/v1/locations/tags `{locationId, createTags, deleteTags}`. */
function changeTags(request: CustomRequest) {
  const location = request.items.get(String(request.body['locationId'] ?? ''));
  if (location === undefined) throw new ResourceError(404, 'location not found');
  const create = (request.body['createTags'] as Item[] | undefined) ?? [];
  const remove = (request.body['deleteTags'] as Item[] | undefined) ?? [];
  const kept = ((location['tags'] as Item[] | undefined) ?? []).filter((tag) => !remove.some((gone) => gone['name'] === tag['name'] && gone['value'] === tag['value']));
  location['tags'] = [...kept, ...create.map((tag) => ({ name: tag['name'], value: tag['value'], createdAt: request.now }))];
  const body = { id: location['id'], type: 'location-tags', createdAt: location['createdAt'], updatedAt: request.now, generation: Number(location['generation']) + 1, createTags: create, deleteTags: remove };
  return { status: 200, body };
}

function manageLocation(request: CustomRequest) {
  const location = request.items.get(request.params['id'] ?? '');
  if (location === undefined) throw new ResourceError(404, 'location not found');
  for (const field of ['name', 'description', 'locationType']) if (request.body[field] !== undefined) location[field] = request.body[field];
  Object.assign(location, { updatedAt: request.now, generation: Number(location['generation']) + 1 });
  return { status: 200, body: withoutTags(location) };
}

function reverseGeocode(request: CustomRequest) {
  const summaries = [...request.items.values()].slice(0, 1).map(locationSummary);
  return { status: 200, body: pageOf(summaries, {}, offsetList(100, 100), '') };
}

function sampleTag(i: number): Item {
  return { id: stableUuid(`tag:${i}`), type: 'tag', key: pick(['site', 'owner', 'env'], i), value: pick(['Lab A', 'ops', 'prod'], i), resourceCount: 3 + i, createdAt: CREATED_AT, updatedAt: UPDATED_AT, generation: 1 };
}

function sampleTagResource(i: number): Item {
  const deviceId = stableUuid(`device:${i}`);
  return {
    id: stableUuid(`tag-resource:${i}`),
    type: 'tag-resource',
    resource: { resourceUri: `/devices/v1/devices/${deviceId}`, resourceType: 'DEVICE' },
    tags: { site: i % 2 === 0 ? 'Lab A' : 'Lab B' },
    createdAt: CREATED_AT,
    updatedAt: UPDATED_AT,
    generation: 1,
    resourceType: 'DEVICE',
  };
}

export const LOCATION_RESOURCES: ResourceDeclaration[] = [
  {
    name: 'locations',
    errors: 'glp',
    collection: '/locations/v1/locations',
    seed: () => indices(3).map(sampleLocation),
    list: { ...offsetList(100, 2000), view: locationSummary },
    itemView: withoutTags,
    get: {},
    create: { answer: 'item', apply: (body, c) => newLocation(c.items, body, c.newId(), c.now()) },
    patch: { answer: 'item' },
    delete: { answer: 'no-content' },
    routes: [
      { method: 'GET', path: '/locations/v1/locations/tags', handle: locationTags },
      { method: 'PATCH', path: '/locations/v1/locations/tags', handle: changeTags },
      { method: 'GET', path: '/locations/v1/locations/tags/:id', handle: tagsOfLocation },
      { method: 'PATCH', path: '/locations/v1/locations/update/:id', handle: manageLocation },
      { method: 'GET', path: '/locations/v1/locations/address/revgeocode', handle: reverseGeocode },
    ],
  },
  { name: 'tags', errors: 'glp', collection: '/tags/v1/tags', seed: () => indices(3).map(sampleTag), list: offsetList(100, 2000) },
  {
    name: 'tag-resources',
    errors: 'glp',
    collection: '/tags/v1/tag-resources',
    seed: () => indices(4).map(sampleTagResource),
    // resourceType is kept top-level only so that `filter=resourceType eq 'DEVICE'` (HPE's example) matches.
    list: { ...offsetList(100, 2000), view: ({ resourceType: _type, ...shown }) => shown },
  },
];

function newLocation(items: Map<string, Item>, body: Item, id: string, now: string): Item {
  if (typeof body['name'] !== 'string' || body['name'] === '') throw new ResourceError(400, 'name is required');
  const location: Item = { ...sampleLocation(0), ...body, id, tags: [], generation: 1, createdAt: now, updatedAt: now };
  items.set(id, location);
  return location;
}
