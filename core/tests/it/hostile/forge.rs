//! Building frames by hand: the header, body primitives and checksum of
//! `docs/PROTOCOL.md`, written independently of the core's codec.

use crate::vectors::READER;
use quire_core::{DecodeError, Delta, Doc, ReplicaId};

/// Magic, version, kind.
pub(super) const HEADER_LEN: usize = 6;
pub(super) const KIND_DOC: u8 = 1;
pub(super) const KIND_DELTA: u8 = 2;
/// The lead byte of a compact delta frame: `0b11`, kind 2, version 1.
pub(super) const LEAD_DELTA: u8 = 0b1100_0000 | KIND_DELTA << 3 | 1;
pub(super) const OP_INSERT: u8 = 1;
pub(super) const OP_DELETE: u8 = 2;
pub(super) const OP_TITLE: u8 = 3;
pub(super) const OP_COUNTER: u8 = 4;
/// Insert header: content present, explicit origin.
pub(super) const CONTENT_EXPLICIT: u64 = 1 | 2 << 1;

/// CRC-32/ISO-HDLC (reflected, polynomial 0xedb88320), bit by bit.
pub(super) fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// A complete frame: header, `body`, checksum.
pub(super) fn frame(kind: u8, body: &[u8]) -> Vec<u8> {
    let mut out = b"QUIR".to_vec();
    out.extend([1, kind]);
    out.extend_from_slice(body);
    out.extend(crc32(&out).to_le_bytes());
    out
}

/// A complete compact delta frame: lead byte, `body`, checksum.
pub(super) fn compact_frame(body: &[u8]) -> Vec<u8> {
    let mut out = vec![LEAD_DELTA];
    out.extend_from_slice(body);
    out.extend(crc32(&out).to_le_bytes());
    out
}

/// The header length of a frame: 1 for a compact one, else 6.
pub(super) fn header_len(frame: &[u8]) -> usize {
    if frame[0] >= 0b1100_0000 {
        1
    } else {
        HEADER_LEN
    }
}

/// The body of a frame (between header and checksum).
pub(super) fn body_of(frame: &[u8]) -> &[u8] {
    &frame[header_len(frame)..frame.len() - 4]
}

/// A frame with the header of `like` around `body`.
pub(super) fn reframe(like: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = like[..header_len(like)].to_vec();
    out.extend_from_slice(body);
    out.extend(crc32(&out).to_le_bytes());
    out
}

/// Sets the format version of a frame (and reseals it).
pub(super) fn set_version(frame: &mut [u8], version: u8) {
    if header_len(frame) == 1 {
        frame[0] = frame[0] & !7 | version;
    } else {
        frame[4] = version;
    }
    reseal(frame);
}

/// Rewrites the checksum of a tampered frame.
pub(super) fn reseal(frame: &mut [u8]) {
    let split = frame.len() - 4;
    let crc = crc32(&frame[..split]);
    frame[split..].copy_from_slice(&crc.to_le_bytes());
}

/// Appends the primitives of the format to a body.
#[derive(Default)]
pub(super) struct Body(Vec<u8>);

impl Body {
    /// Unsigned LEB128 varints.
    pub(super) fn v(mut self, values: &[u64]) -> Self {
        for &value in values {
            let mut v = value;
            while v >= 0x80 {
                self.0.push(v as u8 | 0x80);
                v >>= 7;
            }
            self.0.push(v as u8);
        }
        self
    }

    /// Zigzag signed varints.
    pub(super) fn z(self, values: &[i64]) -> Self {
        let zz: Vec<u64> = values
            .iter()
            .map(|&v| ((v << 1) ^ (v >> 63)) as u64)
            .collect();
        self.v(&zz)
    }

    pub(super) fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }

    pub(super) fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    pub(super) fn str(self, s: &str) -> Self {
        self.v(&[s.len() as u64]).raw(s.as_bytes())
    }

    /// A replica table: count, then each id as 8 little-endian bytes.
    pub(super) fn replicas(self, table: &[ReplicaId]) -> Self {
        let ids: Vec<u8> = table.iter().flat_map(|r| r.0.to_le_bytes()).collect();
        self.v(&[table.len() as u64]).raw(&ids)
    }

    pub(super) fn doc(&self) -> Vec<u8> {
        frame(KIND_DOC, &self.0)
    }

    pub(super) fn delta(&self) -> Vec<u8> {
        frame(KIND_DELTA, &self.0)
    }

    pub(super) fn compact(&self) -> Vec<u8> {
        compact_frame(&self.0)
    }
}

/// A delta body up to its first op: replica `table`, then one block of
/// `ops` operations by `table[block]`.
pub(super) fn delta_body(table: &[ReplicaId], block: u64, ops: u64) -> Body {
    Body::default().replicas(table).v(&[1, block, ops])
}

pub(super) fn doc_err(bytes: &[u8]) -> DecodeError {
    Doc::decode(bytes, READER).unwrap_err()
}

pub(super) fn delta_err(bytes: &[u8]) -> DecodeError {
    Delta::decode(bytes).unwrap_err()
}

pub(super) fn limit(what: &'static str, value: u64, limit: u64) -> DecodeError {
    DecodeError::LimitExceeded { what, value, limit }
}

pub(super) fn unknown(what: &'static str, tag: u64) -> DecodeError {
    DecodeError::UnknownTag { what, tag }
}
