// @twofold/client: typed HTTP calls and the /v1/sync protocol, for browsers, Node and React
// Native (no DOM in the core; the browser-only stores touch their APIs only when used).
export type { components, paths } from "./schema.ts";
export type * from "./types.ts";
export { Api, ApiError, refreshMargin, type ApiOptions, type RequestInit } from "./api.ts";
export { LocalStorageTokenStore, MemoryTokenStore, type StoredTokens, type TokenStore } from "./tokens.ts";
export { MemoryPendingStore, type PendingOp, type PendingStore } from "./pending.ts";
export { IndexedDbPendingStore } from "./indexeddb.ts";
export {
  OpError,
  SyncClient,
  socketUrl,
  type SyncEvents,
  type SyncOptions,
  type SyncStatus,
  type Timers,
  type WebSocketConstructor,
  type WebSocketLike,
} from "./sync.ts";
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from "./backoff.ts";
export type * from "./frames.ts";
export { Close } from "./frames.ts";
export { uuidv7 } from "./ids.ts";
