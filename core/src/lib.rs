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
//! ## Example: two replicas, offline edits, merge
//! ```
//! use quire_core::{Doc, ReplicaId, VersionVector};
//!
//! let mut alice = Doc::new(ReplicaId(1));
//! alice.insert(0, "Hello world").unwrap();
//! alice.set_title("Notes", 1_700_000_000_000).unwrap();
//!
//! // Bob starts from everything Alice has, sent as bytes.
//! let mut bob = Doc::new(ReplicaId(2));
//! let bytes = alice.delta_since(&VersionVector::new()).encode();
//! bob.apply_encoded(&bytes).unwrap();
//!
//! // Both edit concurrently.
//! alice.insert(5, ",").unwrap();
//! bob.insert(11, "!").unwrap();
//! bob.increment("likes", 1).unwrap();
//!
//! // Each sends what the other lacks; order and repetition don't matter.
//! let to_bob = alice.delta_since(&bob.version());
//! let to_alice = bob.delta_since(&alice.version());
//! bob.apply(&to_bob).unwrap();
//! alice.apply(&to_alice).unwrap();
//! alice.apply(&to_alice).unwrap(); // a duplicate is harmless
//!
//! assert_eq!(alice.text(), "Hello, world!");
//! assert_eq!(alice.snapshot(), bob.snapshot());
//! assert_eq!(alice.encode(), bob.encode()); // canonical encodings
//!
//! let copy = quire_core::Doc::decode(&alice.encode(), ReplicaId(3)).unwrap();
//! assert_eq!(copy.counter("likes"), 1);
//! ```
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
pub mod presence;
mod sort;
pub mod sync;
mod undo;
mod util;
pub mod version;

pub use codec::DecodeError;
pub use delta::Delta;
pub use doc::{Anchor, LineCol, Side};
pub use doc::{ApplyOutcome, Change, Doc, DocOptions, Snapshot, MAX_COUNTER_NAME, MAX_TITLE};
pub use error::{ApplyError, EditError};
pub use ids::{OpId, ReplicaId, Seq};
pub use undo::{UndoManager, UndoOptions};
pub use version::VersionVector;
