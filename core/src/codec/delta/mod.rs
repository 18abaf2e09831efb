//! Encoding of [`Delta`]s (see `docs/PROTOCOL.md`, "Delta frame").
//!
//! [`Delta::encode`] writes the compact frame and body ([`compact`]).
//! [`Delta::decode`] reads those and the envelope of kind `KIND_DELTA`
//! ([`legacy`]) that earlier builds wrote, as relay logs and older peers
//! still hold. Both share one operation reader ([`op`]) and the checks in
//! this module.

mod compact;
mod legacy;
mod op;
#[cfg(test)]
mod tests;

use super::envelope::{self, Frame, KIND_DELTA};
use super::reader::Reader;
use super::writer::Writer;
use super::DecodeError;
use crate::crdt::hlc::Hlc;
use crate::delta::{Block, Body, Delta, Op};
use crate::doc::{MAX_COUNTER_NAME, MAX_TITLE};
use crate::ids::{OpId, ReplicaId, Seq, MAX_LAMPORT, MAX_SEQ};

/// Most replicas one delta may name.
pub const MAX_DELTA_REPLICAS: usize = 1 << 16;
/// Largest text in one insert, in bytes.
pub const MAX_INSERT_BYTES: usize = 16 << 20;

impl Delta {
    /// Encodes this delta: a compact frame (lead byte, body, checksum).
    pub fn encode(&self) -> Vec<u8> {
        compact::encode(self)
    }

    /// Decodes a delta in either frame (compact, or the envelope of earlier
    /// builds), checking every field; never panics.
    pub fn decode(bytes: &[u8]) -> Result<Delta, DecodeError> {
        let (frame, body) = envelope::open_frame(bytes, KIND_DELTA)?;
        let mut r = Reader::new(body);
        let blocks = read_blocks(&mut r, frame)?;
        r.finish()?;
        Ok(Delta { blocks })
    }
}

/// Reads the replica table and the blocks of a body in `frame`'s layout.
/// Empty blocks are dropped.
fn read_blocks(r: &mut Reader<'_>, frame: Frame) -> Result<Vec<Block>, DecodeError> {
    // A compact body with one replica holds its op count in the head.
    let (table, mut ops) = match frame {
        Frame::Compact => compact::read_head(r)?,
        Frame::Envelope => {
            let n = r.len("delta replicas", MAX_DELTA_REPLICAS)?;
            (read_table(r, n)?, None)
        }
    };
    // An envelope counts its blocks, each naming its replica; a compact
    // body has one block per replica of the table, in table order.
    let slots = match frame {
        Frame::Compact => table.len(),
        Frame::Envelope => r.len("delta blocks", MAX_DELTA_REPLICAS)?,
    };
    let mut blocks = Vec::new();
    let mut prev = None;
    for slot in 0..slots {
        let index = match frame {
            Frame::Compact => slot as u64,
            Frame::Envelope => r.varint()?,
        };
        let replica = replica_at(&table, index)?;
        if prev.is_some_and(|p| p >= replica) {
            return Err(DecodeError::Invalid {
                what: "blocks not in ascending replica order",
            });
        }
        prev = Some(replica);
        let n = match ops.take() {
            Some(n) => n,
            None => r.len("block operations", usize::MAX)?,
        };
        if n > 0 {
            blocks.push(read_block(r, frame, &table, replica, n)?);
        }
    }
    Ok(blocks)
}

/// Reads `n` replica ids, which must be strictly ascending. `n` was checked
/// against the bytes left.
fn read_table(r: &mut Reader<'_>, n: usize) -> Result<Vec<ReplicaId>, DecodeError> {
    let mut table = Vec::with_capacity(n);
    for _ in 0..n {
        let id = r.replica()?;
        if table.last().is_some_and(|&last| last >= id) {
            return Err(DecodeError::Invalid {
                what: "replica table not strictly ascending",
            });
        }
        table.push(id);
    }
    Ok(table)
}

/// The replica at index `i` of the table.
fn replica_at(table: &[ReplicaId], i: u64) -> Result<ReplicaId, DecodeError> {
    usize::try_from(i)
        .ok()
        .and_then(|i| table.get(i).copied())
        .ok_or(DecodeError::Invalid {
            what: "replica index",
        })
}

/// The sequence numbers of one block's ops: ascending, not overlapping, and
/// within `MAX_SEQ`.
#[derive(Default)]
struct SeqCursor {
    prev_end: u64,
}

impl SeqCursor {
    /// The `seq` of the next op, `gap` after the end of the previous one.
    fn start(&self, gap: u64) -> Result<Seq, DecodeError> {
        let seq = self.prev_end.checked_add(gap).ok_or(DecodeError::Invalid {
            what: "sequence gap",
        })?;
        seq_field(seq)
    }

    /// Records `op`'s end.
    fn end(&mut self, op: &Op) -> Result<(), DecodeError> {
        self.prev_end = u64::from(op.seq) + u64::from(op.body.len());
        if self.prev_end > u64::from(MAX_SEQ) {
            return Err(seq_limit(self.prev_end));
        }
        Ok(())
    }
}

fn seq_limit(value: u64) -> DecodeError {
    DecodeError::LimitExceeded {
        what: "sequence number",
        value,
        limit: u64::from(MAX_SEQ),
    }
}

/// A sequence number: below `MAX_SEQ`.
fn seq_field(v: u64) -> Result<Seq, DecodeError> {
    if v >= u64::from(MAX_SEQ) {
        return Err(seq_limit(v));
    }
    Ok(v as Seq)
}

/// An operation length: 1 to `MAX_SEQ - 1`.
fn len_field(v: u64) -> Result<u32, DecodeError> {
    if v == 0 {
        return Err(DecodeError::Invalid {
            what: "zero-length operation",
        });
    }
    seq_field(v)
}

/// An insert's Lamport timestamp: `lamport + len` at most `MAX_LAMPORT`
/// (`Doc::apply` refuses more). Checked while decoding so that the
/// difference the compact body stores always fits.
fn lamport_field(lamport: u64, len: u32) -> Result<u64, DecodeError> {
    let limit = MAX_LAMPORT - u64::from(len);
    if lamport > limit {
        return Err(DecodeError::LimitExceeded {
            what: "lamport",
            value: lamport,
            limit,
        });
    }
    Ok(lamport)
}

/// Title fields (after the tag or header): `wall_ms | counter | value`.
fn write_title(w: &mut Writer, time: &Hlc, value: &str) {
    w.varint(time.wall_ms);
    w.varint(u64::from(time.counter));
    w.str(value);
}

fn read_title(r: &mut Reader<'_>) -> Result<Body, DecodeError> {
    let wall_ms = r.varint()?;
    let counter = r.varint_u32()?;
    let value = r.str("title", MAX_TITLE)?.to_owned();
    Ok(Body::Title {
        time: Hlc::new(wall_ms, counter),
        value,
    })
}

/// Counter fields (after the tag or header): `name | p | n`.
fn write_counter(w: &mut Writer, name: &str, p: u64, n: u64) {
    w.str(name);
    w.varint(p);
    w.varint(n);
}

fn read_counter(r: &mut Reader<'_>) -> Result<Body, DecodeError> {
    let name = r.str("counter name", MAX_COUNTER_NAME)?.to_owned();
    Ok(Body::Counter {
        name,
        p: r.varint()?,
        n: r.varint()?,
    })
}

/// Reads a block: `n` ops of `replica` in `frame`'s layout, checking their
/// sequence numbers.
fn read_block(
    r: &mut Reader<'_>,
    frame: Frame,
    table: &[ReplicaId],
    replica: ReplicaId,
    n: usize,
) -> Result<Block, DecodeError> {
    let mut ops = Vec::with_capacity(n);
    let mut seqs = SeqCursor::default();
    let mut lamport_end = None;
    for _ in 0..n {
        let seq = seqs.start(r.varint()?)?;
        let id = OpId::new(replica, seq);
        let op = Op {
            seq,
            body: op::read(r, frame, table, id, &mut lamport_end)?,
        };
        seqs.end(&op)?;
        ops.push(op);
    }
    Ok(Block { replica, ops })
}
