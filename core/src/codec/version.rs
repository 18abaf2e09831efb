//! Encoding of [`VersionVector`]s (`KIND_VERSION`, see `docs/PROTOCOL.md`).
//!
//! The body layout (`count`, then `count` pairs of a fixed 8-byte replica id
//! and a varint seq, replicas strictly ascending, seqs non-zero) is also
//! embedded in sync messages, so it is exposed crate-wide.

use super::envelope::{self, KIND_VERSION};
use super::reader::Reader;
use super::writer::Writer;
use super::DecodeError;
use crate::ids::{ReplicaId, MAX_SEQ};
use crate::version::VersionVector;

/// Most replicas one encoded version vector may name.
pub const MAX_VERSION_REPLICAS: usize = 1 << 16;

/// Writes a version vector body (no envelope).
pub(crate) fn write_version(w: &mut Writer, version: &VersionVector) {
    w.varint(version.len() as u64);
    for (replica, seq) in version.iter() {
        w.replica(replica);
        w.varint(u64::from(seq));
    }
}

/// Reads a version vector body written by [`write_version`].
pub(crate) fn read_version(r: &mut Reader<'_>) -> Result<VersionVector, DecodeError> {
    let n = r.len("version replicas", MAX_VERSION_REPLICAS)?;
    let mut version = VersionVector::new();
    let mut last: Option<ReplicaId> = None;
    for _ in 0..n {
        let replica = r.replica()?;
        if last.is_some_and(|l| l >= replica) {
            return Err(DecodeError::Invalid {
                what: "version replicas not strictly ascending",
            });
        }
        last = Some(replica);
        let seq = r.varint_u32()?;
        if seq == 0 {
            return Err(DecodeError::Invalid {
                what: "version entry of zero",
            });
        }
        if seq > MAX_SEQ {
            return Err(DecodeError::LimitExceeded {
                what: "version seq",
                value: u64::from(seq),
                limit: u64::from(MAX_SEQ),
            });
        }
        version.set(replica, seq);
    }
    Ok(version)
}

impl VersionVector {
    /// Encodes this version vector (magic, version, body, checksum).
    pub fn encode(&self) -> Vec<u8> {
        let mut w = envelope::begin(KIND_VERSION);
        write_version(&mut w, self);
        envelope::finish(w)
    }

    /// Decodes a version vector, checking every field; never panics.
    pub fn decode(bytes: &[u8]) -> Result<VersionVector, DecodeError> {
        let body = envelope::open(bytes, KIND_VERSION)?;
        let mut r = Reader::new(body);
        let version = read_version(&mut r)?;
        r.finish()?;
        Ok(version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> VersionVector {
        let mut v = VersionVector::new();
        v.set(ReplicaId(7), 3);
        v.set(ReplicaId(1), 300);
        v.set(ReplicaId(u64::MAX), 1);
        v
    }

    #[test]
    fn version_vectors_round_trip() {
        for v in [VersionVector::new(), sample()] {
            assert_eq!(VersionVector::decode(&v.encode()), Ok(v));
        }
    }

    #[test]
    fn every_prefix_of_an_encoded_version_returns_error() {
        let bytes = sample().encode();
        for n in 0..bytes.len() {
            assert!(VersionVector::decode(&bytes[..n]).is_err(), "prefix {n}");
        }
    }

    #[test]
    fn unsorted_or_zero_entries_are_rejected() {
        let mut w = envelope::begin(KIND_VERSION);
        w.varint(2);
        w.raw(&5u64.to_le_bytes());
        w.varint(1);
        w.raw(&4u64.to_le_bytes());
        w.varint(1);
        assert!(VersionVector::decode(&envelope::finish(w)).is_err());

        let mut w = envelope::begin(KIND_VERSION);
        w.varint(1);
        w.raw(&5u64.to_le_bytes());
        w.varint(0);
        assert!(VersionVector::decode(&envelope::finish(w)).is_err());
    }

    #[test]
    fn a_count_claiming_2_pow_60_replicas_fails_without_allocating() {
        let mut w = envelope::begin(KIND_VERSION);
        w.varint(1 << 60);
        assert!(matches!(
            VersionVector::decode(&envelope::finish(w)),
            Err(DecodeError::LimitExceeded { .. })
        ));
    }
}
