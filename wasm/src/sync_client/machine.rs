//! The connection state machine around the core's `ClientSession`: socket
//! events, timers, reconnection with backoff, and what to tell the
//! application once the state is released (`Output`).

use super::convert::{self, sync_code, Backoff, Failure, Report};
use super::host::{self, Socket, SocketHandlers, Timer};
use super::{Callbacks, CoreDoc};
use crate::presence;
use js_sys::Function;
use quire_core::sync::{
    close, ClientConfig, ClientSession, Resume, SessionEvent, Status, SyncError,
};
use quire_core::{ApplyOutcome, ReplicaId};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Something the client reacts to.
pub(super) enum Input {
    Connect,
    Disconnect,
    Opened(JsValue),
    /// A socket's message; `None` for a text frame.
    Message(JsValue, Option<Vec<u8>>),
    Closed(JsValue, u16, String),
    Tick,
    Retry,
    Local,
    Online(bool),
    Loaded(Option<Resume>),
    /// Saving or restoring the document failed.
    Storage(String),
    /// The document's local presence changed.
    Presence,
}

/// What to tell the application once the state is released.
#[derive(Default)]
pub(super) struct Output {
    pub(super) remote: Vec<ApplyOutcome>,
    /// The resume point and pending count, for the stored record.
    pub(super) note: Option<(Option<String>, u64)>,
    /// Presence bodies from peers.
    pub(super) presence: Vec<Vec<u8>>,
    /// Not live: forget the peers' presence.
    pub(super) offline: bool,
}

/// The connection state machine around the session.
pub(super) struct State {
    pub(super) core: Rc<RefCell<CoreDoc>>,
    pub(super) session: ClientSession,
    /// The session's replica, and how to make another one.
    pub(super) replica: ReplicaId,
    pub(super) config: ClientConfig,
    pub(super) url: String,
    pub(super) websocket: Function,
    pub(super) backoff: Backoff,
    pub(super) connect_timeout_ms: u64,
    pub(super) socket: Option<Socket>,
    /// The socket's `open` event came (the session is past `connected`).
    pub(super) opened: bool,
    pub(super) opening_since: u64,
    /// `connect()` was called and not `disconnect()`.
    pub(super) wanted: bool,
    /// No `offline` event since the last `online` one.
    pub(super) online: bool,
    /// The document was restored from storage (or there is none).
    pub(super) loaded: bool,
    pub(super) attempt: u32,
    pub(super) tick: Option<(u64, Timer)>,
    pub(super) retry: Option<Timer>,
    pub(super) noted: Option<(Option<Resume>, u64)>,
    pub(super) failure: Option<Failure>,
    pub(super) stopped: bool,
    pub(super) presence: presence::Link,
}

impl State {
    pub(super) fn handle(&mut self, input: Input, cb: &Callbacks, out: &mut Output) {
        let now = host::now();
        match input {
            Input::Connect => {
                self.wanted = true;
                self.attempt = 0;
                self.retry = None;
                self.open(cb, now);
            }
            Input::Disconnect => self.disconnect(now),
            Input::Opened(target) if self.current(&target) => {
                self.opened = true;
                let connected =
                    (self.core.try_borrow()).map(|doc| self.session.connected(&doc, now));
                match connected {
                    Ok(()) => self.flush(cb),
                    Err(_) => self.busy(cb),
                }
            }
            Input::Message(target, bytes) if self.current(&target) => match bytes {
                Some(bytes) => self.receive(&bytes, now, cb, out),
                None => self.fail(
                    &SyncError::Protocol {
                        what: "a text frame (the protocol is binary)",
                    },
                    cb,
                ),
            },
            Input::Closed(target, code, reason) if self.current(&target) => {
                self.drop_socket(close::NORMAL);
                self.failed(convert::closed(code, &reason), cb);
            }
            Input::Tick => {
                self.tick = None;
                self.on_tick(now, cb);
            }
            Input::Retry => {
                self.retry = None;
                self.open(cb, now);
            }
            Input::Presence => {
                self.presence.changed();
                self.send_presence(now);
                self.flush(cb);
            }
            Input::Local => {
                let sent = match self.core.try_borrow() {
                    Ok(doc) => self.session.local_changes(&doc, now),
                    // Captured at the next edit or reconnect.
                    Err(_) => false,
                };
                if sent {
                    self.flush(cb);
                }
            }
            Input::Online(online) => {
                self.online = online;
                self.retry = None;
                if online {
                    self.attempt = 0;
                    self.open(cb, now);
                } else {
                    self.drop_socket(close::NORMAL);
                }
            }
            Input::Loaded(resume) if !self.loaded => {
                self.loaded = true;
                if resume.is_some() {
                    self.session.set_resume(resume);
                }
                self.open(cb, now);
            }
            Input::Storage(message) => {
                self.failure = Some(Failure::new(sync_code::STORAGE, message, false));
            }
            // Events of sockets already dropped.
            _ => {}
        }
    }

    fn current(&self, target: &JsValue) -> bool {
        self.socket.as_ref().is_some_and(|s| s.is(target))
    }

    pub(super) fn report(&self) -> Report {
        let status = match (self.session.status(), &self.socket) {
            (Status::Live, _) => "live",
            (_, Some(_)) => "connecting",
            (_, None) => "offline",
        };
        Report {
            status,
            pending: self.session.pending(),
            server_seq: self.session.server_seq(),
            restored: self.loaded,
            read_only: self.session.read_only(),
        }
    }

    /// Opens a socket if one is wanted and allowed now.
    fn open(&mut self, cb: &Callbacks, now: u64) {
        if !self.wanted || self.stopped || !self.online || !self.loaded || self.socket.is_some() {
            return;
        }
        self.retry = None;
        let handlers = SocketHandlers {
            open: cb.open.as_ref().unchecked_ref(),
            message: cb.message.as_ref().unchecked_ref(),
            close: cb.close.as_ref().unchecked_ref(),
            error: &cb.noop,
        };
        match Socket::open(&self.websocket, &self.url, &handlers) {
            Ok(socket) => {
                self.socket = Some(socket);
                self.opened = false;
                self.opening_since = now;
            }
            Err(e) => {
                // A bad URL will not get better by retrying.
                let fatal = e
                    .dyn_ref::<js_sys::Error>()
                    .is_some_and(|e| e.name() == "SyntaxError");
                let message = format!(
                    "cannot open a WebSocket to {}: {}",
                    self.url,
                    host::describe(&e)
                );
                self.failed(Failure::new(sync_code::CONNECT, message, fatal), cb);
            }
        }
    }

    /// Says goodbye and stops reconnecting until the next `connect()`.
    pub(super) fn disconnect(&mut self, now: u64) {
        self.wanted = false;
        self.retry = None;
        if self.socket.is_some() {
            if self.session.status() == Status::Live {
                if let Some(body) = self.presence.leave() {
                    self.session.send_presence(body, now);
                }
            }
            self.session.close(now);
            while let Some(frame) = self.session.poll_transmit() {
                if let Some(s) = self.socket.as_ref().filter(|_| self.opened) {
                    let _ = s.send(&frame);
                }
            }
            self.drop_socket(close::NORMAL);
        }
    }

    fn receive(&mut self, bytes: &[u8], now: u64, cb: &Callbacks, out: &mut Output) {
        let result =
            (self.core.try_borrow_mut()).map(|mut doc| self.session.receive(&mut doc, bytes, now));
        let Ok(result) = result else {
            return self.busy(cb);
        };
        match result {
            Ok(events) => {
                for event in events {
                    match event {
                        SessionEvent::Remote(outcome) => out.remote.push(outcome),
                        SessionEvent::Status(Status::Live) => {
                            self.attempt = 0;
                            self.failure = None;
                            self.presence.live();
                        }
                        SessionEvent::Presence(body) => out.presence.push(body),
                        SessionEvent::ServerError(e) => {
                            self.failure = Some(convert::server_error(&e));
                        }
                        _ => {}
                    }
                }
                if self.session.status() == Status::Offline {
                    // The server said bye: it closes next; reconnect later.
                    self.drop_socket(close::NORMAL);
                    let message = "the server ended the session (bye)";
                    return self.failed(Failure::new(sync_code::CLOSED, message, false), cb);
                }
                self.send_presence(now);
                self.flush(cb);
            }
            Err(e) => self.fail(&e, cb),
        }
    }

    fn on_tick(&mut self, now: u64, cb: &Callbacks) {
        if self.socket.is_some() && !self.opened {
            if now >= self.opening_since + self.connect_timeout_ms {
                self.drop_socket(close::NORMAL);
                let message = format!("could not connect within {} ms", self.connect_timeout_ms);
                self.failed(
                    Failure::new(sync_code::HANDSHAKE_TIMEOUT, message, false),
                    cb,
                );
            }
            return;
        }
        match self.session.handle_timeout(now) {
            Ok(()) => {
                self.send_presence(now);
                self.flush(cb);
            }
            Err(e) => self.fail(&e, cb),
        }
    }

    /// Queues the local presence when it is due (while live).
    fn send_presence(&mut self, now: u64) {
        if self.session.status() == Status::Live {
            if let Some(body) = self.presence.poll(now) {
                self.session.send_presence(body, now);
            }
        }
    }

    /// Sends what the session queued.
    fn flush(&mut self, cb: &Callbacks) {
        let mut error = None;
        while let Some(frame) = self.session.poll_transmit() {
            let Some(socket) = self.socket.as_ref().filter(|_| self.opened) else {
                continue;
            };
            if let Err(e) = socket.send(&frame) {
                error = Some(e);
                break;
            }
        }
        if let Some(e) = error {
            self.drop_socket(close::NORMAL);
            let message = format!("sending failed: {}", host::describe(&e));
            self.failed(Failure::new(sync_code::CONNECT, message, false), cb);
        }
    }

    /// The document was borrowed by a call that has not returned (it cannot
    /// be, short of a bug): start over on a new connection.
    fn busy(&mut self, cb: &Callbacks) {
        self.drop_socket(close::NORMAL);
        self.failed(
            Failure::new(crate::error::code::BUSY, "the document was in use", false),
            cb,
        );
    }

    /// The session cannot go on over this socket.
    fn fail(&mut self, e: &SyncError, cb: &Callbacks) {
        self.drop_socket(e.close_code());
        let mut failure = Failure::from(e);
        failure.fatal |= self.session.stopped().is_some();
        self.failed(failure, cb);
    }

    fn drop_socket(&mut self, code: u16) {
        if let Some(socket) = self.socket.take() {
            socket.close(code);
        }
        self.opened = false;
        self.session.disconnected();
    }

    /// Records why the connection ended; reconnects later unless fatal.
    fn failed(&mut self, failure: Failure, cb: &Callbacks) {
        if failure.fatal {
            self.stopped = true;
            self.retry = None;
        } else if self.wanted && self.online && self.socket.is_none() {
            let delay = self.backoff.delay(self.attempt, host::random());
            self.attempt = self.attempt.saturating_add(1);
            self.retry = Some(Timer::start(cb.retry.as_ref().unchecked_ref(), delay));
        }
        self.failure = Some(failure);
    }

    /// Arms the timer for the session's next deadline (or the connect
    /// timeout), keeping an armed one that fires no later.
    pub(super) fn reschedule(&mut self, cb: &Callbacks, now: u64) {
        let deadline = if self.socket.is_some() && !self.opened {
            Some(self.opening_since + self.connect_timeout_ms)
        } else {
            let live = self.session.status() == Status::Live;
            let presence = self.presence.deadline().filter(|_| live);
            match (self.session.poll_timeout(), presence) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        match (deadline, &self.tick) {
            (None, _) => self.tick = None,
            (Some(d), Some((armed, _))) if *armed <= d => {}
            (Some(d), _) => {
                let timer = Timer::start(cb.tick.as_ref().unchecked_ref(), d.saturating_sub(now));
                self.tick = Some((d, timer));
            }
        }
    }
}
