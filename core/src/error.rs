//! Errors of local edits and of applying remote changes.

use crate::codec::DecodeError;
use crate::ids::OpId;

/// A local edit was refused; the document is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The index (or the end of the range) is past the end of the text.
    /// Clamp it to `len`.
    #[error("index {index} is out of bounds (length {len})")]
    OutOfBounds {
        /// The offending index.
        index: usize,
        /// The text length in the same unit.
        len: usize,
    },
    /// A UTF-16 index falls between the two halves of a surrogate pair.
    /// Move it to a character boundary.
    #[error("UTF-16 index {index} is inside a surrogate pair")]
    InsideSurrogatePair {
        /// The offending UTF-16 index.
        index: usize,
    },
    /// A size limit was hit (e.g. a replica used up its sequence numbers,
    /// or a counter name is too long). Split the edit or start a new replica.
    #[error("{what} exceeds the limit of {limit}")]
    LimitExceeded {
        /// What was too large.
        what: &'static str,
        /// The limit.
        limit: u64,
    },
}

/// A delta was refused; the document is exactly as before.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// The bytes are not a valid delta.
    #[error("invalid delta encoding: {0}")]
    Decode(#[from] DecodeError),
    /// An insert's origin or a delete's target names a character that does
    /// not exist (it names a non-insert operation). The sender is broken or
    /// hostile; drop it.
    #[error("operation refers to {id:?}, which is not a character")]
    NotACharacter {
        /// The id that was referenced.
        id: OpId,
    },
    /// An insert's Lamport timestamp is not above its origin's (or is out of
    /// range), which no correct replica produces.
    #[error("operation {id:?} has an invalid Lamport timestamp {lamport}")]
    BadLamport {
        /// The operation.
        id: OpId,
        /// Its timestamp.
        lamport: u64,
    },
    /// Sequence numbers out of range or overlapping within the delta.
    #[error("operation {id:?} has an invalid sequence range")]
    BadSequence {
        /// The first id of the offending operation.
        id: OpId,
    },
    /// Some operations depend on operations the document does not have
    /// (returned only by `Doc::apply_complete`). Send the missing
    /// dependencies first.
    #[error("{waiting} operation(s) depend on operations this document lacks")]
    MissingDependencies {
        /// How many operations could not be applied.
        waiting: usize,
    },
    /// Too many operations wait for missing dependencies. Resync with
    /// `delta_since` from a peer that has them.
    #[error("too many pending operations (limit {limit})")]
    TooManyPending {
        /// The configured limit.
        limit: usize,
    },
}
