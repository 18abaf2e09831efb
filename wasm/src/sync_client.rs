//! The `SyncClient` class: keeps a `Doc` in sync with a relay by driving the
//! core's sans-IO `ClientSession` over a WebSocket, with timers,
//! reconnection (exponential backoff, full jitter), and the document kept
//! in a storage between page loads (`persist`).
//!
//! Every input (socket events, timers, local edits, method calls) goes
//! through one queue and is handled with the state borrowed. Application
//! code (change and status listeners, storage) runs only once the borrow is
//! released, so it may call back into the client or edit the document.

mod convert;
pub(crate) mod host;
mod persist;
mod typescript;

use self::convert::{sync_code, Backoff, Failure, Report};
use self::host::{NetworkEvents, Socket, SocketHandlers, Timer};
use self::persist::Persist;
use crate::doc::Doc;
use crate::error::Error;
use crate::presence;
use js_sys::{Function, Reflect};
use quire_core::sync::{
    close, ClientConfig, ClientSession, Resume, SessionEvent, Status, SyncError,
};
use quire_core::{ApplyOutcome, ReplicaId};
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

type CoreDoc = quire_core::Doc;

/// Something the client reacts to.
enum Input {
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
struct Output {
    remote: Vec<ApplyOutcome>,
    /// The resume point and pending count, for the stored record.
    note: Option<(Option<String>, u64)>,
    /// Presence bodies from peers.
    presence: Vec<Vec<u8>>,
    /// Not live: forget the peers' presence.
    offline: bool,
}

/// JS functions made once per client; they hold only a `Weak` to it.
struct Callbacks {
    open: Closure<dyn FnMut(JsValue)>,
    message: Closure<dyn FnMut(JsValue)>,
    close: Closure<dyn FnMut(JsValue)>,
    tick: Closure<dyn FnMut()>,
    retry: Closure<dyn FnMut()>,
    local: Closure<dyn FnMut(JsValue)>,
    online: Closure<dyn FnMut()>,
    offline: Closure<dyn FnMut()>,
    presence: Closure<dyn FnMut()>,
    /// Owned by JS (it may be called after the client is freed).
    noop: Function,
}

/// The connection state machine around the session.
struct State {
    core: Rc<RefCell<CoreDoc>>,
    session: ClientSession,
    /// The session's replica, and how to make another one.
    replica: ReplicaId,
    config: ClientConfig,
    url: String,
    websocket: Function,
    backoff: Backoff,
    connect_timeout_ms: u64,
    socket: Option<Socket>,
    /// The socket's `open` event came (the session is past `connected`).
    opened: bool,
    opening_since: u64,
    /// `connect()` was called and not `disconnect()`.
    wanted: bool,
    /// No `offline` event since the last `online` one.
    online: bool,
    /// The document was restored from storage (or there is none).
    loaded: bool,
    attempt: u32,
    tick: Option<(u64, Timer)>,
    retry: Option<Timer>,
    noted: Option<(Option<Resume>, u64)>,
    failure: Option<Failure>,
    stopped: bool,
    presence: presence::Link,
}

#[derive(Default)]
struct Listeners {
    next_id: u32,
    list: Vec<(u32, Function)>,
}

/// Runs a function when dropped (unsubscribes the document listener).
struct OnDrop(Function);

impl Drop for OnDrop {
    fn drop(&mut self) {
        let _ = self.0.call0(&JsValue::UNDEFINED);
    }
}

struct Shared {
    // Dropped in this order: the socket and timers go before the callbacks
    // they would call.
    state: RefCell<State>,
    subscription: RefCell<Option<OnDrop>>,
    presence_hook: RefCell<Option<presence::Hook>>,
    network: RefCell<Option<NetworkEvents>>,
    inbox: RefCell<VecDeque<Input>>,
    doc: Doc,
    doc_id: String,
    persist: OnceCell<Persist>,
    listeners: RefCell<Listeners>,
    report: Cell<Report>,
    failure: RefCell<Option<Failure>>,
    callbacks: Callbacks,
}

/// Keeps one document in sync with a relay (see the module docs).
#[wasm_bindgen]
pub struct SyncClient {
    shared: Rc<Shared>,
}

impl fmt::Debug for SyncClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncClient")
            .field("doc_id", &self.shared.doc_id)
            .finish_non_exhaustive()
    }
}

/// Queues `input` and handles everything queued, unless a call up the stack
/// is already doing so (it will pick `input` up).
fn dispatch(weak: &Weak<Shared>, input: Input) {
    if let Some(shared) = weak.upgrade() {
        shared.inbox.borrow_mut().push_back(input);
        pump(&shared);
    }
}

fn pump(shared: &Rc<Shared>) {
    loop {
        let (out, event) = {
            let Ok(mut state) = shared.state.try_borrow_mut() else {
                return;
            };
            let mut out = Output::default();
            loop {
                let next = shared.inbox.borrow_mut().pop_front();
                let Some(input) = next else { break };
                state.handle(input, &shared.callbacks, &mut out);
            }
            state.reschedule(&shared.callbacks, host::now());
            state.note(&mut out);
            out.offline = state.session.status() != Status::Live;
            let report = state.report();
            let changed =
                report != shared.report.get() || state.failure != *shared.failure.borrow();
            shared.report.set(report);
            *shared.failure.borrow_mut() = state.failure.clone();
            let event = changed.then(|| convert::status_event(&report, state.failure.as_ref()));
            (out, event)
        };
        shared.deliver(out, event);
        if shared.inbox.borrow().is_empty() {
            return;
        }
    }
}

impl Shared {
    /// Runs application code: change listeners, storage, status listeners.
    fn deliver(&self, out: Output, event: Option<JsValue>) {
        for outcome in &out.remote {
            if let Err(e) = self.doc.emit_remote(outcome) {
                host::report(&e);
            }
        }
        let presence = self.doc.presence_state();
        for body in &out.presence {
            if let Err(e) = presence.apply(body) {
                host::report(&e);
            }
        }
        if out.offline {
            if let Err(e) = presence.clear() {
                host::report(&e);
            }
        }
        if let (Some((resume, pending)), Some(p)) = (out.note, self.persist.get()) {
            p.note(resume, pending);
        }
        let Some(event) = event else { return };
        let targets: Vec<Function> = match self.listeners.try_borrow() {
            Ok(l) => l.list.iter().map(|(_, f)| f.clone()).collect(),
            Err(_) => return,
        };
        for f in targets {
            if let Err(e) = f.call1(&JsValue::UNDEFINED, &event) {
                host::report(&e);
            }
        }
    }
}

impl State {
    fn handle(&mut self, input: Input, cb: &Callbacks, out: &mut Output) {
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

    fn report(&self) -> Report {
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
    fn disconnect(&mut self, now: u64) {
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
    fn reschedule(&mut self, cb: &Callbacks, now: u64) {
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

fn callbacks(weak: &Weak<Shared>) -> Callbacks {
    let on = |make: fn(JsValue) -> Input| {
        let weak = weak.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| dispatch(&weak, make(e)))
    };
    let on0 = |input: fn() -> Input| {
        let weak = weak.clone();
        Closure::<dyn FnMut()>::new(move || dispatch(&weak, input()))
    };
    let local = weak.clone();
    Callbacks {
        open: on(|e| Input::Opened(host::target(&e))),
        message: on(|e| {
            let data = Reflect::get(&e, &"data".into()).unwrap_or_default();
            Input::Message(host::target(&e), host::message_bytes(&data))
        }),
        close: on(|e| {
            let (code, reason) = host::close_details(&e);
            Input::Closed(host::target(&e), code, reason)
        }),
        tick: on0(|| Input::Tick),
        retry: on0(|| Input::Retry),
        local: Closure::new(move |e: JsValue| {
            // Remote changes are the session's own doing.
            if Reflect::get(&e, &"origin".into())
                .ok()
                .as_ref()
                .and_then(JsValue::as_string)
                .as_deref()
                == Some("local")
            {
                dispatch(&local, Input::Local);
            }
        }),
        presence: on0(|| Input::Presence),
        online: on0(|| Input::Online(true)),
        offline: on0(|| Input::Online(false)),
        noop: Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {})
            .into_js_value()
            .unchecked_into(),
    }
}

#[wasm_bindgen]
impl SyncClient {
    /// A client syncing `doc` as document `docId` through the relay at
    /// `url` (e.g. `ws://127.0.0.1:8080`; it connects to
    /// `${url}/ws/${docId}`). Offline until `connect()`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_param_type = "string")] url: JsValue,
        #[wasm_bindgen(js_name = docId, unchecked_param_type = "string")] doc_id: JsValue,
        doc: &Doc,
        #[wasm_bindgen(unchecked_optional_param_type = "SyncClientOptions")] options: JsValue,
    ) -> Result<SyncClient, JsValue> {
        let url = crate::convert::text(&url, "url")?;
        let doc_id = crate::convert::text(&doc_id, "docId")?;
        let options = convert::options(&options)?;
        let websocket = options
            .websocket
            .clone()
            .or_else(host::global_websocket)
            .ok_or_else(|| {
                Error::new(
                    sync_code::NO_WEBSOCKET,
                    "no global WebSocket: pass options.WebSocket (e.g. the `ws` package's)",
                )
            })?;
        let mut config = ClientConfig::default();
        config.token = options.token.clone();
        if let Some(ms) = options.heartbeat_interval_ms {
            config.heartbeat_interval_ms = ms;
        }
        if let Some(ms) = options.heartbeat_timeout_ms {
            config.heartbeat_timeout_ms = ms;
        }
        if let Some(ms) = options.handshake_timeout_ms {
            config.handshake_timeout_ms = ms;
        }
        let connect_timeout_ms = config.handshake_timeout_ms;
        let core = doc.core();
        let (session, replica) = {
            let d = core
                .try_borrow()
                .map_err(|_| Error::new(crate::error::code::BUSY, "the document is in use"))?;
            let session = ClientSession::new(&doc_id, &d, config.clone())
                .map_err(|e| Error::invalid_argument(e.to_string()))?;
            (session, d.replica())
        };
        let state = State {
            core,
            replica,
            config,
            url: format!("{}/ws/{doc_id}", url.trim_end_matches('/')),
            websocket,
            backoff: options.backoff(),
            connect_timeout_ms,
            socket: None,
            opened: false,
            opening_since: 0,
            wanted: false,
            online: host::on_line(),
            loaded: false,
            attempt: 0,
            tick: None,
            retry: None,
            noted: None,
            failure: None,
            stopped: false,
            presence: presence::Link::new(doc.presence_state()),
            session,
        };
        let report = state.report();
        let shared = Rc::new_cyclic(|weak| Shared {
            state: RefCell::new(state),
            subscription: RefCell::default(),
            presence_hook: RefCell::default(),
            network: RefCell::default(),
            inbox: RefCell::default(),
            doc: doc.share(),
            persist: OnceCell::new(),
            doc_id,
            listeners: RefCell::default(),
            report: Cell::new(report),
            failure: RefCell::default(),
            callbacks: callbacks(weak),
        });
        let cb = &shared.callbacks;
        let off = doc.on_change(cb.local.as_ref().clone())?;
        *shared.subscription.borrow_mut() = off.dyn_into().ok().map(OnDrop);
        let hook = cb.presence.as_ref().unchecked_ref::<Function>().clone();
        *shared.presence_hook.borrow_mut() = Some(doc.presence_state().on_local(hook));
        *shared.network.borrow_mut() = NetworkEvents::listen(
            cb.online.as_ref().unchecked_ref(),
            cb.offline.as_ref().unchecked_ref(),
        );
        if let Some(hook) = persist::hook() {
            let weak = Rc::downgrade(&shared);
            let p = Persist::open(
                &weak,
                &hook,
                options.storage,
                doc,
                &shared.doc_id,
                options.locks,
            )?;
            if let Some(p) = p {
                let _ = shared.persist.set(p);
            }
        }
        shared.load();
        Ok(SyncClient { shared })
    }

    /// Connects, and keeps reconnecting (with backoff) until
    /// `disconnect()`. Throws the error that stopped the client, if a fatal
    /// one did (a rejected token, a reused replica id...): make a new client.
    pub fn connect(&self) -> Result<(), JsValue> {
        if let Some(f) = self.shared.failure.borrow().as_ref().filter(|f| f.fatal) {
            return Err(f.to_js());
        }
        dispatch(&Rc::downgrade(&self.shared), Input::Connect);
        Ok(())
    }

    /// Says goodbye to the relay and stays offline until `connect()`. Local
    /// edits keep accumulating and are sent after the next connect.
    pub fn disconnect(&self) {
        dispatch(&Rc::downgrade(&self.shared), Input::Disconnect);
    }

    /// `'connecting'`, `'live'` or `'offline'`.
    #[wasm_bindgen(getter, unchecked_return_type = "SyncStatus")]
    pub fn status(&self) -> String {
        self.shared.report.get().status.to_owned()
    }

    /// Own operations not yet acknowledged by the relay.
    #[wasm_bindgen(getter)]
    pub fn pending(&self) -> f64 {
        self.shared.report.get().pending as f64
    }

    /// The last `server_seq` seen, or null before the first connection.
    #[wasm_bindgen(getter, js_name = serverSeq, unchecked_return_type = "number | null")]
    pub fn server_seq(&self) -> JsValue {
        convert::seq_to_js(self.shared.report.get().server_seq)
    }

    /// Whether the stored document was restored (always true without a
    /// storage). Connecting waits for it; `onStatus` tells when it flips.
    #[wasm_bindgen(getter)]
    pub fn restored(&self) -> bool {
        self.shared.report.get().restored
    }

    /// The relay refuses this client's edits (its token has the `read`
    /// scope), as the last handshake said: false before the first one.
    #[wasm_bindgen(getter, js_name = readOnly)]
    pub fn read_only(&self) -> bool {
        self.shared.report.get().read_only
    }

    /// Why the last connection ended (an `Error` with `code` and `fatal`),
    /// or null; cleared when a connection goes live.
    #[wasm_bindgen(getter, js_name = lastError, unchecked_return_type = "SyncClientError | null")]
    pub fn last_error(&self) -> JsValue {
        self.shared
            .failure
            .borrow()
            .as_ref()
            .map_or(JsValue::NULL, Failure::to_js)
    }

    /// The document id.
    #[wasm_bindgen(getter, js_name = docId)]
    pub fn doc_id(&self) -> String {
        self.shared.doc_id.clone()
    }

    /// Calls `listener({ status, pending, serverSeq, restored, readOnly, error })`
    /// whenever one of them changes; returns a function that unsubscribes it.
    #[wasm_bindgen(js_name = onStatus, unchecked_return_type = "() => void")]
    pub fn on_status(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(event: SyncStatusEvent) => void")]
        listener: JsValue,
    ) -> Result<JsValue, JsValue> {
        let listener: Function = listener
            .dyn_into()
            .map_err(|_| Error::invalid_argument("listener must be a function"))?;
        let mut l = self
            .shared
            .listeners
            .try_borrow_mut()
            .map_err(|_| Error::new(crate::error::code::BUSY, "listeners are being called"))?;
        let id = l.next_id;
        l.next_id = l.next_id.wrapping_add(1);
        l.list.push((id, listener));
        let weak = Rc::downgrade(&self.shared);
        let off = Closure::<dyn FnMut()>::new(move || {
            if let Some(shared) = weak.upgrade() {
                if let Ok(mut l) = shared.listeners.try_borrow_mut() {
                    l.list.retain(|(i, _)| *i != id);
                }
            }
        });
        Ok(off.into_js_value())
    }
}

impl Drop for SyncClient {
    /// `free()`: says goodbye, then closes the socket, clears the timers and
    /// detaches from the document and the window.
    fn drop(&mut self) {
        if let Some(p) = self.shared.persist.get() {
            p.close();
        }
        if let Ok(mut state) = self.shared.state.try_borrow_mut() {
            state.disconnect(host::now());
            state.tick = None;
        }
        self.shared.subscription.borrow_mut().take();
        self.shared.presence_hook.borrow_mut().take();
        self.shared.network.borrow_mut().take();
    }
}
