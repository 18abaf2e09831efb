//! The `Presence` class (`doc.presence`): one-line methods over
//! `quire_core::presence::Presence`, kept per document, plus listeners and
//! the timer that expires silent peers and notices idle ones. Time is
//! `Date.now()`; a `SyncClient` reads and feeds the same state.

use crate::convert;
use crate::error::{code, Error};
use crate::sync_client::host::{self, Timer};
use js_sys::{Array, Function};
use quire_core::presence::{Presence as CorePresence, PresenceOptions, User};
use quire_core::ReplicaId;
use std::cell::RefCell;
use std::fmt;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

type CoreDoc = quire_core::Doc;

fn now() -> u64 {
    js_sys::Date::now() as u64
}

fn busy() -> Error {
    Error::new(
        code::BUSY,
        "presence is in use by a call that has not returned",
    )
}

#[derive(Default)]
struct Listeners {
    next_id: u32,
    list: Vec<(u32, Function)>,
}

impl Listeners {
    fn add(&mut self, f: Function) -> u32 {
        let id = self.next_id;
        self.next_id = self.next_id.wrapping_add(1);
        self.list.push((id, f));
        id
    }

    fn all(&self) -> Vec<Function> {
        self.list.iter().map(|(_, f)| f.clone()).collect()
    }
}

struct State {
    core: CorePresence,
    idle_after_ms: u64,
    timeout_ms: u64,
    /// Peers last reported idle, by id (to tell listeners when that flips).
    idle: Vec<ReplicaId>,
    /// When the local state was last set.
    local_active: u64,
    /// A "left" body made by `leave()`, for a `SyncClient` to send.
    left: Option<Vec<u8>>,
    timer: Option<Timer>,
}

impl State {
    /// Peers whose idle flag changed since the last call.
    fn idle_flips(&mut self, now: u64) -> Vec<ReplicaId> {
        // Both sorted by id (users come in id order).
        let idle: Vec<ReplicaId> = self.core.idle(now).iter().map(|u| u.id).collect();
        let mut flips = Vec::new();
        for (from, to) in [(&idle, &self.idle), (&self.idle, &idle)] {
            flips.extend(from.iter().filter(|id| to.binary_search(id).is_err()));
        }
        self.idle = idle;
        flips
    }

    /// When a peer next goes idle or expires.
    fn deadline(&self, now: u64) -> Option<u64> {
        let users = self.core.users(now);
        let each = users.iter().map(|u| {
            let expires = u.last_heard + self.timeout_ms + 1;
            match u.idle {
                true => expires,
                false => expires.min(u.last_active + self.idle_after_ms),
            }
        });
        each.min()
    }

    fn live(&self, u: &User, now: u64) -> bool {
        now.saturating_sub(u.last_heard) <= self.timeout_ms
    }
}

/// The presence of one document, shared by its `Doc`, `Presence` handles
/// and `SyncClient`s.
pub(crate) struct Shared {
    state: RefCell<State>,
    listeners: RefCell<Listeners>,
    /// `SyncClient`s to tell when the local state changes.
    hooks: RefCell<Listeners>,
    tick: Closure<dyn FnMut()>,
    timeout_ms: u64,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presence").finish_non_exhaustive()
    }
}

/// Stops telling a `SyncClient` about local changes when dropped.
pub(crate) struct Hook(Weak<Shared>, u32);

impl Drop for Hook {
    fn drop(&mut self) {
        if let Some(shared) = self.0.upgrade() {
            if let Ok(mut h) = shared.hooks.try_borrow_mut() {
                h.list.retain(|(i, _)| *i != self.1);
            }
        }
    }
}

impl Shared {
    pub(crate) fn new(local: ReplicaId, options: PresenceOptions) -> Rc<Shared> {
        let timeout_ms = options.timeout_ms;
        Rc::new_cyclic(|weak: &Weak<Shared>| {
            let weak = weak.clone();
            Shared {
                state: RefCell::new(State {
                    idle_after_ms: options.idle_after_ms,
                    timeout_ms,
                    core: CorePresence::with_options(local, options),
                    idle: Vec::new(),
                    local_active: 0,
                    left: None,
                    timer: None,
                }),
                listeners: RefCell::default(),
                hooks: RefCell::default(),
                timeout_ms,
                tick: Closure::new(move || {
                    if let Some(shared) = weak.upgrade() {
                        if let Err(e) = shared.tick() {
                            host::report(&e);
                        }
                    }
                }),
            }
        })
    }

    fn state(&self) -> Result<std::cell::RefMut<'_, State>, Error> {
        self.state.try_borrow_mut().map_err(|_| busy())
    }

    /// Calls `f` once per `SyncClient` hook (after a local change).
    fn notify_hooks(&self) {
        let hooks = self.hooks.try_borrow().map(|h| h.all()).unwrap_or_default();
        for f in hooks {
            if let Err(e) = f.call0(&JsValue::UNDEFINED) {
                host::report(&e);
            }
        }
    }

    /// Calls `f` after every local change until the returned hook drops.
    pub(crate) fn on_local(self: &Rc<Self>, f: Function) -> Hook {
        let id = self.hooks.borrow_mut().add(f);
        Hook(Rc::downgrade(self), id)
    }

    /// The latest local body to send: the local state, or a "left" entry
    /// after `leave()`.
    pub(crate) fn outgoing(&self) -> Option<Vec<u8>> {
        let mut s = self.state.try_borrow_mut().ok()?;
        let now = now();
        s.core.keepalive(now).or_else(|| s.left.take())
    }

    /// A "left" body for a disconnect; the local state stays set, to be
    /// sent again on the next connection.
    pub(crate) fn leave_keeping_state(&self) -> Option<Vec<u8>> {
        let mut s = self.state.try_borrow_mut().ok()?;
        let state = s.core.local_state()?.clone();
        let now = now();
        let body = s.core.leave(now);
        // It was accepted before, so it is accepted again.
        let _ = s.core.set_local(state, now);
        Some(body)
    }

    /// The document became replica `local` (restored by a `SyncClient`,
    /// before it connects): keeps the local state, forgets the peers.
    pub(crate) fn rekey(&self, local: ReplicaId) {
        if let Ok(mut s) = self.state.try_borrow_mut() {
            let mut options = PresenceOptions::default();
            options.idle_after_ms = s.idle_after_ms;
            options.timeout_ms = s.timeout_ms;
            let state = s.core.local_state().cloned();
            s.core = CorePresence::with_options(local, options);
            if let Some(state) = state {
                // It was accepted before, so it is accepted again.
                let _ = s.core.set_local(state, now());
            }
        }
    }

    /// Applies a received body and tells the listeners.
    pub(crate) fn apply(&self, body: &[u8]) -> Result<bool, JsValue> {
        let changed = {
            let mut s = self.state()?;
            let now = now();
            let mut changed = s.core.apply(body, now).map_err(Error::from)?;
            changed.extend(s.idle_flips(now));
            changed
        };
        self.changed(changed)
    }

    /// Forgets every peer (the connection is gone) and tells the listeners.
    pub(crate) fn clear(&self) -> Result<(), JsValue> {
        let changed = {
            // In use: the next call clears.
            let Ok(mut s) = self.state.try_borrow_mut() else {
                return Ok(());
            };
            s.idle.clear();
            let ids: Vec<ReplicaId> = s.core.users(0).iter().map(|u| u.id).collect();
            ids.into_iter().filter(|&id| s.core.remove(id)).collect()
        };
        self.changed(changed).map(drop)
    }

    /// Expires silent peers and notices idle ones (the timer).
    fn tick(&self) -> Result<(), JsValue> {
        let changed = {
            let mut s = self.state()?;
            s.timer = None;
            let now = now();
            let mut changed = s.core.expire(now);
            changed.extend(s.idle_flips(now));
            changed
        };
        self.changed(changed).map(drop)
    }

    /// Re-arms the timer, then tells the listeners about `changed` (ids may
    /// repeat). Returns whether there were any.
    fn changed(&self, changed: Vec<ReplicaId>) -> Result<bool, JsValue> {
        self.rearm();
        let mut ids: Vec<ReplicaId> = Vec::with_capacity(changed.len());
        for id in changed {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        if ids.is_empty() {
            return Ok(false);
        }
        let targets = match self.listeners.try_borrow() {
            Ok(l) => l.all(),
            Err(_) => return Ok(true),
        };
        let event = convert::presence_event(&ids);
        let mut first_error = None;
        for f in targets {
            if let Err(e) = f.call1(&JsValue::UNDEFINED, &event) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(true), Err)
    }

    /// Runs the timer while someone listens and a peer can go idle or
    /// expire.
    fn rearm(&self) {
        let listening = self
            .listeners
            .try_borrow()
            .is_ok_and(|l| !l.list.is_empty());
        let Ok(mut s) = self.state.try_borrow_mut() else {
            return;
        };
        let now = now();
        let tick = self.tick.as_ref().unchecked_ref();
        s.timer = (s.deadline(now).filter(|_| listening))
            .map(|at| Timer::start(tick, at.saturating_sub(now)));
    }
}

/// Least time between two presence messages of a `SyncClient` after
/// local changes (the relay fans out at most one per 50 ms per client).
const SEND_INTERVAL_MS: u64 = 50;

/// What a `SyncClient` keeps to carry a document's presence: the local
/// state at most once per `SEND_INTERVAL_MS` after changes, and again as a
/// keepalive every third of the timeout. Times are the client's clock.
pub(crate) struct Link {
    shared: Rc<Shared>,
    keepalive_ms: u64,
    due: bool,
    last_sent: Option<u64>,
}

impl Link {
    pub(crate) fn new(shared: Rc<Shared>) -> Link {
        let timeout = shared.timeout_ms;
        Link {
            shared,
            keepalive_ms: (timeout / 3).max(1),
            due: false,
            last_sent: None,
        }
    }

    /// The local state changed: send it soon.
    pub(crate) fn changed(&mut self) {
        self.due = true;
    }

    /// The session went live: send the local state now.
    pub(crate) fn live(&mut self) {
        self.due = true;
        self.last_sent = None;
    }

    /// When `poll` has something to do (while live).
    pub(crate) fn deadline(&self) -> Option<u64> {
        let wait = if self.due {
            SEND_INTERVAL_MS
        } else {
            self.keepalive_ms
        };
        match self.last_sent {
            Some(t) => Some(t + wait),
            None => self.due.then_some(0),
        }
    }

    /// The body to send now, if it is time.
    pub(crate) fn poll(&mut self, now: u64) -> Option<Vec<u8>> {
        if self.deadline().is_none_or(|at| now < at) {
            return None;
        }
        self.due = false;
        self.last_sent = Some(now);
        self.shared.outgoing()
    }

    /// A "left" body to send before disconnecting.
    pub(crate) fn leave(&mut self) -> Option<Vec<u8>> {
        self.shared.leave_keeping_state()
    }
}

/// The presence of a document: who else is in it, where their cursors
/// are, and this client's own state. Get it as `doc.presence`.
#[wasm_bindgen]
pub struct Presence {
    doc: Rc<RefCell<CoreDoc>>,
    shared: Rc<Shared>,
}

impl fmt::Debug for Presence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Presence").finish_non_exhaustive()
    }
}

impl Presence {
    pub(crate) fn new(doc: Rc<RefCell<CoreDoc>>, shared: Rc<Shared>) -> Presence {
        Presence { doc, shared }
    }

    fn doc(&self) -> Result<std::cell::Ref<'_, CoreDoc>, Error> {
        self.doc
            .try_borrow()
            .map_err(|_| Error::new(code::BUSY, "the document is in use"))
    }
}

#[wasm_bindgen]
impl Presence {
    /// Sets this client's state after a user action (name, colour, caret,
    /// selection; UTF-16 indexes, clamped to the text) and returns the
    /// encoded body to send to peers. A connected `SyncClient` sends it.
    #[wasm_bindgen(js_name = setLocal)]
    pub fn set_local(
        &self,
        #[wasm_bindgen(unchecked_param_type = "LocalPresence")] state: JsValue,
    ) -> Result<Vec<u8>, JsValue> {
        let state = convert::client_state(&*self.doc()?, &state)?;
        let body = {
            let mut s = self.shared.state()?;
            let now = now();
            let body = s.core.set_local(state, now).map_err(Error::from)?;
            s.local_active = now;
            s.left = None;
            body
        };
        self.shared.notify_hooks();
        Ok(body)
    }

    /// The local state again, without new activity (a keepalive: peers
    /// expire a client not heard from within `timeoutMs`); undefined before
    /// `setLocal`.
    pub fn keepalive(&self) -> Result<Option<Vec<u8>>, JsValue> {
        Ok(self.shared.state()?.core.keepalive(now()))
    }

    /// Clears the local state and returns a "left" body to send.
    pub fn leave(&self) -> Result<Vec<u8>, JsValue> {
        let body = {
            let mut s = self.shared.state()?;
            let body = s.core.leave(now());
            s.left = Some(body.clone());
            body
        };
        self.shared.notify_hooks();
        Ok(body)
    }

    /// Applies a body from a peer (from its `setLocal`, `keepalive` or
    /// `leave`); returns whether a user changed. Throws `DECODE` or `LIMIT`
    /// (and changes nothing) on a malformed body.
    pub fn apply(&self, body: &[u8]) -> Result<bool, JsValue> {
        self.shared.apply(body)
    }

    /// This client (first, `local: true`, once `setLocal` was called) and
    /// every peer heard from within `timeoutMs`, with cursors resolved
    /// against the current text.
    #[wasm_bindgen(unchecked_return_type = "PresenceUser[]")]
    pub fn users(&self) -> Result<Array, JsValue> {
        let doc = self.doc()?;
        let s = self.shared.state.try_borrow().map_err(|_| busy())?;
        let now = now();
        let out = Array::new();
        if let Some(state) = s.core.local_state() {
            let me = User {
                id: s.core.local(),
                state: state.clone(),
                idle: now.saturating_sub(s.local_active) >= s.idle_after_ms,
                last_active: s.local_active,
                last_heard: now,
            };
            out.push(&convert::user(&doc, &me, true));
        }
        for u in s.core.users(now).iter().filter(|u| s.live(u, now)) {
            out.push(&convert::user(&doc, u, false));
        }
        Ok(out)
    }

    /// Calls `listener({ changed })` when peers join, change, go idle or
    /// active, or leave (`changed`: their ids); returns a function that
    /// unsubscribes it.
    #[wasm_bindgen(js_name = onPresence, unchecked_return_type = "() => void")]
    pub fn on_presence(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(event: PresenceEvent) => void")] listener: JsValue,
    ) -> Result<JsValue, JsValue> {
        let listener = convert::listener(listener)?;
        let id = (self.shared.listeners.try_borrow_mut())
            .map_err(|_| busy())?
            .add(listener);
        self.shared.rearm();
        let weak = Rc::downgrade(&self.shared);
        let off = Closure::<dyn FnMut()>::new(move || {
            if let Some(shared) = weak.upgrade() {
                if let Ok(mut l) = shared.listeners.try_borrow_mut() {
                    l.list.retain(|(i, _)| *i != id);
                }
                shared.rearm();
            }
        });
        Ok(off.into_js_value())
    }
}

#[wasm_bindgen(typescript_custom_section)]
const TS_PRESENCE_TYPES: &'static str = r##"
/** Options of a document's presence (`DocOptions.presence`), in milliseconds. */
export interface PresenceOptions {
  /** A user is idle this long after their last `setLocal` (default 300000). */
  idleAfterMs?: number;
  /** A peer not heard from for longer is dropped (default 30000); a `SyncClient` sends keepalives every third of it. */
  timeoutMs?: number;
}

/** The argument of `presence.setLocal`; indexes in UTF-16 code units. */
export interface LocalPresence {
  name: string;
  /** E.g. "#e91e63". */
  color: string;
  /** Small application data, e.g. JSON (the whole state is at most 8 KiB). */
  data?: string;
  /** The caret. */
  cursor?: number | null;
  /** `start` is where the selection began, `end` the caret (may come first). */
  selection?: { start: number; end: number } | null;
}

/** A user as `presence.users()` lists them; indexes in UTF-16 code units in the current text. */
export interface PresenceUser {
  /** The client's replica id, in decimal (`BigInt(id)` is its `replicaId`). */
  id: string;
  name: string;
  color: string;
  data: string;
  cursor: number | null;
  selection: { start: number; end: number } | null;
  /** Zero-based line and UTF-16 column of the caret (the cursor, else the selection end). */
  line: number | null;
  column: number | null;
  /** No activity for `idleAfterMs`. */
  idle: boolean;
  /** This client itself. */
  local: boolean;
}

/** Passed to `onPresence` listeners. */
export interface PresenceEvent {
  /** Ids of the users who joined, changed, went idle or active, or left. */
  changed: string[];
}
"##;
