// @twofold/client: typed HTTP calls and the /v1/sync protocol, for browsers, Node and React
// Native (no DOM in the core; the browser-only stores touch their APIs only when used).
export type { components, paths } from "./schema.js";
export type * from "./types.js";
export { Api, ApiError, refreshMargin, type ApiOptions, type RequestInit } from "./api.js";
export { LocalStorageTokenStore, MemoryTokenStore, type StoredTokens, type TokenStore } from "./tokens.js";
export {
  accountOf,
  LocalStorageDeviceSecretStore,
  MemoryDeviceSecretStore,
  type DeviceSecretStore,
} from "./secrets.js";
export { MemoryPendingStore, type PendingOp, type PendingStore } from "./pending.js";
export { IndexedDbPendingStore } from "./indexeddb.js";
export { SyncClient, socketUrl, type SyncEvents, type SyncOptions, type SyncStatus } from "./sync.js";
export { OpError, type OpOutcome } from "./outbox.js";
export type { Timers, WebSocketConstructor, WebSocketLike } from "./platform.js";
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.js";
export type * from "./frames.js";
export { Close } from "./frames.js";
export { uuidv7 } from "./ids.js";
export { assertNever } from "./never.js";
export { isTimeZone } from "./zones.js";
