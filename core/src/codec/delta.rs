//! Encoding of [`Delta`]s (`KIND_DELTA`, see `docs/PROTOCOL.md`).

use super::envelope::{self, KIND_DELTA};
use super::reader::Reader;
use super::writer::Writer;
use super::DecodeError;
use crate::crdt::hlc::Hlc;
use crate::delta::{Block, Body, Delta, Op};
use crate::doc::{MAX_COUNTER_NAME, MAX_TITLE};
use crate::ids::{OpId, ReplicaId, MAX_SEQ};

/// Operation tags.
pub(crate) const OP_INSERT: u8 = 1;
pub(crate) const OP_DELETE: u8 = 2;
pub(crate) const OP_TITLE: u8 = 3;
pub(crate) const OP_COUNTER: u8 = 4;

/// Insert flags (low bits of the insert header).
const INSERT_HAS_CONTENT: u64 = 1;
const ORIGIN_ROOT: u64 = 0;
const ORIGIN_CHAIN: u64 = 1 << 1; // the block replica's `seq - 1`
const ORIGIN_EXPLICIT: u64 = 2 << 1;
const ORIGIN_MASK: u64 = 3 << 1;

/// Most replicas one delta may name.
pub const MAX_DELTA_REPLICAS: usize = 1 << 16;
/// Largest text in one insert, in bytes.
pub const MAX_INSERT_BYTES: usize = 16 << 20;

impl Delta {
    /// Encodes this delta (magic, version, body, checksum).
    pub fn encode(&self) -> Vec<u8> {
        let mut table: Vec<ReplicaId> = Vec::new();
        let mut note = |r: ReplicaId| table.push(r);
        for b in &self.blocks {
            note(b.replica);
            for op in &b.ops {
                match &op.body {
                    Body::Insert {
                        origin: Some(o), ..
                    } => note(o.replica),
                    Body::Delete { target, .. } => note(target.replica),
                    _ => {}
                }
            }
        }
        table.sort_unstable();
        table.dedup();
        let idx = |r: ReplicaId| table.binary_search(&r).expect("replica in table") as u64;

        let mut w = envelope::begin(KIND_DELTA);
        w.varint(table.len() as u64);
        for r in &table {
            w.replica(*r);
        }
        let mut blocks: Vec<&Block> = self.blocks.iter().filter(|b| !b.ops.is_empty()).collect();
        blocks.sort_by_key(|b| b.replica);
        w.varint(blocks.len() as u64);
        for b in blocks {
            w.varint(idx(b.replica));
            w.varint(b.ops.len() as u64);
            let mut prev_end = 0;
            for op in &b.ops {
                w.varint(u64::from(op.seq - prev_end));
                prev_end = op.end();
                write_op(&mut w, b.replica, op, &idx);
            }
        }
        envelope::finish(w)
    }

    /// Decodes a delta, checking every field; never panics.
    pub fn decode(bytes: &[u8]) -> Result<Delta, DecodeError> {
        let body = envelope::open(bytes, KIND_DELTA)?;
        let mut r = Reader::new(body);
        let n = r.len("delta replicas", MAX_DELTA_REPLICAS)?;
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
        let replica = |i: u64| -> Result<ReplicaId, DecodeError> {
            usize::try_from(i)
                .ok()
                .and_then(|i| table.get(i).copied())
                .ok_or(DecodeError::Invalid {
                    what: "replica index",
                })
        };
        let nblocks = r.len("delta blocks", MAX_DELTA_REPLICAS)?;
        let mut blocks = Vec::with_capacity(nblocks);
        for _ in 0..nblocks {
            let rep = replica(r.varint()?)?;
            if blocks.last().is_some_and(|b: &Block| b.replica >= rep) {
                return Err(DecodeError::Invalid {
                    what: "blocks not in ascending replica order",
                });
            }
            let nops = r.len("block operations", usize::MAX)?;
            let mut ops = Vec::with_capacity(nops);
            let mut prev_end: u64 = 0;
            for _ in 0..nops {
                let seq = prev_end
                    .checked_add(r.varint()?)
                    .ok_or(DecodeError::Invalid {
                        what: "sequence gap",
                    })?;
                if seq >= u64::from(MAX_SEQ) {
                    return Err(DecodeError::LimitExceeded {
                        what: "sequence number",
                        value: seq,
                        limit: u64::from(MAX_SEQ),
                    });
                }
                let op = read_op(&mut r, rep, seq as u32, &replica)?;
                prev_end = u64::from(op.seq) + u64::from(op.body.len());
                if prev_end > u64::from(MAX_SEQ) {
                    return Err(DecodeError::LimitExceeded {
                        what: "sequence number",
                        value: prev_end,
                        limit: u64::from(MAX_SEQ),
                    });
                }
                ops.push(op);
            }
            blocks.push(Block { replica: rep, ops });
        }
        r.finish()?;
        Ok(Delta { blocks })
    }
}

fn write_op(w: &mut Writer, replica: ReplicaId, op: &Op, idx: &impl Fn(ReplicaId) -> u64) {
    match &op.body {
        Body::Insert {
            len,
            lamport,
            origin,
            content,
        } => {
            w.u8(OP_INSERT);
            let mut header = if content.is_some() {
                INSERT_HAS_CONTENT
            } else {
                0
            };
            header |= match origin {
                None => ORIGIN_ROOT,
                Some(o) if o.replica == replica && o.seq + 1 == op.seq => ORIGIN_CHAIN,
                Some(_) => ORIGIN_EXPLICIT,
            };
            w.varint(header);
            w.varint(u64::from(*len));
            w.varint(*lamport);
            if let Some(o) = origin.filter(|o| !(o.replica == replica && o.seq + 1 == op.seq)) {
                w.varint(idx(o.replica));
                w.varint(u64::from(o.seq));
            }
            if let Some(c) = content {
                w.str(c);
            }
        }
        Body::Delete {
            len,
            target,
            reversed,
        } => {
            w.u8(OP_DELETE);
            w.varint(u64::from(*len) << 1 | u64::from(*reversed));
            w.varint(idx(target.replica));
            w.varint(u64::from(target.seq));
        }
        Body::Title { time, value } => {
            w.u8(OP_TITLE);
            w.varint(time.wall_ms);
            w.varint(u64::from(time.counter));
            w.str(value);
        }
        Body::Counter { name, p, n } => {
            w.u8(OP_COUNTER);
            w.str(name);
            w.varint(*p);
            w.varint(*n);
        }
    }
}

fn seq_field(v: u64) -> Result<u32, DecodeError> {
    if v >= u64::from(MAX_SEQ) {
        return Err(DecodeError::LimitExceeded {
            what: "sequence number",
            value: v,
            limit: u64::from(MAX_SEQ),
        });
    }
    Ok(v as u32)
}

fn len_field(v: u64) -> Result<u32, DecodeError> {
    if v == 0 {
        return Err(DecodeError::Invalid {
            what: "zero-length operation",
        });
    }
    seq_field(v)
}

fn read_op(
    r: &mut Reader<'_>,
    replica: ReplicaId,
    seq: u32,
    table: &impl Fn(u64) -> Result<ReplicaId, DecodeError>,
) -> Result<Op, DecodeError> {
    let tag = r.u8()?;
    let body = match tag {
        OP_INSERT => {
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
                ORIGIN_EXPLICIT => Some(OpId::new(table(r.varint()?)?, seq_field(r.varint()?)?)),
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
            Body::Insert {
                len,
                lamport,
                origin,
                content,
            }
        }
        OP_DELETE => {
            let header = r.varint()?;
            let len = len_field(header >> 1)?;
            let target = OpId::new(table(r.varint()?)?, seq_field(r.varint()?)?);
            Body::Delete {
                len,
                target,
                reversed: header & 1 == 1,
            }
        }
        OP_TITLE => {
            let wall_ms = r.varint()?;
            let counter = r.varint_u32()?;
            let value = r.str("title", MAX_TITLE)?.to_owned();
            Body::Title {
                time: Hlc::new(wall_ms, counter),
                value,
            }
        }
        OP_COUNTER => {
            let name = r.str("counter name", MAX_COUNTER_NAME)?.to_owned();
            Body::Counter {
                name,
                p: r.varint()?,
                n: r.varint()?,
            }
        }
        other => {
            return Err(DecodeError::UnknownTag {
                what: "operation",
                tag: u64::from(other),
            })
        }
    };
    Ok(Op { seq, body })
}
