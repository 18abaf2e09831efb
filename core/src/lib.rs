//! # quire-core
//!
//! The CRDT core of Quire, a local-first sync engine for collaborative
//! documents. Pure and deterministic: no I/O, no clock, no RNG. Callers pass
//! in replica ids and time.
//!
//! ## Concepts
//! - A [`Doc`] is one replica of a document: a title (LWW register), a body
//!   (RGA text) and named PN counters.
//! - Every operation has an id `(replica, seq)`; a [`VersionVector`] says how
//!   much of each replica's history a document holds.
//! - [`Doc::delta_since`] gives everything a peer at some version lacks;
//!   [`Doc::apply`] integrates a [`Delta`] from anywhere, in any order, any
//!   number of times. Operations whose causal dependencies are missing are
//!   buffered (bounded) until they arrive.
//! - [`Doc::encode`] / [`Doc::decode`] and [`Delta::encode`] /
//!   [`Delta::decode`] use the versioned binary format of `docs/PROTOCOL.md`.
//!
//! ## Features
//! - `std` (default): use the standard library (currently required).
//! - `serde`: `Serialize`/`Deserialize` for public value types.
#![deny(missing_docs)]

pub mod codec;
pub mod crdt;
mod delta;
mod doc;
mod error;
pub mod ids;
pub mod version;

pub use codec::DecodeError;
pub use delta::Delta;
pub use doc::{ApplyOutcome, Change, Doc, DocOptions, Snapshot, MAX_COUNTER_NAME, MAX_TITLE};
pub use error::{ApplyError, EditError};
pub use ids::{OpId, ReplicaId, Seq};
pub use version::VersionVector;
