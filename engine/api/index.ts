// The engine API's public surface: the contract (types, wire format), its validation, and the
// host that implements it over the engine. Other files here are private to the host.
export * from './types';
export type * from './rpc';
export { dispatch } from './dispatch';
export { parseParams, parseRegionQuery, parseRequest, toRpcError, ValidationError, MAX_UPLOAD_BYTES } from './schema';
export { EngineHost, type HostOptions } from './host';
export { JobManager } from './jobs';
export { PathPolicy, ForbiddenPathError } from './paths';
export { defaultConfigDir } from './config-dir';
export type { RenderedRegion } from './region';
