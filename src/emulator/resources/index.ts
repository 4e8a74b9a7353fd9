/** The emulated GreenLake resources: one engine, one declaration per resource. */
import { COM_RESOURCES } from './com.ts';
import { DSCC_RESOURCES } from './dscc.ts';
import { GLP_RESOURCES } from './glp/index.ts';
import type { ResourceDeclaration } from './types.ts';

export { registerResources } from './engine.ts';
export type { ApiRouteInfo, EngineDeps } from './engine.ts';
export { sendStyledError } from './errors.ts';
export { ResourceStore } from './store.ts';
export { SAMPLE_SERVER_ID } from './data/com.ts';
export type { ErrorStyle, PublishedLimit, RateHeaderStyle, ResourceDeclaration } from './types.ts';

export const ALL_RESOURCES: readonly ResourceDeclaration[] = [...GLP_RESOURCES, ...COM_RESOURCES, ...DSCC_RESOURCES];
