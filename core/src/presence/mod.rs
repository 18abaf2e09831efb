//! Presence: who is in a document, where their cursor and selection are,
//! and whether they are idle. Ephemeral: never part of a document's history
//! or its encoding; it travels in `Message::Presence` (layout in
//! `docs/PROTOCOL.md`, "Presence").
//!
//! Each client sends only its own entry: `(client, clock, activity, state)`.
//! - `clock` orders one client's entries, so stale or duplicate ones are
//!   ignored. The sender takes `max(previous + 1, now)`, so a client that
//!   restarts (and forgot its clock) still moves forward, as long as its
//!   wall clock does not run backwards.
//! - `activity` is bumped by the sender on each user action; a receiver
//!   sets `last_active = now` (its own clock) when it changes, so no clock
//!   synchronisation is needed. A client seen for the first time counts as
//!   active then.
//! - Clients re-send their state as a keepalive ([`Presence::keepalive`]);
//!   an entry not heard from within [`PresenceOptions::timeout_ms`] expires.
//! - A `None` state means "left". The relay sends one, with the client's
//!   last clock, when a connection ends; it removes the client if its clock
//!   is at least the known one.
//!
//! Cursors and selections are [`Anchor`]s: resolve them against the local
//! [`crate::Doc`] for indexes and lines.

mod wire;

use crate::codec::DecodeError;
use crate::doc::Anchor;
use crate::ids::ReplicaId;
use crate::util::VecMap;

pub use wire::{
    decode_entries, encode_entries, validate_client_body, MAX_PRESENCE_ENTRIES, MAX_PRESENCE_STATE,
    MAX_USER_COLOR, MAX_USER_NAME,
};

/// Who a client is, as shown to others.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct UserInfo {
    /// Display name (at most [`MAX_USER_NAME`] bytes).
    pub name: String,
    /// Colour, e.g. `"#e91e63"` (at most [`MAX_USER_COLOR`] bytes).
    pub color: String,
    /// Small application data, e.g. JSON (the whole state must fit in
    /// [`MAX_PRESENCE_STATE`] bytes).
    pub data: String,
}

/// A selection as the user made it: `start` is where it began, `end` where
/// the caret is; `end` may come before `start`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Selection {
    /// Where the selection began.
    pub start: Anchor,
    /// Where it ends (the caret).
    pub end: Anchor,
}

/// One client's presence state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClientState {
    /// Who the client is.
    pub user: UserInfo,
    /// The caret, if the client has focus.
    pub cursor: Option<Anchor>,
    /// The selection, if any.
    pub selection: Option<Selection>,
}

/// One entry of a presence body.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PresenceEntry {
    /// The client (its replica id).
    pub client: ReplicaId,
    /// Orders this client's entries.
    pub clock: u64,
    /// Bumped by the client on each user action.
    pub activity: u64,
    /// The state, or `None`: the client left.
    pub state: Option<ClientState>,
}

impl PresenceEntry {
    /// A "left" entry, as the relay sends when `client`'s connection ends;
    /// `clock` is the last clock it saw from that client.
    pub fn left(client: ReplicaId, clock: u64) -> Self {
        Self {
            client,
            clock,
            activity: 0,
            state: None,
        }
    }
}

/// Why presence could not be set or a body was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PresenceError {
    /// The body is malformed or hostile. Drop it (the relay: close with
    /// `malformed`).
    #[error("invalid presence body: {0}")]
    Decode(#[from] DecodeError),
    /// A state is larger than allowed. Shorten the named field.
    #[error("{what} is {size} bytes, above the limit of {limit}")]
    TooLarge {
        /// What is too large.
        what: &'static str,
        /// Its size in bytes.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A client's body must hold exactly one entry, its own.
    #[error("a client body holds {count} entries, not one")]
    NotOneEntry {
        /// How many it held.
        count: usize,
    },
    /// A client wrote presence as another client. The relay rejects it
    /// (`forged_replica`).
    #[error("client {sender:?} sent presence as {claimed:?}")]
    ForgedClient {
        /// The id in the entry.
        claimed: ReplicaId,
        /// The connection's replica.
        sender: ReplicaId,
    },
}

/// Settings of a [`Presence`] tracker (milliseconds).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PresenceOptions {
    /// A user is idle this long after their last activity (default 5 min).
    pub idle_after_ms: u64,
    /// An entry expires when not heard from for longer (default 30 s).
    /// Send keepalives well within it (e.g. every 10 s).
    pub timeout_ms: u64,
    /// Most remote clients tracked; entries of new clients beyond it are
    /// ignored.
    pub max_clients: usize,
}

impl Default for PresenceOptions {
    fn default() -> Self {
        Self {
            idle_after_ms: 5 * 60 * 1000,
            timeout_ms: 30 * 1000,
            max_clients: MAX_PRESENCE_ENTRIES,
        }
    }
}

/// A remote client as the tracker sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct User {
    /// The client's replica id.
    pub id: ReplicaId,
    /// Its latest state.
    pub state: ClientState,
    /// Whether it has been inactive for the idle threshold.
    pub idle: bool,
    /// When its activity counter last changed (local clock).
    pub last_active: u64,
    /// When an entry from it was last accepted (local clock).
    pub last_heard: u64,
}

#[derive(Clone, Debug)]
struct Peer {
    clock: u64,
    activity: u64,
    state: ClientState,
    last_active: u64,
    last_heard: u64,
}

/// The presence of one document, as one client (or the relay) sees it.
#[derive(Clone, Debug)]
pub struct Presence {
    local: ReplicaId,
    options: PresenceOptions,
    clock: u64,
    activity: u64,
    state: Option<ClientState>,
    peers: VecMap<ReplicaId, Peer>,
    /// Clients that left: their last clock and when, so a late duplicate
    /// of an older entry cannot bring them back (kept for `timeout_ms`).
    gone: VecMap<ReplicaId, (u64, u64)>,
}

impl Presence {
    /// A tracker for the local client `local`, with default settings.
    pub fn new(local: ReplicaId) -> Self {
        Self::with_options(local, PresenceOptions::default())
    }

    /// A tracker with explicit settings.
    pub fn with_options(local: ReplicaId, options: PresenceOptions) -> Self {
        Self {
            local,
            options,
            clock: 0,
            activity: 0,
            state: None,
            peers: VecMap::new(),
            gone: VecMap::new(),
        }
    }

    /// The local client's id.
    pub fn local(&self) -> ReplicaId {
        self.local
    }

    /// The local client's state, if set.
    pub fn local_state(&self) -> Option<&ClientState> {
        self.state.as_ref()
    }

    /// Sets the local state after a user action (typing, moving the caret)
    /// and returns the body to send in `Message::Presence`.
    pub fn set_local(&mut self, state: ClientState, now: u64) -> Result<Vec<u8>, PresenceError> {
        wire::check_state(&state)?;
        self.state = Some(state);
        self.activity += 1;
        Ok(self.local_body(now))
    }

    /// The local state again, without new activity: send it periodically
    /// so peers do not expire it. `None` before [`Presence::set_local`].
    pub fn keepalive(&mut self, now: u64) -> Option<Vec<u8>> {
        self.state.is_some().then(|| self.local_body(now))
    }

    /// Clears the local state and returns a "left" body to send.
    pub fn leave(&mut self, now: u64) -> Vec<u8> {
        self.state = None;
        self.local_body(now)
    }

    fn local_body(&mut self, now: u64) -> Vec<u8> {
        self.clock = (self.clock + 1).max(now);
        encode_entries(&[PresenceEntry {
            client: self.local,
            clock: self.clock,
            activity: self.activity,
            state: self.state.clone(),
        }])
    }

    /// Applies a received body. Returns the clients whose state, activity
    /// or membership changed. Entries about the local client, stale or
    /// duplicate entries, and new clients beyond `max_clients` are ignored.
    /// A malformed body changes nothing.
    pub fn apply(&mut self, body: &[u8], now: u64) -> Result<Vec<ReplicaId>, DecodeError> {
        let entries = decode_entries(body)?;
        let mut changed = Vec::new();
        for e in entries {
            if self.apply_entry(e.clone(), now) {
                changed.push(e.client);
            }
        }
        Ok(changed)
    }

    fn apply_entry(&mut self, e: PresenceEntry, now: u64) -> bool {
        if e.client == self.local {
            return false;
        }
        let known = self.peers.get(&e.client).map(|p| p.clock);
        let left_at = self.gone.get(&e.client).map(|&(c, _)| c);
        let Some(state) = e.state else {
            // A leave with the last clock seen still removes.
            if known.is_some_and(|c| e.clock < c) || left_at.is_some_and(|c| e.clock <= c) {
                return false;
            }
            self.remember_gone(e.client, e.clock, now);
            return self.peers.remove(&e.client).is_some();
        };
        if known.is_some_and(|c| e.clock <= c) || left_at.is_some_and(|c| e.clock <= c) {
            return false;
        }
        self.gone.remove(&e.client);
        if let Some(p) = self.peers.get_mut(&e.client) {
            let changed = p.activity != e.activity || p.state != state;
            if p.activity != e.activity {
                p.last_active = now;
            }
            p.clock = e.clock;
            p.activity = e.activity;
            p.state = state;
            p.last_heard = now;
            return changed;
        }
        if self.peers.len() >= self.options.max_clients {
            return false;
        }
        self.peers.insert(
            e.client,
            Peer {
                clock: e.clock,
                activity: e.activity,
                state,
                last_active: now,
                last_heard: now,
            },
        );
        true
    }

    fn remember_gone(&mut self, client: ReplicaId, clock: u64, now: u64) {
        if self.gone.len() >= self.options.max_clients {
            // Bounded: forget the oldest departure.
            if let Some((&oldest, _)) = self.gone.iter().min_by_key(|(_, &(_, at))| at) {
                self.gone.remove(&oldest);
            }
        }
        self.gone.insert(client, (clock, now));
    }

    /// Forgets a client (e.g. the relay saw it disconnect). Returns whether
    /// it was known.
    pub fn remove(&mut self, client: ReplicaId) -> bool {
        self.peers.remove(&client).is_some()
    }

    /// Removes the clients not heard from for longer than `timeout_ms` and
    /// returns their ids.
    pub fn expire(&mut self, now: u64) -> Vec<ReplicaId> {
        let timeout = self.options.timeout_ms;
        let dead: Vec<ReplicaId> = self
            .peers
            .iter()
            .filter(|(_, p)| now.saturating_sub(p.last_heard) > timeout)
            .map(|(&id, _)| id)
            .collect();
        for id in &dead {
            self.peers.remove(id);
        }
        self.gone
            .retain(|_, &mut (_, at)| now.saturating_sub(at) <= timeout);
        dead
    }

    /// Every remote client, by id.
    pub fn users(&self, now: u64) -> Vec<User> {
        self.peers
            .iter()
            .map(|(&id, p)| User {
                id,
                state: p.state.clone(),
                idle: now.saturating_sub(p.last_active) >= self.options.idle_after_ms,
                last_active: p.last_active,
                last_heard: p.last_heard,
            })
            .collect()
    }

    /// Remote clients active within the idle threshold.
    pub fn active(&self, now: u64) -> Vec<User> {
        self.users(now).into_iter().filter(|u| !u.idle).collect()
    }

    /// Remote clients idle for at least the threshold.
    pub fn idle(&self, now: u64) -> Vec<User> {
        self.users(now).into_iter().filter(|u| u.idle).collect()
    }

    /// The current entries of every remote client, e.g. for the relay to
    /// send to a joining client with [`encode_entries`].
    pub fn entries(&self) -> Vec<PresenceEntry> {
        self.peers
            .iter()
            .map(|(&client, p)| PresenceEntry {
                client,
                clock: p.clock,
                activity: p.activity,
                state: Some(p.state.clone()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
