/** Configuration: loading, validation, the built-in route catalog, and client secrets. */
export type * from './types.ts';
export { catalog, findCatalogEntry } from './catalog.ts';
export { ConfigError } from './errors.ts';
export { loadConfig, parseConfig } from './load.ts';
export { withReadOnlyRoutes } from './resolve.ts';
export type { CommandLineOverrides, LoadOptions, ListenOverrides } from './load.ts';
export type { Environment } from './interpolate.ts';
export { DEFAULT_TENANT_TOKEN_URL, DEFAULT_TOKEN_URL, HTTP_METHODS, MAX_SOCKET_PATH_BYTES, SAFE_METHODS, isLoopbackAddress, normalWorkspaceId, parseSocketMode, socketOpenToOthers, WORKSPACE_ID_PLACEHOLDER } from './schema.ts';
export { readSecret } from './secrets.ts';
