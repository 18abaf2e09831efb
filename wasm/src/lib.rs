//! # quire-wasm
//!
//! WebAssembly bindings of [`quire_core`], published to npm as `quire`.
//! Thin newtypes with one-line methods; JS values are converted in
//! `convert`, errors become JS `Error`s with a stable `code` in `error`.
//!
//! Build the npm package with `scripts/build-wasm` (output in `wasm/pkg/`);
//! test it with `node --test wasm/test/`.
//!
//! ## Features
//! None.

mod convert;
mod doc;
mod error;
mod presence;
mod sync_client;

pub use doc::Doc;
pub use presence::Presence;
pub use sync_client::SyncClient;

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Options of `new Doc()` and `Doc.decode()`. */
export interface DocOptions {
  /** This replica's id: an unsigned 64-bit integer (bigint or decimal string). Random by default. */
  replicaId?: bigint | string | number;
  /** Edits less than this many milliseconds apart form one undo step (default 500). */
  undoCaptureMs?: number;
  /** Idle and expiry thresholds of `doc.presence`. */
  presence?: PresenceOptions;
}

/** What `applyDelta` did. */
export interface ApplyResult {
  /** Operations integrated now (runs count once), including buffered ones whose dependencies arrived. */
  applied: number;
  /** Operations still waiting for missing dependencies. */
  pending: number;
}

/** The materialised state of a document. */
export interface Snapshot {
  title: string;
  text: string;
  counters: Record<string, number>;
  /** The encoded version vector, as from `version()`. */
  version: Uint8Array;
}

/** One change; text positions are UTF-16 code units, valid in the text as left by the changes before it. */
export type Change =
  | { type: "insert"; index: number; length: number }
  | { type: "delete"; index: number; length: number }
  | { type: "title" }
  | { type: "counter"; name: string };

/** Passed to `onChange` listeners. */
export interface ChangeEvent {
  /** `local` for this document's own edits, `remote` for applied deltas. */
  origin: "local" | "remote";
  changes: Change[];
}

/** Stable `code`s of the `Error`s (name `QuireError`) this package throws. */
export type QuireErrorCode =
  | "INVALID_INDEX"
  | "INVALID_ARGUMENT"
  | "DECODE"
  | "LIMIT"
  | "INVALID_DELTA"
  | "BUSY"
  | "NO_RANDOM"
  | "INTERNAL";

/** An error thrown by this package. */
export interface QuireError extends Error {
  name: "QuireError";
  code: QuireErrorCode;
}
"#;
