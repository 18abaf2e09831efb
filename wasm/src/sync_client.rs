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
mod machine;
mod persist;
mod typescript;

use self::convert::{sync_code, Failure, Report};
use self::host::NetworkEvents;
use self::machine::{Input, Output, State};
use self::persist::Persist;
use crate::doc::Doc;
use crate::error::Error;
use crate::presence;
use js_sys::{Function, Reflect};
use quire_core::sync::{ClientConfig, ClientSession, Status};
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

type CoreDoc = quire_core::Doc;

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
