//! The compact delta body, which [`Delta::encode`] writes
//! (`docs/PROTOCOL.md`, "Compact delta body").
//!
//! A delta usually carries one replica's latest keystroke, so the body is
//! shaped for that: no block table when one replica is named, one header
//! varint per op holding its kind, flags and length, an insert's length
//! taken from its text, and every number that grows with the history
//! (Lamport timestamp, origin, delete target) relative to the op's own
//! sequence number. Every relative field is decoded with checked arithmetic.

use super::{
    lamport_field, len_field, read_counter, read_ops, read_table, read_title, replica_at,
    seq_field, write_counter, write_title, MAX_DELTA_REPLICAS, MAX_INSERT_BYTES,
};
use crate::codec::envelope::{self, KIND_DELTA};
use crate::codec::reader::Reader;
use crate::codec::writer::Writer;
use crate::codec::DecodeError;
use crate::delta::{Block, Body, Delta, Op};
use crate::ids::{OpId, ReplicaId, Seq};

/// Body head, low bit: one replica (`head >> 1` is its op count minus 1)
/// or a replica table (`head >> 1` replicas).
const HEAD_ONE_REPLICA: u64 = 1;

/// Op header, low bit: 0 for an insert, 1 for anything else.
const H_NOT_INSERT: u64 = 1;
/// Insert: the text follows (else the characters are deleted, text dropped).
const H_HAS_TEXT: u64 = 1 << 1;
/// Insert: the origin kind, two bits.
const H_ORIGIN_SHIFT: u32 = 2;
/// Delete (low bits `01`), title (`0011`) and counter (`0111`).
const H_KIND_MASK: u64 = 3;
const H_DELETE: u64 = 1;
const H_TITLE: u64 = 3;
const H_COUNTER: u64 = 7;
/// Delete: targets run backwards.
const H_REVERSED: u64 = 1 << 2;
/// Delete: the target is the block replica's own, stored as a distance.
const H_OWN_TARGET: u64 = 1 << 3;
/// Insert and delete: the length (an insert with text: its UTF-8 bytes).
const H_LEN_SHIFT: u32 = 4;

/// Origin kinds.
const ORIGIN_ROOT: u64 = 0;
/// The block replica's `seq - 1`.
const ORIGIN_CHAIN: u64 = 1;
/// The block replica's `seq - 2 - distance`.
const ORIGIN_OWN: u64 = 2;
const ORIGIN_EXPLICIT: u64 = 3;

/// Writes `delta` as a compact frame.
pub(super) fn encode(delta: &Delta) -> Vec<u8> {
    let mut blocks: Vec<&Block> = delta.blocks.iter().filter(|b| !b.ops.is_empty()).collect();
    blocks.sort_by_key(|b| b.replica);
    debug_assert!(blocks.windows(2).all(|w| w[0].replica < w[1].replica));
    let mut table: Vec<ReplicaId> = blocks.iter().map(|b| b.replica).collect();
    for b in &blocks {
        table.extend(b.ops.iter().filter_map(|op| named_replica(b.replica, op)));
    }
    table.sort_unstable();
    table.dedup();

    let ops: usize = blocks.iter().map(|b| b.ops.len()).sum();
    let mut w = envelope::begin_compact(KIND_DELTA, 1 + 9 * table.len() + 8 * ops);
    if let ([_], [block]) = (&table[..], &blocks[..]) {
        w.varint(((block.ops.len() as u64 - 1) << 1) | HEAD_ONE_REPLICA);
        w.replica(block.replica);
        write_ops(&mut w, block, &table);
    } else {
        w.varint((table.len() as u64) << 1);
        for &r in &table {
            w.replica(r);
        }
        let mut blocks = blocks.into_iter().peekable();
        for &r in &table {
            match blocks.next_if(|b| b.replica == r) {
                Some(b) => {
                    w.varint(b.ops.len() as u64);
                    write_ops(&mut w, b, &table);
                }
                None => w.varint(0),
            }
        }
    }
    envelope::finish(w)
}

/// The replica an op names in the table: an origin or target that is not an
/// earlier op of the block's own replica.
fn named_replica(replica: ReplicaId, op: &Op) -> Option<ReplicaId> {
    let id = match &op.body {
        Body::Insert { origin, .. } => (*origin)?,
        Body::Delete { target, .. } => *target,
        Body::Title { .. } | Body::Counter { .. } => return None,
    };
    (!is_own_earlier(replica, op.seq, id)).then_some(id.replica)
}

fn is_own_earlier(replica: ReplicaId, seq: Seq, id: OpId) -> bool {
    id.replica == replica && id.seq < seq
}

fn index(table: &[ReplicaId], r: ReplicaId) -> u64 {
    table.binary_search(&r).expect("replica in table") as u64
}

/// The Lamport timestamp an insert is stored relative to: the end of the
/// block's previous insert, else `seq + 1` (what one replica typing alone
/// gets).
fn predicted_lamport(prev_end: Option<u64>, seq: Seq) -> u64 {
    prev_end.unwrap_or(u64::from(seq) + 1)
}

fn write_ops(w: &mut Writer, b: &Block, table: &[ReplicaId]) {
    let mut prev_end = 0;
    let mut lamport_end = None;
    for op in &b.ops {
        w.varint(u64::from(op.seq - prev_end));
        prev_end = op.end();
        match &op.body {
            Body::Insert {
                len,
                lamport,
                origin,
                content,
            } => {
                let kind = match origin {
                    None => ORIGIN_ROOT,
                    Some(o) if is_own_earlier(b.replica, op.seq, *o) => {
                        if o.seq + 1 == op.seq {
                            ORIGIN_CHAIN
                        } else {
                            ORIGIN_OWN
                        }
                    }
                    Some(_) => ORIGIN_EXPLICIT,
                };
                let n = content.as_ref().map_or(u64::from(*len), |c| c.len() as u64);
                let has_text = if content.is_some() { H_HAS_TEXT } else { 0 };
                w.varint(n << H_LEN_SHIFT | kind << H_ORIGIN_SHIFT | has_text);
                let predicted = predicted_lamport(lamport_end, op.seq);
                w.varint_signed(lamport.wrapping_sub(predicted) as i64);
                lamport_end = Some(lamport.saturating_add(u64::from(*len)));
                match (kind, origin) {
                    (ORIGIN_OWN, Some(o)) => w.varint(u64::from(op.seq - 2 - o.seq)),
                    (ORIGIN_EXPLICIT, Some(o)) => {
                        w.varint(index(table, o.replica));
                        w.varint(u64::from(o.seq));
                    }
                    _ => {}
                }
                if let Some(c) = content {
                    debug_assert_eq!(c.chars().count(), *len as usize);
                    w.raw(c.as_bytes());
                }
            }
            Body::Delete {
                len,
                target,
                reversed,
            } => {
                let own = is_own_earlier(b.replica, op.seq, *target);
                let mut header = u64::from(*len) << H_LEN_SHIFT | H_DELETE;
                header |= if *reversed { H_REVERSED } else { 0 };
                header |= if own { H_OWN_TARGET } else { 0 };
                w.varint(header);
                if own {
                    w.varint(u64::from(op.seq - 1 - target.seq));
                } else {
                    w.varint(index(table, target.replica));
                    w.varint(u64::from(target.seq));
                }
            }
            Body::Title { time, value } => {
                w.varint(H_TITLE);
                write_title(w, time, value);
            }
            Body::Counter { name, p, n } => {
                w.varint(H_COUNTER);
                write_counter(w, name, *p, *n);
            }
        }
    }
}

/// Reads the body's blocks.
pub(super) fn read_blocks(r: &mut Reader<'_>) -> Result<Vec<Block>, DecodeError> {
    let at = r.offset();
    let head = r.varint()?;
    if head & HEAD_ONE_REPLICA != 0 {
        let n = r.count("block operations", (head >> 1) + 1, usize::MAX, at)?;
        let replica = r.replica()?;
        return Ok(vec![read_block(r, &[replica], replica, n)?]);
    }
    let n = r.count("delta replicas", head >> 1, MAX_DELTA_REPLICAS, at)?;
    let table = read_table(r, n)?;
    let mut blocks = Vec::new();
    for &replica in &table {
        let n = r.len("block operations", usize::MAX)?;
        if n > 0 {
            blocks.push(read_block(r, &table, replica, n)?);
        }
    }
    Ok(blocks)
}

fn read_block(
    r: &mut Reader<'_>,
    table: &[ReplicaId],
    replica: ReplicaId,
    n: usize,
) -> Result<Block, DecodeError> {
    let mut lamport_end = None;
    read_ops(r, replica, n, |r, seq| {
        let at = r.offset();
        let header = r.varint()?;
        if header & H_NOT_INSERT == 0 {
            let id = OpId::new(replica, seq);
            return read_insert(r, (at, header), table, id, &mut lamport_end);
        }
        match header & H_KIND_MASK {
            H_DELETE => {
                let len = len_field(header >> H_LEN_SHIFT)?;
                let target = if header & H_OWN_TARGET != 0 {
                    let distance = r.varint()?;
                    own_earlier(replica, seq, 1, distance, "delete target distance")?
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
    })
}

/// The op `seq - back - distance` of `replica`, or `Invalid { what }` below 0.
fn own_earlier(
    replica: ReplicaId,
    seq: Seq,
    back: u64,
    distance: u64,
    what: &'static str,
) -> Result<OpId, DecodeError> {
    let earlier = u64::from(seq)
        .checked_sub(back)
        .and_then(|s| s.checked_sub(distance))
        .ok_or(DecodeError::Invalid { what })?;
    // Below `seq`, which fits.
    Ok(OpId::new(replica, earlier as Seq))
}

/// Reads an insert after its `header` (read at offset `at`).
fn read_insert(
    r: &mut Reader<'_>,
    (at, header): (usize, u64),
    table: &[ReplicaId],
    id: OpId,
    lamport_end: &mut Option<u64>,
) -> Result<Body, DecodeError> {
    let difference = r.varint_signed()?;
    let lamport = predicted_lamport(*lamport_end, id.seq)
        .checked_add_signed(difference)
        .ok_or(DecodeError::Invalid {
            what: "insert lamport",
        })?;
    let origin = match (header >> H_ORIGIN_SHIFT) & 3 {
        ORIGIN_ROOT => None,
        ORIGIN_CHAIN => Some(own_earlier(
            id.replica,
            id.seq,
            1,
            0,
            "chained origin at seq 0",
        )?),
        ORIGIN_OWN => {
            let distance = r.varint()?;
            Some(own_earlier(
                id.replica,
                id.seq,
                2,
                distance,
                "origin distance",
            )?)
        }
        _ => Some(OpId::new(
            replica_at(table, r.varint()?)?,
            seq_field(r.varint()?)?,
        )),
    };
    let n = header >> H_LEN_SHIFT;
    let (len, content) = if header & H_HAS_TEXT != 0 {
        let n = r.count("insert text", n, MAX_INSERT_BYTES, at)?;
        let text = r.utf8(n)?;
        (
            len_field(text.chars().count() as u64)?,
            Some(text.to_owned()),
        )
    } else {
        (len_field(n)?, None)
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
