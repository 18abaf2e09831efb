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

/** Where the resume point is kept between page loads (e.g. over localStorage or IndexedDB). */
export interface SyncStorage {
  get(key: string): string | null | undefined | Promise<string | null | undefined>;
  set(key: string, value: string): void | Promise<void>;
}

/** Options of `new SyncClient()`. Durations are integer milliseconds. */
export interface SyncClientOptions {
  /** Sent in `hello` when the relay requires authentication. */
  token?: string;
  /** A WebSocket constructor, for hosts without a global one (e.g. the `ws` package in Node 20). */
  WebSocket?: new (url: string) => unknown;
  /** Reconnect delays: random in [0, min(maxMs, initialMs * 2^attempt)]. Default 500 and 30000. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** Keeps the resume point under the key `quire:resume:${docId}`. */
  storage?: SyncStorage;
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
  | "SERVER";
"#;
