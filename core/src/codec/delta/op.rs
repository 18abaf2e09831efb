//! Reading one operation, in either frame.
//!
//! The compact body starts each op with a header varint (see
//! [`compact`](super::compact)); the envelope's tag and leading fields are
//! first turned into the same header ([`legacy::header`]). The fields after
//! it differ in two places only: the envelope stores the Lamport timestamp
//! absolute and the text as a string whose length in characters must equal
//! `len`.

use super::compact::{
    predicted_lamport, H_COUNTER, H_DELETE, H_HAS_TEXT, H_KIND_MASK, H_LEN_SHIFT, H_NOT_INSERT,
    H_ORIGIN_SHIFT, H_OWN_TARGET, H_REVERSED, H_TITLE, ORIGIN_CHAIN, ORIGIN_OWN, ORIGIN_ROOT,
};
use super::{
    lamport_field, legacy, len_field, read_counter, read_title, replica_at, seq_field,
    MAX_INSERT_BYTES,
};
use crate::codec::envelope::Frame;
use crate::codec::reader::Reader;
use crate::codec::DecodeError;
use crate::delta::Body;
use crate::ids::{OpId, ReplicaId, Seq};

/// Reads the op `id` (after its sequence gap). `lamport_end` is the end of
/// the block's previous insert, which the compact Lamport field is
/// relative to.
pub(super) fn read(
    r: &mut Reader<'_>,
    frame: Frame,
    table: &[ReplicaId],
    id: OpId,
    lamport_end: &mut Option<u64>,
) -> Result<Body, DecodeError> {
    let at = r.offset();
    let header = match frame {
        Frame::Compact => r.varint()?,
        Frame::Envelope => legacy::header(r)?,
    };
    if header & H_NOT_INSERT == 0 {
        return read_insert(r, frame, (at, header), table, id, lamport_end);
    }
    match header & H_KIND_MASK {
        H_DELETE => {
            let len = len_field(header >> H_LEN_SHIFT)?;
            let target = if header & H_OWN_TARGET != 0 {
                let distance = r.varint()?;
                own_earlier(id, 1, distance, "delete target distance")?
            } else {
                OpId::new(replica_at(table, r.varint()?)?, seq_field(r.varint()?)?)
            };
            let reversed = header & H_REVERSED != 0;
            Ok(Body::Delete {
                len,
                target,
                reversed,
            })
        }
        _ => match header {
            H_TITLE => read_title(r),
            H_COUNTER => read_counter(r),
            other => Err(DecodeError::UnknownTag {
                what: "operation",
                tag: other,
            }),
        },
    }
}

/// The op `id.seq - back - distance` of `id`'s replica, or `Invalid { what }`
/// below 0.
fn own_earlier(
    id: OpId,
    back: u64,
    distance: u64,
    what: &'static str,
) -> Result<OpId, DecodeError> {
    let earlier = u64::from(id.seq)
        .checked_sub(back)
        .and_then(|s| s.checked_sub(distance))
        .ok_or(DecodeError::Invalid { what })?;
    // Below `id.seq`, which fits.
    Ok(OpId::new(id.replica, earlier as Seq))
}

/// Reads an insert after its `header` (read at offset `at`).
fn read_insert(
    r: &mut Reader<'_>,
    frame: Frame,
    (at, header): (usize, u64),
    table: &[ReplicaId],
    id: OpId,
    lamport_end: &mut Option<u64>,
) -> Result<Body, DecodeError> {
    let lamport = match frame {
        Frame::Envelope => r.varint()?,
        Frame::Compact => predicted_lamport(*lamport_end, id.seq)
            .checked_add_signed(r.varint_signed()?)
            .ok_or(DecodeError::Invalid {
                what: "insert lamport",
            })?,
    };
    let origin = match (header >> H_ORIGIN_SHIFT) & 3 {
        ORIGIN_ROOT => None,
        ORIGIN_CHAIN => Some(own_earlier(id, 1, 0, "chained origin at seq 0")?),
        ORIGIN_OWN => Some(own_earlier(id, 2, r.varint()?, "origin distance")?),
        _ => Some(OpId::new(
            replica_at(table, r.varint()?)?,
            seq_field(r.varint()?)?,
        )),
    };
    // The length, or with text in a compact body the text's UTF-8 bytes.
    let n = header >> H_LEN_SHIFT;
    let (len, content) = if header & H_HAS_TEXT == 0 {
        (len_field(n)?, None)
    } else {
        let text = match frame {
            // `n` was checked as a length by `legacy::header`.
            Frame::Envelope => r.str("insert text", MAX_INSERT_BYTES)?,
            Frame::Compact => {
                let bytes = r.count("insert text", n, MAX_INSERT_BYTES, at)?;
                r.utf8(bytes)?
            }
        };
        let chars = text.chars().count() as u64;
        if frame == Frame::Envelope && chars != n {
            return Err(DecodeError::Invalid {
                what: "insert length does not match its text",
            });
        }
        (len_field(chars)?, Some(text.to_owned()))
    };
    let lamport = lamport_field(lamport, len)?;
    *lamport_end = Some(lamport + u64::from(len));
    Ok(Body::Insert {
        len,
        lamport,
        origin,
        content,
    })
}
