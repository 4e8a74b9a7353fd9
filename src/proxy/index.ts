export { buildProxyApp, type ListenerSettings, type ProxyAppOptions, type ProxyRequestInfo } from './app.ts';
export { ProxyError, errorBody, type ProxyErrorCode, type GreenLakeErrorBody } from './errors.ts';
export { mountRoute, RouteTable, type MountedRoute, type TenantLookup } from './route-table.ts';
export type { RequestObserver, RequestOutcome } from './observer.ts';
export { DEFAULT_MAX_REPLAY_BODY_BYTES, ReplayMemory, type BodyHolding } from './request-body.ts';
