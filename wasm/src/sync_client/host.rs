//! What `SyncClient` needs from the JS host: sockets, timers, a clock,
//! randomness, `online`/`offline` events. Works in browsers, workers and
//! Node (where the WebSocket constructor may come from the `ws` package, so
//! sockets are used only through the standard structural API).

use js_sys::{Array, Function, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BinaryType, WebSocket};

#[wasm_bindgen]
extern "C" {
    // Global functions: present in windows, workers and Node.
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(handle: &JsValue);
    #[wasm_bindgen(catch, js_namespace = performance, js_name = now)]
    fn performance_now() -> Result<f64, JsValue>;
    #[wasm_bindgen(js_namespace = console, js_name = error)]
    fn console_error(value: &JsValue);
}

/// Milliseconds of a monotonic clock (`performance.now()`, else `Date.now()`).
pub(crate) fn now() -> u64 {
    performance_now().unwrap_or_else(|_| js_sys::Date::now()) as u64
}

/// A uniformly random number in `[0, 1)`.
pub(crate) fn random() -> f64 {
    js_sys::Math::random()
}

/// A pending `setTimeout`, cleared when dropped.
#[derive(Debug)]
pub(crate) struct Timer(JsValue);

impl Timer {
    pub(crate) fn start(handler: &Function, ms: u64) -> Timer {
        Timer(set_timeout(handler, ms as f64))
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timeout(&self.0);
    }
}

/// Reports an exception thrown by an application callback without
/// interrupting the client: `reportError` where it exists (browsers),
/// `console.error` elsewhere (rethrowing from a socket event would crash
/// Node).
pub(crate) fn report(error: &JsValue) {
    let global = js_sys::global();
    if let Ok(f) = Reflect::get(&global, &"reportError".into()) {
        if let Some(f) = f.dyn_ref::<Function>() {
            if f.call1(&global, error).is_ok() {
                return;
            }
        }
    }
    console_error(error);
}

/// The global `WebSocket` constructor, if the host has one.
pub(crate) fn global_websocket() -> Option<Function> {
    Reflect::get(&js_sys::global(), &"WebSocket".into())
        .ok()
        .and_then(|v| v.dyn_into().ok())
}

/// Event handlers shared by every socket of one client: events are told
/// apart by their `target`.
pub(crate) struct SocketHandlers<'a> {
    pub(crate) open: &'a Function,
    pub(crate) message: &'a Function,
    pub(crate) close: &'a Function,
    /// A no-op kept attached even after the socket is dropped: the `ws`
    /// package throws on an `error` event nobody listens to.
    pub(crate) error: &'a Function,
}

/// One WebSocket, closed (without firing our handlers) when dropped.
#[derive(Debug)]
pub(crate) struct Socket {
    ws: WebSocket,
    closed: bool,
}

impl Socket {
    /// `new ctor(url)` with binary frames as `ArrayBuffer`s.
    pub(crate) fn open(
        ctor: &Function,
        url: &str,
        handlers: &SocketHandlers<'_>,
    ) -> Result<Socket, JsValue> {
        let ws: WebSocket = Reflect::construct(ctor, &Array::of1(&url.into()))?.unchecked_into();
        ws.set_binary_type(BinaryType::Arraybuffer);
        ws.set_onopen(Some(handlers.open));
        ws.set_onmessage(Some(handlers.message));
        ws.set_onclose(Some(handlers.close));
        ws.set_onerror(Some(handlers.error));
        Ok(Socket { ws, closed: false })
    }

    /// Whether `target` (an event's) is this socket.
    pub(crate) fn is(&self, target: &JsValue) -> bool {
        *target == JsValue::from(&self.ws)
    }

    /// Sends one binary frame, copied out of wasm memory first (a socket may
    /// keep the buffer past this call).
    pub(crate) fn send(&self, frame: &[u8]) -> Result<(), JsValue> {
        self.ws
            .send_with_array_buffer_view(&Uint8Array::from(frame))
    }

    /// Detaches our handlers and closes with `code` (browsers only accept
    /// 1000 and 3000-4999 from scripts: others fall back to a plain close).
    pub(crate) fn close(mut self, code: u16) {
        self.shut(code);
    }

    fn shut(&mut self, code: u16) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        if self.ws.close_with_code(code).is_err() {
            let _ = self.ws.close();
        }
    }
}

impl Drop for Socket {
    fn drop(&mut self) {
        self.shut(1000);
    }
}

/// The `data` of a message event as bytes: `None` for text frames.
pub(crate) fn message_bytes(data: &JsValue) -> Option<Vec<u8>> {
    if let Some(buf) = data.dyn_ref::<js_sys::ArrayBuffer>() {
        return Some(Uint8Array::new(buf).to_vec());
    }
    // Node `Buffer`s and other views.
    data.dyn_ref::<Uint8Array>().map(Uint8Array::to_vec)
}

/// `online`/`offline` listeners on the global object (windows and workers;
/// Node has none), removed when dropped.
pub(crate) struct NetworkEvents {
    online: Function,
    offline: Function,
}

impl NetworkEvents {
    pub(crate) fn listen(online: &Function, offline: &Function) -> Option<NetworkEvents> {
        let this = NetworkEvents {
            online: online.clone(),
            offline: offline.clone(),
        };
        this.call("addEventListener").then_some(this)
    }

    fn call(&self, method: &str) -> bool {
        let global = js_sys::global();
        let Ok(f) = Reflect::get(&global, &method.into()) else {
            return false;
        };
        let Some(f) = f.dyn_ref::<Function>() else {
            return false;
        };
        f.call2(&global, &"online".into(), &self.online).is_ok()
            && f.call2(&global, &"offline".into(), &self.offline).is_ok()
    }
}

impl Drop for NetworkEvents {
    fn drop(&mut self) {
        self.call("removeEventListener");
    }
}

/// `navigator.onLine`, or `true` where the host does not say.
pub(crate) fn on_line() -> bool {
    let navigator = Reflect::get(&js_sys::global(), &"navigator".into()).unwrap_or_default();
    if !navigator.is_object() {
        return true;
    }
    Reflect::get(&navigator, &"onLine".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(true)
}

impl std::fmt::Debug for NetworkEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkEvents").finish_non_exhaustive()
    }
}

/// An event's `target` (the socket it came from).
pub(crate) fn target(event: &JsValue) -> JsValue {
    Reflect::get(event, &"target".into()).unwrap_or_default()
}

/// A close event's `code` (1006, abnormal, when missing) and `reason`.
pub(crate) fn close_details(event: &JsValue) -> (u16, String) {
    let field = |k: &str| Reflect::get(event, &k.into()).unwrap_or_default();
    let code = field("code")
        .as_f64()
        .filter(|c| (0.0..=65_535.0).contains(c))
        .map_or(1006, |c| c as u16);
    (code, field("reason").as_string().unwrap_or_default())
}

/// A thrown value's message, for error texts.
pub(crate) fn describe(e: &JsValue) -> String {
    match e.dyn_ref::<js_sys::Error>() {
        Some(e) => String::from(e.message()),
        None => e.as_string().unwrap_or_else(|| "unknown error".to_owned()),
    }
}

fn call_method(target: &JsValue, name: &str, arg: &JsValue) -> Result<JsValue, JsValue> {
    Reflect::get(target, &name.into())?
        .unchecked_into::<Function>()
        .call1(target, arg)
}

/// Calls `done` with what `v` resolves to, or with `undefined` if it
/// rejects (`noop` swallows the rejection).
pub(crate) fn settle(v: &JsValue, noop: &Function, done: &JsValue) {
    let settled = call_method(&js_sys::Promise::resolve(v), "catch", noop);
    if let Ok(p) = settled {
        let _ = call_method(&p, "then", done);
    }
}
