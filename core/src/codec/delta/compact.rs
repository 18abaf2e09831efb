//! The compact delta body, which [`Delta::encode`] writes
//! (`docs/PROTOCOL.md`, "Compact delta body").
//!
//! A delta usually carries one replica's latest keystroke, so the body is
//! shaped for that: no block table when one replica is named, one header
//! varint per op holding its kind, flags and length, an insert's length
//! taken from its text, and every number that grows with the history
//! (Lamport timestamp, origin, delete target) relative to the op's own
//! sequence number. Every relative field is decoded with checked arithmetic.
//!
//! This module writes the body and reads its head; [`super::op`] reads the
//! ops of both bodies, whose header layout is defined here.

use super::{read_table, write_counter, write_title, MAX_DELTA_REPLICAS};
use crate::codec::envelope::{self, KIND_DELTA};
use crate::codec::reader::Reader;
use crate::codec::writer::Writer;
use crate::codec::DecodeError;
use crate::delta::{Block, Body, Delta, Op};
use crate::ids::{OpId, ReplicaId, Seq};
use crate::sort::sort_unstable_by_key;

/// Body head, low bit: one replica (`head >> 1` is its op count minus 1)
/// or a replica table (`head >> 1` replicas).
const HEAD_ONE_REPLICA: u64 = 1;

/// Op header, low bit: 0 for an insert, 1 for anything else.
pub(super) const H_NOT_INSERT: u64 = 1;
/// Insert: the text follows (else the characters are deleted, text dropped).
pub(super) const H_HAS_TEXT: u64 = 1 << 1;
/// Insert: the origin kind, two bits.
pub(super) const H_ORIGIN_SHIFT: u32 = 2;
/// Delete (low bits `01`), title (`0011`) and counter (`0111`).
pub(super) const H_KIND_MASK: u64 = 3;
pub(super) const H_DELETE: u64 = 1;
pub(super) const H_TITLE: u64 = 3;
pub(super) const H_COUNTER: u64 = 7;
/// Delete: targets run backwards.
pub(super) const H_REVERSED: u64 = 1 << 2;
/// Delete: the target is the block replica's own, stored as a distance.
pub(super) const H_OWN_TARGET: u64 = 1 << 3;
/// Insert and delete: the length (an insert with text: its UTF-8 bytes).
pub(super) const H_LEN_SHIFT: u32 = 4;

/// Origin kinds.
pub(super) const ORIGIN_ROOT: u64 = 0;
/// The block replica's `seq - 1`.
pub(super) const ORIGIN_CHAIN: u64 = 1;
/// The block replica's `seq - 2 - distance`.
pub(super) const ORIGIN_OWN: u64 = 2;
pub(super) const ORIGIN_EXPLICIT: u64 = 3;

/// Writes `delta` as a compact frame.
pub(super) fn encode(delta: &Delta) -> Vec<u8> {
    // Plain loops: iterator adapters cost more code in the wasm module.
    let mut blocks: Vec<&Block> = Vec::new();
    let mut table: Vec<ReplicaId> = Vec::new();
    for b in &delta.blocks {
        if b.ops.is_empty() {
            continue;
        }
        blocks.push(b);
        table.push(b.replica);
        for op in &b.ops {
            if let Some(r) = named_replica(b.replica, op) {
                table.push(r);
            }
        }
    }
    sort_unstable_by_key(&mut blocks, |b| b.replica);
    debug_assert!(blocks.windows(2).all(|w| w[0].replica < w[1].replica));
    sort_unstable_by_key(&mut table, |&r| r);
    table.dedup();

    // Enough for a keystroke's delta.
    let mut w = envelope::begin_compact(KIND_DELTA, 32);
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

/// The index of `r`, which is in the table.
fn index(table: &[ReplicaId], r: ReplicaId) -> u64 {
    table.partition_point(|&t| t < r) as u64
}

/// The Lamport timestamp an insert is stored relative to: the end of the
/// block's previous insert, else `seq + 1` (what one replica typing alone
/// gets).
pub(super) fn predicted_lamport(prev_end: Option<u64>, seq: Seq) -> u64 {
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

/// Reads the body's head and replica table; with one replica, also its op
/// count, which the head holds.
pub(super) fn read_head(
    r: &mut Reader<'_>,
) -> Result<(Vec<ReplicaId>, Option<usize>), DecodeError> {
    let at = r.offset();
    let head = r.varint()?;
    if head & HEAD_ONE_REPLICA != 0 {
        let n = r.count("block operations", (head >> 1) + 1, usize::MAX, at)?;
        return Ok((vec![r.replica()?], Some(n)));
    }
    let n = r.count("delta replicas", head >> 1, MAX_DELTA_REPLICAS, at)?;
    Ok((read_table(r, n)?, None))
}
