//! Presence over the relay (`docs/PROTOCOL.md`, "Presence"): the latest
//! entry of each connection of a room, fanned out to the others at most
//! once per interval per client (latest wins), the join snapshot, and the
//! "left" entries sent when a connection ends. Ephemeral: none of it goes
//! to the store or the log.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use quire_core::presence::{
    encode_entries, validate_client_body, PresenceEntry, PresenceError, MAX_PRESENCE_ENTRIES,
    MAX_PRESENCE_STATE,
};
use quire_core::sync::{ErrorCode, Message};
use quire_core::{DecodeError, ReplicaId};
use tokio::time::Instant;

/// Largest presence body a client may send: one entry (client 8 bytes,
/// two varints of at most 10, kind, state length) around a state of at
/// most `MAX_PRESENCE_STATE` bytes. Larger bodies are refused unread.
pub const MAX_CLIENT_BODY: usize = MAX_PRESENCE_STATE + 32;

/// Checks a presence body from the connection of `sender`: its size, that
/// it decodes and holds exactly the sender's own entry. On refusal, the
/// non-fatal error to answer with.
pub fn check_client_body(
    body: &[u8],
    sender: ReplicaId,
) -> Result<PresenceEntry, (ErrorCode, String)> {
    if body.len() > MAX_CLIENT_BODY {
        let text = format!(
            "presence body of {} bytes, above the limit of {MAX_CLIENT_BODY}",
            body.len()
        );
        return Err((ErrorCode::TOO_LARGE, text));
    }
    validate_client_body(body, sender).map_err(|e| {
        let code = match &e {
            PresenceError::ForgedClient { .. } => ErrorCode::FORGED_REPLICA,
            PresenceError::TooLarge { .. }
            | PresenceError::Decode(DecodeError::LimitExceeded { .. }) => ErrorCode::TOO_LARGE,
            _ => ErrorCode::MALFORMED,
        };
        (code, e.to_string())
    })
}

/// A user of a document as `/status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct UserView {
    /// The client's replica id, 16 hex digits.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Colour.
    pub color: String,
    /// No activity for the idle threshold.
    pub idle: bool,
}

#[derive(Debug)]
struct UserStatus {
    replica: ReplicaId,
    name: String,
    color: String,
    last_active: Instant,
}

/// The users of one room, readable by `/status` while the room runs.
#[derive(Debug, Default)]
pub struct Users(Mutex<BTreeMap<u64, UserStatus>>);

impl Users {
    fn lock(&self) -> MutexGuard<'_, BTreeMap<u64, UserStatus>> {
        // Map operations cannot panic halfway.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The users, by replica id; idle when `now − last activity ≥ idle_after`.
    pub fn view(&self, now: Instant, idle_after: Duration) -> Vec<UserView> {
        let mut users: Vec<(ReplicaId, UserView)> = (self.lock().values())
            .map(|u| {
                let view = UserView {
                    id: u.replica.to_string(),
                    name: u.name.clone(),
                    color: u.color.clone(),
                    idle: now.saturating_duration_since(u.last_active) >= idle_after,
                };
                (u.replica, view)
            })
            .collect();
        users.sort_by_key(|(r, _)| *r);
        users.into_iter().map(|(_, v)| v).collect()
    }

    fn set(&self, conn: u64, t: &Tracked) {
        let mut users = self.lock();
        let Some(state) = &t.entry.state else {
            users.remove(&conn);
            return;
        };
        match users.get_mut(&conn) {
            Some(u) => {
                u.last_active = t.last_active;
                if u.name != state.user.name || u.color != state.user.color {
                    u.name.clone_from(&state.user.name);
                    u.color.clone_from(&state.user.color);
                }
            }
            None => {
                let user = UserStatus {
                    replica: t.entry.client,
                    name: state.user.name.clone(),
                    color: state.user.color.clone(),
                    last_active: t.last_active,
                };
                users.insert(conn, user);
            }
        }
    }

    fn remove(&self, conn: u64) {
        self.lock().remove(&conn);
    }

    fn clear(&self) {
        self.lock().clear();
    }
}

#[derive(Debug)]
struct Tracked {
    /// The latest accepted entry.
    entry: PresenceEntry,
    /// When its activity counter last changed (relay clock).
    last_active: Instant,
    /// When this client's state last went out.
    last_sent: Option<Instant>,
    /// When the latest entry goes out, if it is held back by the interval.
    due: Option<Instant>,
}

/// The presence of one room's connections.
#[derive(Debug)]
pub(crate) struct RoomPresence {
    interval: Duration,
    clients: HashMap<u64, Tracked>,
    /// Held-back entries by due time.
    due: BTreeSet<(Instant, u64)>,
}

/// A `presence` frame carrying `entries`.
fn frame(entries: &[PresenceEntry]) -> Bytes {
    Bytes::from(Message::Presence(encode_entries(entries)).encode())
}

impl RoomPresence {
    /// Fan-out at most once per `interval` per client.
    pub(crate) fn new(interval: Duration) -> Self {
        Self {
            interval,
            clients: HashMap::new(),
            due: BTreeSet::new(),
        }
    }

    /// Stores a checked entry of `conn`. Returns the frame to send the
    /// other clients now, or `None` when the entry is stale (its clock is
    /// not above the last one) or held back until the interval ends.
    pub(crate) fn update(
        &mut self,
        conn: u64,
        entry: PresenceEntry,
        now: Instant,
        users: &Users,
    ) -> Option<Bytes> {
        let t = match self.clients.entry(conn) {
            Entry::Occupied(o) => {
                let t = o.into_mut();
                // Receivers would ignore it too; it must not replace a newer one.
                if entry.clock <= t.entry.clock {
                    return None;
                }
                if entry.activity != t.entry.activity {
                    t.last_active = now;
                }
                t.entry = entry;
                t
            }
            Entry::Vacant(v) => v.insert(Tracked {
                entry,
                last_active: now,
                last_sent: None,
                due: None,
            }),
        };
        users.set(conn, t);
        if t.due.is_some() {
            return None; // already scheduled: the newer entry goes then
        }
        if let Some(next) = t.last_sent.map(|s| s + self.interval).filter(|&n| n > now) {
            t.due = Some(next);
            self.due.insert((next, conn));
            return None;
        }
        t.last_sent = Some(now);
        Some(frame(std::slice::from_ref(&t.entry)))
    }

    /// When the earliest held-back entry is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.due.first().map(|&(at, _)| at)
    }

    /// The held-back entries due by `now`: `(conn, frame)` for each, to
    /// send every client but `conn`.
    pub(crate) fn take_due(&mut self, now: Instant) -> Vec<(u64, Bytes)> {
        let mut out = Vec::new();
        while let Some(&(at, conn)) = self.due.first() {
            if at > now {
                break;
            }
            self.due.pop_first();
            if let Some(t) = self.clients.get_mut(&conn) {
                t.due = None;
                t.last_sent = Some(now);
                out.push((conn, frame(std::slice::from_ref(&t.entry))));
            }
        }
        out
    }

    /// The current presence of every client, for one that joins: one frame
    /// (more only beyond `MAX_PRESENCE_ENTRIES` clients); none when empty.
    pub(crate) fn snapshot(&self) -> Vec<Bytes> {
        let entries: Vec<PresenceEntry> = (self.clients.values())
            .filter(|t| t.entry.state.is_some())
            .map(|t| t.entry.clone())
            .collect();
        entries.chunks(MAX_PRESENCE_ENTRIES).map(frame).collect()
    }

    /// Forgets `conn` (it disconnected, was replaced or timed out). Returns
    /// the "left" frame to send the others at once, if it had presence.
    pub(crate) fn remove(&mut self, conn: u64, users: &Users) -> Option<Bytes> {
        let t = self.clients.remove(&conn)?;
        if let Some(at) = t.due {
            self.due.remove(&(at, conn));
        }
        users.remove(conn);
        Some(frame(&[PresenceEntry::left(t.entry.client, t.entry.clock)]))
    }

    /// Forgets everyone (the room is closing).
    pub(crate) fn clear(&mut self, users: &Users) {
        self.clients.clear();
        self.due.clear();
        users.clear();
    }
}

#[cfg(test)]
mod tests {
    use quire_core::presence::{decode_entries, ClientState, UserInfo};

    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn entry(client: u64, clock: u64, activity: u64, name: &str) -> PresenceEntry {
        PresenceEntry {
            client: ReplicaId(client),
            clock,
            activity,
            state: Some(ClientState {
                user: UserInfo {
                    name: name.into(),
                    color: "#f00".into(),
                    data: String::new(),
                },
                cursor: None,
                selection: None,
            }),
        }
    }

    fn entries_of(frame: &Bytes) -> Vec<PresenceEntry> {
        match Message::decode(frame).unwrap() {
            Message::Presence(body) => decode_entries(&body).unwrap(),
            other => panic!("not presence: {other:?}"),
        }
    }

    #[test]
    fn updates_within_the_interval_are_coalesced_and_the_latest_goes_out() {
        let users = Users::default();
        let mut p = RoomPresence::new(50 * MS);
        let t0 = Instant::now();
        assert!(p.update(1, entry(1, 1, 1, "a"), t0, &users).is_some());
        assert!(p
            .update(1, entry(1, 2, 2, "b"), t0 + 10 * MS, &users)
            .is_none());
        assert!(p
            .update(1, entry(1, 3, 3, "c"), t0 + 20 * MS, &users)
            .is_none());
        assert_eq!(p.next_due(), Some(t0 + 50 * MS));
        assert!(p.take_due(t0 + 49 * MS).is_empty());
        let due = p.take_due(t0 + 50 * MS);
        assert_eq!(due.len(), 1);
        assert_eq!(entries_of(&due[0].1), vec![entry(1, 3, 3, "c")]);
        assert_eq!(p.next_due(), None);
    }

    #[test]
    fn stale_entries_are_ignored() {
        let users = Users::default();
        let mut p = RoomPresence::new(50 * MS);
        let t0 = Instant::now();
        p.update(1, entry(1, 5, 1, "new"), t0, &users);
        assert!(p
            .update(1, entry(1, 5, 2, "dup"), t0 + 60 * MS, &users)
            .is_none());
        assert!(p
            .update(1, entry(1, 4, 2, "old"), t0 + 60 * MS, &users)
            .is_none());
        assert_eq!(entries_of(&p.snapshot()[0]), vec![entry(1, 5, 1, "new")]);
    }

    #[test]
    fn removing_a_client_yields_its_left_entry_and_cancels_what_is_held_back() {
        let users = Users::default();
        let mut p = RoomPresence::new(50 * MS);
        let t0 = Instant::now();
        p.update(7, entry(3, 1, 1, "a"), t0, &users);
        p.update(7, entry(3, 9, 1, "b"), t0 + MS, &users);
        let left = p.remove(7, &users).unwrap();
        assert_eq!(
            entries_of(&left),
            vec![PresenceEntry::left(ReplicaId(3), 9)]
        );
        assert!(p.take_due(t0 + 100 * MS).is_empty());
        assert!(p.snapshot().is_empty());
        assert!(users.view(t0, 50 * MS).is_empty());
        assert!(p.remove(7, &users).is_none());
    }

    #[test]
    fn users_turn_idle_without_activity_and_active_again_with_it() {
        let users = Users::default();
        let mut p = RoomPresence::new(MS);
        let t0 = Instant::now();
        p.update(1, entry(1, 1, 1, "a"), t0, &users);
        let idle = |at| users.view(at, 100 * MS)[0].idle;
        assert!(!idle(t0 + 99 * MS));
        // A keepalive (same activity) does not count as activity.
        p.update(1, entry(1, 2, 1, "a"), t0 + 50 * MS, &users);
        assert!(idle(t0 + 100 * MS));
        p.update(1, entry(1, 3, 2, "a"), t0 + 120 * MS, &users);
        assert!(!idle(t0 + 130 * MS));
        assert_eq!(users.view(t0, MS)[0].id, "0000000000000001");
    }

    #[test]
    fn a_body_claiming_another_client_or_too_large_is_refused() {
        let body = encode_entries(&[entry(2, 1, 1, "x")]);
        assert_eq!(
            check_client_body(&body, ReplicaId(1)).unwrap_err().0,
            ErrorCode::FORGED_REPLICA
        );
        assert!(check_client_body(&body, ReplicaId(2)).is_ok());
        let huge = vec![0u8; MAX_CLIENT_BODY + 1];
        assert_eq!(
            check_client_body(&huge, ReplicaId(1)).unwrap_err().0,
            ErrorCode::TOO_LARGE
        );
        assert_eq!(
            check_client_body(&[9, 9, 9], ReplicaId(1)).unwrap_err().0,
            ErrorCode::MALFORMED
        );
    }
}
