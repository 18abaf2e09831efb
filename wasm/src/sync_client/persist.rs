//! Keeping the document between page loads. The storage and lock I/O is in
//! the package's `persist.js` (JS is smaller than web-sys bindings here),
//! which registers itself on `globalThis`; this side hands it the document,
//! adopts a stored replica for it and turns its failures into `lastError`.

use super::{convert, dispatch, host, Input, Output, Shared, State};
use crate::doc::Doc;
use js_sys::{Array, Function, Reflect, Symbol};
use quire_core::sync::ClientSession;
use quire_core::ReplicaId;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

type AdoptFn = dyn FnMut(Vec<u8>, String) -> Result<bool, JsValue>;

/// `persist.js`'s controller for one client, and the callbacks it holds.
pub(super) struct Persist {
    ctl: JsValue,
    _adopt: Closure<AdoptFn>,
    _report: Closure<dyn FnMut(JsValue)>,
}

fn call(target: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = Reflect::get(target, &name.into())?.dyn_into()?;
    match args {
        [] => f.call0(target),
        [a] => f.call1(target, a),
        [a, b, ..] => f.call2(target, a, b),
    }
}

/// `persist.js`, which `scripts/build-wasm` appends to the glue (absent in
/// wasm-bindgen tests: no persistence then).
pub(super) fn hook() -> Option<JsValue> {
    Reflect::get(&js_sys::global(), &Symbol::for_("quire.persist.v1"))
        .ok()
        .filter(JsValue::is_object)
}

impl Persist {
    pub(super) fn open(
        weak: &Weak<Shared>,
        hook: &JsValue,
        storage: JsValue,
        doc: &Doc,
        doc_id: &str,
        locks: JsValue,
    ) -> Result<Option<Persist>, JsValue> {
        let w = weak.clone();
        let adopt = Closure::<AdoptFn>::new(move |bytes: Vec<u8>, id: String| {
            let Some(shared) = w.upgrade() else {
                return Ok(false);
            };
            let replica = id.parse().map_err(|_| JsValue::from("bad replica id"))?;
            let adopted = shared.doc.adopt(&bytes, ReplicaId(replica));
            shared.renew_session();
            adopted
        });
        let w = weak.clone();
        let report = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
            dispatch(&w, Input::Storage(host::describe(&e)));
        });
        // open(storage, docId, doc, locks, adopt, report): null when there
        // is no storage (options.storage null or false, or no IndexedDB).
        let args = [
            storage,
            doc_id.into(),
            doc.share().into(),
            locks,
            adopt.as_ref().clone(),
            report.as_ref().clone(),
        ];
        let open: Function = Reflect::get(hook, &"open".into())?.dyn_into()?;
        let ctl = open.apply(hook, &args.iter().collect::<Array>())?;
        Ok(ctl.is_object().then_some(Persist {
            ctl,
            _adopt: adopt,
            _report: report,
        }))
    }

    /// Restores the stored document: a promise of the stored resume point.
    pub(super) fn load(&self) -> Result<JsValue, JsValue> {
        call(&self.ctl, "load", &[])
    }

    /// The resume point or the unacknowledged operations moved.
    pub(super) fn note(&self, resume: Option<String>, pending: u64) {
        let resume = resume.map_or(JsValue::NULL, JsValue::from);
        if let Err(e) = call(&self.ctl, "note", &[resume, (pending as f64).into()]) {
            host::report(&e);
        }
    }

    /// Saves one last time, then releases the locks.
    pub(super) fn close(&self) {
        if let Err(e) = call(&self.ctl, "close", &[]) {
            host::report(&e);
        }
    }
}

impl Shared {
    /// Restores the stored document; connecting waits for it.
    pub(super) fn load(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let Some(persist) = self.persist.get() else {
            return dispatch(&weak, Input::Loaded(None));
        };
        match persist.load() {
            Ok(v) => {
                let done = Closure::once_into_js(move |v: JsValue| {
                    let resume = v.as_string().and_then(|s| convert::resume_from_str(&s));
                    dispatch(&weak, Input::Loaded(resume));
                });
                host::settle(&v, &self.callbacks.noop, &done);
            }
            Err(e) => {
                host::report(&e);
                dispatch(&weak, Input::Loaded(None));
            }
        }
    }

    /// A new session after the document became a stored replica (before
    /// the first connection).
    fn renew_session(&self) {
        let Ok(mut state) = self.state.try_borrow_mut() else {
            return;
        };
        let core = Rc::clone(&state.core);
        let Ok(doc) = core.try_borrow() else { return };
        if doc.replica() != state.replica {
            if let Ok(session) = ClientSession::new(&self.doc_id, &doc, state.config.clone()) {
                state.session = session;
                state.replica = doc.replica();
            }
        }
    }
}

impl State {
    /// Tells the stored record where the session stands when that moved.
    pub(super) fn note(&mut self, out: &mut Output) {
        let now = (self.session.resume(), self.session.pending());
        if self.noted != Some(now) {
            self.noted = Some(now);
            out.note = Some((now.0.map(convert::resume_to_string), now.1));
        }
    }
}
