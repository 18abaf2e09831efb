//! TypeScript declarations of the `SyncClient` options and events (the
//! class itself is declared by wasm-bindgen).

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_SYNC_TYPES: &'static str = r#"
/** Where a `SyncClient` stands. */
export type SyncStatus = "connecting" | "live" | "offline";

/** Passed to `onStatus` listeners. */
export interface SyncStatusEvent {
  status: SyncStatus;
  /** Own operations not yet acknowledged by the relay. */
  pending: number;
  /** The last server sequence number seen, or null before the first connection. */
  serverSeq: number | null;
  /** The stored document was restored (always true without a storage). */
  restored: boolean;
  /** The relay refuses this client's edits (a `read` token): lock the editor. */
  readOnly: boolean;
  /** Why the last connection ended, or null. */
  error: SyncClientError | null;
}

/** Why a `SyncClient` connection ended. */
export interface SyncClientError extends Error {
  name: "QuireError";
  code: QuireErrorCode | SyncErrorCode;
  /** The client stopped: `connect()` throws this error; make a new client. */
  fatal: boolean;
}

/**
 * Where a `SyncClient` keeps its document between page loads. Values are
 * strings, or `Uint8Array`s when `binary` is true; `get` may return either.
 * Without `delete`, records merged into another are kept.
 */
export interface SyncStorage {
  binary?: boolean;
  get(key: string): string | Uint8Array | null | undefined | Promise<string | Uint8Array | null | undefined>;
  set(key: string, value: string | Uint8Array): void | Promise<void>;
  delete?(key: string): void | Promise<void>;
}

/** The part of the Web Locks API (`navigator.locks`) a `SyncClient` uses. */
export interface SyncLocks {
  request<T>(name: string, callback: (lock: unknown) => T | Promise<T>): Promise<T>;
  request<T>(name: string, options: { ifAvailable: true }, callback: (lock: unknown | null) => T | Promise<T>): Promise<T>;
}

/** Options of `new SyncClient()`. Durations are integer milliseconds. */
export interface SyncClientOptions {
  /** Sent in `hello` when the relay requires authentication. */
  token?: string;
  /** A WebSocket constructor, for hosts without a global one (e.g. the `ws` package in Node 20). */
  WebSocket?: new (url: string) => unknown;
  /** Reconnect delays: random in [0, min(maxMs, initialMs * 2^attempt)]. Default 500 and 30000. */
  backoff?: { initialMs?: number; maxMs?: number };
  /**
   * Keeps the document and its unsent edits between page loads, restored
   * before the first connection. Default: IndexedDB in browsers, none in
   * Node; `null` or `false`: none.
   */
  storage?: SyncStorage | null | false;
  /** Locks that keep two live clients off one stored replica (default `navigator.locks`). */
  locks?: SyncLocks;
  /** Ping after this long without sending (default 10000). */
  heartbeatIntervalMs?: number;
  /** Reconnect after this long without receiving (default 30000). */
  heartbeatTimeoutMs?: number;
  /** Give up on a connection not live this soon (default 10000). */
  handshakeTimeoutMs?: number;
}

/** Stable `code`s of `SyncClient` errors, beside `QuireErrorCode`. */
export type SyncErrorCode =
  | "NO_WEBSOCKET"
  | "CONNECT"
  | "CLOSED"
  | "PROTOCOL"
  | "HANDSHAKE_TIMEOUT"
  | "HEARTBEAT_TIMEOUT"
  | "REPLICA_BEHIND"
  | "UNAUTHORIZED"
  | "READ_ONLY"
  | "UNSUPPORTED_VERSION"
  | "BAD_DOCUMENT_ID"
  | "RATE_LIMITED"
  | "SERVER"
  | "STORAGE";
"#;
