//! The presence body carried by `Message::Presence` (see `docs/PROTOCOL.md`,
//! "Presence"): a list of per-client entries.

use super::{ClientState, PresenceEntry, PresenceError, Selection, UserInfo};
use crate::codec::reader::Reader;
use crate::codec::writer::Writer;
use crate::codec::DecodeError;
use crate::doc::{Anchor, Side};
use crate::ids::{OpId, ReplicaId};

/// Largest encoded state of one client, in bytes.
pub const MAX_PRESENCE_STATE: usize = 8 * 1024;
/// Most entries in one presence body (a join snapshot lists every client
/// of a document).
pub const MAX_PRESENCE_ENTRIES: usize = 1024;
/// Longest user name, in bytes.
pub const MAX_USER_NAME: usize = 256;
/// Longest colour string, in bytes.
pub const MAX_USER_COLOR: usize = 64;

/// Entry kinds.
const ENTRY_LEFT: u8 = 0;
const ENTRY_STATE: u8 = 1;
/// State flag bits.
const HAS_CURSOR: u8 = 1;
const HAS_SELECTION: u8 = 2;
/// Anchor tags.
const ANCHOR_START: u8 = 0;
const ANCHOR_END: u8 = 1;
const ANCHOR_BEFORE: u8 = 2;
const ANCHOR_AFTER: u8 = 3;

/// Encodes a presence body (no size checks: encode only states that
/// `Presence::set_local` accepted, or entries that were decoded).
pub fn encode_entries(entries: &[PresenceEntry]) -> Vec<u8> {
    let mut w = Writer::new();
    w.varint(entries.len() as u64);
    for e in entries {
        w.replica(e.client);
        w.varint(e.clock);
        w.varint(e.activity);
        match &e.state {
            None => w.u8(ENTRY_LEFT),
            Some(state) => {
                w.u8(ENTRY_STATE);
                w.bytes(&state_bytes(state));
            }
        }
    }
    w.into_inner()
}

/// The encoded size of a state, checked against [`MAX_PRESENCE_STATE`].
pub(crate) fn check_state(state: &ClientState) -> Result<(), PresenceError> {
    let size = state_bytes(state).len();
    for (what, size, limit) in [
        ("user name", state.user.name.len(), MAX_USER_NAME),
        ("user colour", state.user.color.len(), MAX_USER_COLOR),
        ("presence state", size, MAX_PRESENCE_STATE),
    ] {
        if size > limit {
            return Err(PresenceError::TooLarge { what, size, limit });
        }
    }
    Ok(())
}

fn state_bytes(s: &ClientState) -> Vec<u8> {
    let mut w = Writer::new();
    w.str(&s.user.name);
    w.str(&s.user.color);
    w.str(&s.user.data);
    let flags = if s.cursor.is_some() { HAS_CURSOR } else { 0 }
        | if s.selection.is_some() {
            HAS_SELECTION
        } else {
            0
        };
    w.u8(flags);
    if let Some(c) = &s.cursor {
        write_anchor(&mut w, c);
    }
    if let Some(sel) = &s.selection {
        write_anchor(&mut w, &sel.start);
        write_anchor(&mut w, &sel.end);
    }
    w.into_inner()
}

fn write_anchor(w: &mut Writer, a: &Anchor) {
    match *a {
        Anchor::Start => w.u8(ANCHOR_START),
        Anchor::End => w.u8(ANCHOR_END),
        Anchor::Char { id, side } => {
            w.u8(match side {
                Side::Before => ANCHOR_BEFORE,
                Side::After => ANCHOR_AFTER,
            });
            w.replica(id.replica);
            w.varint(u64::from(id.seq));
        }
    }
}

/// Decodes a presence body, checking every field and limit; never panics.
pub fn decode_entries(body: &[u8]) -> Result<Vec<PresenceEntry>, DecodeError> {
    let mut r = Reader::new(body);
    // Each entry takes at least 11 bytes, so the count is bounded by the
    // bytes left before anything is allocated.
    let n = r.len("presence entries", MAX_PRESENCE_ENTRIES)?;
    let mut out = Vec::with_capacity(n.min(r.remaining() / 11));
    for _ in 0..n {
        let client = r.replica()?;
        let clock = r.varint()?;
        let activity = r.varint()?;
        let state = match r.u8()? {
            ENTRY_LEFT => None,
            ENTRY_STATE => {
                let bytes = r.bytes("presence state", MAX_PRESENCE_STATE)?;
                Some(read_state(bytes)?)
            }
            other => {
                return Err(DecodeError::UnknownTag {
                    what: "presence entry",
                    tag: u64::from(other),
                })
            }
        };
        out.push(PresenceEntry {
            client,
            clock,
            activity,
            state,
        });
    }
    r.finish()?;
    Ok(out)
}

/// Checks a body a client sent about itself, for the relay: it decodes,
/// holds exactly one entry, and that entry is the sender's own
/// (`sender` is the replica the connection said hello as).
pub fn validate_client_body(
    body: &[u8],
    sender: ReplicaId,
) -> Result<PresenceEntry, PresenceError> {
    let mut entries = decode_entries(body)?;
    if entries.len() != 1 {
        return Err(PresenceError::NotOneEntry {
            count: entries.len(),
        });
    }
    let entry = entries.remove(0);
    if entry.client != sender {
        return Err(PresenceError::ForgedClient {
            claimed: entry.client,
            sender,
        });
    }
    Ok(entry)
}

fn read_state(bytes: &[u8]) -> Result<ClientState, DecodeError> {
    let mut r = Reader::new(bytes);
    let name = r.str("user name", MAX_USER_NAME)?.to_owned();
    let color = r.str("user colour", MAX_USER_COLOR)?.to_owned();
    let data = r.str("user data", MAX_PRESENCE_STATE)?.to_owned();
    let flags = r.u8()?;
    if flags & !(HAS_CURSOR | HAS_SELECTION) != 0 {
        return Err(DecodeError::Invalid {
            what: "presence state flags",
        });
    }
    let cursor = if flags & HAS_CURSOR != 0 {
        Some(read_anchor(&mut r)?)
    } else {
        None
    };
    let selection = if flags & HAS_SELECTION != 0 {
        Some(Selection {
            start: read_anchor(&mut r)?,
            end: read_anchor(&mut r)?,
        })
    } else {
        None
    };
    r.finish()?;
    Ok(ClientState {
        user: UserInfo { name, color, data },
        cursor,
        selection,
    })
}

fn read_anchor(r: &mut Reader<'_>) -> Result<Anchor, DecodeError> {
    let side = match r.u8()? {
        ANCHOR_START => return Ok(Anchor::Start),
        ANCHOR_END => return Ok(Anchor::End),
        ANCHOR_BEFORE => Side::Before,
        ANCHOR_AFTER => Side::After,
        other => {
            return Err(DecodeError::UnknownTag {
                what: "anchor",
                tag: u64::from(other),
            })
        }
    };
    let replica = r.replica()?;
    let seq = r.varint_u32()?;
    Ok(Anchor::Char {
        id: OpId::new(replica, seq),
        side,
    })
}
