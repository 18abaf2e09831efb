//! The delta body inside an envelope of kind `KIND_DELTA`, which builds
//! before the compact frame wrote (`docs/PROTOCOL.md`, "Envelope delta
//! body"). Read only: stored relay logs and older peers still send it.

use super::{
    lamport_field, len_field, read_counter, read_ops, read_table, read_title, replica_at,
    seq_field, MAX_DELTA_REPLICAS, MAX_INSERT_BYTES,
};
use crate::codec::reader::Reader;
use crate::codec::DecodeError;
use crate::delta::{Block, Body};
use crate::ids::{OpId, ReplicaId, Seq};

/// Operation tags.
const OP_INSERT: u8 = 1;
const OP_DELETE: u8 = 2;
const OP_TITLE: u8 = 3;
const OP_COUNTER: u8 = 4;

/// Insert flags (low bits of the insert header).
const INSERT_HAS_CONTENT: u64 = 1;
const ORIGIN_ROOT: u64 = 0;
const ORIGIN_CHAIN: u64 = 1 << 1; // the block replica's `seq - 1`
const ORIGIN_EXPLICIT: u64 = 2 << 1;
const ORIGIN_MASK: u64 = 3 << 1;

/// Reads the replica table and the blocks.
pub(super) fn read_blocks(r: &mut Reader<'_>) -> Result<Vec<Block>, DecodeError> {
    let n = r.len("delta replicas", MAX_DELTA_REPLICAS)?;
    let table = read_table(r, n)?;
    let nblocks = r.len("delta blocks", MAX_DELTA_REPLICAS)?;
    let mut blocks: Vec<Block> = Vec::with_capacity(nblocks);
    for _ in 0..nblocks {
        let replica = replica_at(&table, r.varint()?)?;
        if blocks.last().is_some_and(|b| b.replica >= replica) {
            return Err(DecodeError::Invalid {
                what: "blocks not in ascending replica order",
            });
        }
        let nops = r.len("block operations", usize::MAX)?;
        blocks.push(read_ops(r, replica, nops, |r, seq| {
            read_op(r, replica, seq, &table)
        })?);
    }
    Ok(blocks)
}

fn read_op(
    r: &mut Reader<'_>,
    replica: ReplicaId,
    seq: Seq,
    table: &[ReplicaId],
) -> Result<Body, DecodeError> {
    match r.u8()? {
        OP_INSERT => read_insert(r, replica, seq, table),
        OP_DELETE => {
            let header = r.varint()?;
            let len = len_field(header >> 1)?;
            let target = OpId::new(replica_at(table, r.varint()?)?, seq_field(r.varint()?)?);
            Ok(Body::Delete {
                len,
                target,
                reversed: header & 1 == 1,
            })
        }
        OP_TITLE => read_title(r),
        OP_COUNTER => read_counter(r),
        other => Err(DecodeError::UnknownTag {
            what: "operation",
            tag: u64::from(other),
        }),
    }
}

fn read_insert(
    r: &mut Reader<'_>,
    replica: ReplicaId,
    seq: Seq,
    table: &[ReplicaId],
) -> Result<Body, DecodeError> {
    let header = r.varint()?;
    if header & !(INSERT_HAS_CONTENT | ORIGIN_MASK) != 0 {
        return Err(DecodeError::Invalid {
            what: "insert flags",
        });
    }
    let len = len_field(r.varint()?)?;
    let lamport = r.varint()?;
    let origin = match header & ORIGIN_MASK {
        ORIGIN_ROOT => None,
        ORIGIN_CHAIN => {
            let prev = seq.checked_sub(1).ok_or(DecodeError::Invalid {
                what: "chained origin at seq 0",
            })?;
            Some(OpId::new(replica, prev))
        }
        ORIGIN_EXPLICIT => Some(OpId::new(
            replica_at(table, r.varint()?)?,
            seq_field(r.varint()?)?,
        )),
        _ => {
            return Err(DecodeError::UnknownTag {
                what: "origin kind",
                tag: header & ORIGIN_MASK,
            })
        }
    };
    let content = if header & INSERT_HAS_CONTENT != 0 {
        let c = r.str("insert text", MAX_INSERT_BYTES)?;
        if c.chars().count() != len as usize {
            return Err(DecodeError::Invalid {
                what: "insert length does not match its text",
            });
        }
        Some(c.to_owned())
    } else {
        None
    };
    Ok(Body::Insert {
        len,
        lamport: lamport_field(lamport, len)?,
        origin,
        content,
    })
}
