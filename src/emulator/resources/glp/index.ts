/** Every GreenLake platform resource, as HPE's Postman collection (GLP-API-Tooling) names them. */
import type { ResourceDeclaration } from '../types.ts';
import { AUDIT_RESOURCES } from './audit.ts';
import { CATALOG_RESOURCES } from './catalog.ts';
import { DEVICE_RESOURCES } from './devices.ts';
import { LOCATION_RESOURCES } from './locations.ts';
import { SUBSCRIPTION_RESOURCES } from './subscriptions.ts';
import { WELLNESS_RESOURCES } from './wellness.ts';
import { WORKSPACE_RESOURCES } from './workspaces.ts';

export const GLP_RESOURCES: ResourceDeclaration[] = [
  ...WORKSPACE_RESOURCES,
  ...LOCATION_RESOURCES,
  ...CATALOG_RESOURCES,
  ...DEVICE_RESOURCES,
  ...SUBSCRIPTION_RESOURCES,
  ...AUDIT_RESOURCES,
  ...WELLNESS_RESOURCES,
];
