//! The `Doc` class: one-line methods over `quire_core::Doc`, plus change
//! listeners (the core reports remote changes; local ones are the call's own
//! arguments).

use crate::convert;
use crate::error::{code, Error};
use crate::presence::{self, Presence};
use js_sys::{Array, Function};
use quire_core::{ApplyOutcome, UndoManager, UndoOptions, VersionVector};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

type CoreDoc = quire_core::Doc;

#[derive(Default)]
struct Listeners {
    next_id: u32,
    list: Vec<(u32, Function)>,
}

/// A document: title, text and counters, with its history.
#[wasm_bindgen]
pub struct Doc {
    // Shared so that a `SyncClient` can drive the same document.
    core: Rc<RefCell<CoreDoc>>,
    listeners: Rc<RefCell<Listeners>>,
    undo: Rc<RefCell<UndoManager>>,
    /// Time of the last local edit not yet captured for undo (see
    /// `before_local_edit`).
    uncaptured: Rc<Cell<Option<u64>>>,
    capture_window_ms: u64,
    presence: Rc<presence::Shared>,
}

impl fmt::Debug for Doc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Doc").finish_non_exhaustive()
    }
}

fn busy() -> Error {
    Error::new(
        code::BUSY,
        "the document is in use by a call that has not returned",
    )
}

impl Doc {
    fn wrap(core: CoreDoc, settings: convert::DocSettings) -> Doc {
        Doc {
            capture_window_ms: settings.undo.capture_window_ms,
            uncaptured: Rc::default(),
            undo: Rc::new(RefCell::new(UndoManager::with_options(
                &core,
                settings.undo,
            ))),
            presence: presence::Shared::new(core.replica(), settings.presence),
            core: Rc::new(RefCell::new(core)),
            listeners: Rc::default(),
        }
    }

    /// The document's presence state (for `SyncClient`).
    pub(crate) fn presence_state(&self) -> Rc<presence::Shared> {
        Rc::clone(&self.presence)
    }

    /// Records for undo what changed (after remote changes, so a title undo
    /// restores what this replica saw), after the pending local edits.
    fn capture(&self) {
        self.flush_capture();
        self.capture_at(js_sys::Date::now() as u64);
    }

    fn capture_at(&self, now: u64) {
        if let (Ok(d), Ok(mut u)) = (self.core.try_borrow(), self.undo.try_borrow_mut()) {
            u.capture(&d, now);
        }
    }

    /// Local edits are captured lazily, at the time of the last one: when a
    /// pause of at least the capture window starts a new step, and before
    /// undo, redo and remote changes. That groups them exactly as capturing
    /// after every edit would, without reading the history per keystroke.
    /// Call before the edit, with `now` from `Date.now()`.
    fn before_local_edit(&self, now: u64) {
        if self
            .uncaptured
            .get()
            .is_some_and(|last| now.saturating_sub(last) >= self.capture_window_ms)
        {
            self.flush_capture();
        }
    }

    fn flush_capture(&self) {
        if let Some(last) = self.uncaptured.take() {
            self.capture_at(last);
        }
    }

    /// Undo or redo, then tells the listeners what changed (even if the
    /// core failed halfway: what it did stands).
    fn revert(&self, redo: bool) -> Result<bool, JsValue> {
        self.flush_capture();
        let listening = self.listening();
        let mut undo = self.undo.try_borrow_mut().map_err(|_| busy())?;
        let (result, changes) = self.with_mut(|d| {
            let before = listening.then(|| d.snapshot());
            let now = js_sys::Date::now() as u64;
            let result = match redo {
                true => undo.redo(d, now),
                false => undo.undo(d, now),
            };
            let changes = before.map(|b| convert::changes_between(&b, &d.snapshot()));
            Ok::<_, Error>((result, changes))
        })?;
        drop(undo);
        if let Some(changes) = changes {
            self.emit("local", changes)?;
        }
        Ok(result.map_err(Error::from)?)
    }

    fn insert_at(&self, index: usize, text: &str, now: f64) -> Result<(), JsValue> {
        let now = now as u64;
        self.before_local_edit(now);
        self.with_mut(|d| d.insert_utf16(index, text))?;
        self.uncaptured.set(Some(now));
        self.emit_text("insert", index, || text.encode_utf16().count())
    }

    fn delete_at(&self, index: usize, length: usize, now: f64) -> Result<(), JsValue> {
        let now = now as u64;
        self.before_local_edit(now);
        self.with_mut(|d| d.delete_utf16(index, length))?;
        self.uncaptured.set(Some(now));
        self.emit_text("delete", index, || length)
    }

    /// The core document, shared with other bindings (e.g. `SyncClient`).
    pub(crate) fn core(&self) -> Rc<RefCell<CoreDoc>> {
        Rc::clone(&self.core)
    }

    fn with<T>(&self, f: impl FnOnce(&CoreDoc) -> T) -> Result<T, Error> {
        Ok(f(&*self.core.try_borrow().map_err(|_| busy())?))
    }

    fn with_mut<T, E: Into<Error>>(
        &self,
        f: impl FnOnce(&mut CoreDoc) -> Result<T, E>,
    ) -> Result<T, Error> {
        f(&mut *self.core.try_borrow_mut().map_err(|_| busy())?).map_err(Into::into)
    }

    fn listening(&self) -> bool {
        self.listeners
            .try_borrow()
            .is_ok_and(|l| !l.list.is_empty())
    }

    /// Calls every listener (after the core borrow is released, so listeners
    /// may use the document). A listener's exception is rethrown once all
    /// listeners ran; the change itself stands.
    fn emit(&self, origin: &str, changes: Array) -> Result<(), JsValue> {
        if changes.length() == 0 {
            return Ok(());
        }
        let targets: Vec<Function> = match self.listeners.try_borrow() {
            Ok(l) => l.list.iter().map(|(_, f)| f.clone()).collect(),
            Err(_) => return Ok(()),
        };
        let event = convert::event(origin, changes);
        let mut first_error = None;
        for f in targets {
            if let Err(e) = f.call1(&JsValue::UNDEFINED, &event) {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn emit_one(&self, origin: &str, change: impl FnOnce() -> JsValue) -> Result<(), JsValue> {
        if !self.listening() {
            return Ok(());
        }
        self.emit(origin, Array::of1(&change()))
    }

    /// Tells listeners about a local text edit of `len()` UTF-16 code units
    /// (nothing for an empty one).
    fn emit_text(
        &self,
        kind: &str,
        index: usize,
        len: impl FnOnce() -> usize,
    ) -> Result<(), JsValue> {
        if !self.listening() {
            return Ok(());
        }
        match len() {
            0 => Ok(()),
            n => self.emit("local", Array::of1(&convert::text_change(kind, index, n))),
        }
    }

    /// Applies an encoded delta or document from a peer and tells the
    /// listeners.
    pub(crate) fn apply_remote(&self, bytes: &[u8]) -> Result<ApplyOutcome, JsValue> {
        let outcome = self.with_mut(|d| d.merge_encoded(bytes))?;
        self.emit_remote(&outcome)?;
        Ok(outcome)
    }

    /// Tells the listeners about remote changes already applied to the
    /// core (by `apply_remote`, or by a `SyncClient`'s session).
    pub(crate) fn emit_remote(&self, outcome: &ApplyOutcome) -> Result<(), JsValue> {
        self.capture();
        if !outcome.changes.is_empty() && self.listening() {
            let changes: Array = outcome.changes.iter().filter_map(convert::change).collect();
            self.emit("remote", changes)?;
        }
        Ok(())
    }

    /// Makes this document the stored replica `replica` (`bytes` from
    /// `encode()`), keeping what it holds, for `SyncClient`'s persistence.
    /// Refused (`false`) once it has edits of its own: two replicas'
    /// operations cannot share an id.
    pub(crate) fn adopt(
        &self,
        bytes: &[u8],
        replica: quire_core::ReplicaId,
    ) -> Result<bool, JsValue> {
        let outcome = self.with_mut(|d| {
            if d.ops_of(d.replica()) > 0 {
                return Ok(None);
            }
            let mut next = CoreDoc::decode(&d.encode(), replica)?;
            next.set_track_changes(self.listening());
            let outcome = next.merge_encoded(bytes)?;
            *d = next;
            Ok::<_, Error>(Some(outcome))
        })?;
        let Some(outcome) = outcome else {
            return Ok(false);
        };
        let mut options = UndoOptions::default();
        options.capture_window_ms = self.capture_window_ms;
        let undo = self.with(|d| UndoManager::with_options(d, options))?;
        *self.undo.try_borrow_mut().map_err(|_| busy())? = undo;
        self.uncaptured.set(None);
        self.presence.rekey(replica);
        // Adopted even if a listener throws: the caller renews its session.
        if let Err(e) = self.emit_remote(&outcome) {
            crate::sync_client::host::report(&e);
        }
        Ok(true)
    }

    /// Another handle on this document and its listeners (for `SyncClient`).
    pub(crate) fn share(&self) -> Doc {
        Doc {
            core: Rc::clone(&self.core),
            listeners: Rc::clone(&self.listeners),
            undo: Rc::clone(&self.undo),
            uncaptured: Rc::clone(&self.uncaptured),
            capture_window_ms: self.capture_window_ms,
            presence: Rc::clone(&self.presence),
        }
    }
}

#[wasm_bindgen]
impl Doc {
    /// An empty document. `options.replicaId` (bigint or decimal string)
    /// names this replica; by default it is random. Two live replicas must
    /// never share an id.
    #[wasm_bindgen(constructor)]
    pub fn new(
        #[wasm_bindgen(unchecked_optional_param_type = "DocOptions")] options: JsValue,
    ) -> Result<Doc, JsValue> {
        let (replica, settings) = settings(&options)?;
        Ok(Doc::wrap(CoreDoc::new(replica), settings))
    }

    /// Decodes a document produced by `encode()`; edits made from now on
    /// belong to `options.replicaId` (random by default).
    pub fn decode(
        bytes: &[u8],
        #[wasm_bindgen(unchecked_optional_param_type = "DocOptions")] options: JsValue,
    ) -> Result<Doc, JsValue> {
        let (replica, settings) = settings(&options)?;
        let core = CoreDoc::decode(bytes, replica).map_err(Error::from)?;
        Ok(Doc::wrap(core, settings))
    }

    /// This replica's id.
    #[wasm_bindgen(getter, js_name = replicaId)]
    pub fn replica_id(&self) -> Result<u64, JsValue> {
        Ok(self.with(CoreDoc::replica)?.0)
    }

    /// Inserts `text` at a UTF-16 code-unit `index` (like
    /// `textarea.selectionStart`).
    pub fn insert(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] index: JsValue,
        #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    ) -> Result<(), JsValue> {
        let index = convert::index(&index, "index")?;
        let text = convert::text(&text, "text")?;
        self.insert_at(index, &text, js_sys::Date::now())
    }

    /// `insert` for the package's JS layer, which has checked that `index`
    /// is a number and `text` a well-formed string: typed arguments and the
    /// time cost no calls back into JS. Returns the error, not throws it.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = __insert, skip_typescript)]
    pub fn insert_typed(&self, index: f64, text: &str, now: f64) -> JsValue {
        let r = convert::index_from_f64(index, "index")
            .map_err(JsValue::from)
            .and_then(|index| self.insert_at(index, text, now));
        r.err().unwrap_or_default()
    }

    /// `__insert` of one UTF-16 code unit (not a surrogate): no string to
    /// copy into wasm memory.
    #[doc(hidden)]
    #[wasm_bindgen(js_name = __insertUnit, skip_typescript)]
    pub fn insert_unit(&self, index: f64, unit: u32, now: f64) -> JsValue {
        let c = char::from_u32(unit).unwrap_or(char::REPLACEMENT_CHARACTER);
        self.insert_typed(index, c.encode_utf8(&mut [0; 4]), now)
    }

    /// Deletes `length` UTF-16 code units from `index`.
    pub fn delete(
        &self,
        #[wasm_bindgen(unchecked_param_type = "number")] index: JsValue,
        #[wasm_bindgen(unchecked_param_type = "number")] length: JsValue,
    ) -> Result<(), JsValue> {
        let index = convert::index(&index, "index")?;
        let length = convert::index(&length, "length")?;
        self.delete_at(index, length, js_sys::Date::now())
    }

    /// `delete` for the package's JS layer (see `__insert`).
    #[doc(hidden)]
    #[wasm_bindgen(js_name = __delete, skip_typescript)]
    pub fn delete_typed(&self, index: f64, length: f64, now: f64) -> JsValue {
        let r = convert::index_from_f64(index, "index")
            .and_then(|i| Ok((i, convert::index_from_f64(length, "length")?)))
            .map_err(JsValue::from)
            .and_then(|(index, length)| self.delete_at(index, length, now));
        r.err().unwrap_or_default()
    }

    /// The body text.
    pub fn text(&self) -> Result<String, JsValue> {
        Ok(self.with(CoreDoc::text)?)
    }

    /// Length of the text in UTF-16 code units (like `String.length`).
    #[wasm_bindgen(getter)]
    pub fn length(&self) -> Result<usize, JsValue> {
        Ok(self.with(CoreDoc::len_utf16)?)
    }

    /// Sets the title (last writer wins, stamped with `Date.now()`).
    #[wasm_bindgen(js_name = setTitle)]
    pub fn set_title(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] title: JsValue,
    ) -> Result<(), JsValue> {
        let title = convert::text(&title, "title")?;
        let now_ms = js_sys::Date::now() as u64;
        self.before_local_edit(now_ms);
        self.with_mut(|d| d.set_title(&title, now_ms))?;
        self.uncaptured.set(Some(now_ms));
        self.emit_one("local", convert::title_change)
    }

    /// The title.
    #[wasm_bindgen(getter)]
    pub fn title(&self) -> Result<String, JsValue> {
        Ok(self.with(|d| d.title().to_owned())?)
    }

    /// Adds `by` (default 1; negative decrements) to the counter `name`.
    pub fn increment(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
        #[wasm_bindgen(unchecked_optional_param_type = "number")] by: JsValue,
    ) -> Result<(), JsValue> {
        let name = convert::text(&name, "counter name")?;
        let by = convert::amount(&by)?;
        let now = js_sys::Date::now() as u64;
        self.before_local_edit(now);
        self.with_mut(|d| d.increment(&name, by))?;
        self.uncaptured.set(Some(now));
        self.emit_one("local", || convert::counter_change(&name))
    }

    /// The value of counter `name` (0 if never touched). Exact up to
    /// `Number.MAX_SAFE_INTEGER`.
    pub fn counter(
        &self,
        #[wasm_bindgen(unchecked_param_type = "string")] name: JsValue,
    ) -> Result<f64, JsValue> {
        let name = convert::text(&name, "counter name")?;
        Ok(self.with(|d| d.counter(&name))? as f64)
    }

    /// The encoded version vector: what this document holds.
    pub fn version(&self) -> Result<Vec<u8>, JsValue> {
        Ok(self.with(|d| d.version().encode())?)
    }

    /// An encoded delta of everything a peer at version `since` (from
    /// `version()`) lacks; everything when `since` is omitted.
    #[wasm_bindgen(js_name = encodeDelta)]
    pub fn encode_delta(&self, since: Option<Vec<u8>>) -> Result<Vec<u8>, JsValue> {
        let since = match since {
            Some(b) => VersionVector::decode(&b).map_err(Error::from)?,
            None => VersionVector::new(),
        };
        Ok(self.with(|d| d.delta_since(&since).encode())?)
    }

    /// Integrates an encoded delta (`encodeDelta()`) or a whole encoded
    /// document (`encode()`, often smaller), in any order, any number of
    /// times. Throws (and changes nothing) on invalid input.
    #[wasm_bindgen(js_name = applyDelta, unchecked_return_type = "ApplyResult")]
    pub fn apply_delta(&self, bytes: &[u8]) -> Result<JsValue, JsValue> {
        Ok(convert::outcome(&self.apply_remote(bytes)?))
    }

    /// Operations waiting for missing dependencies.
    #[wasm_bindgen(getter)]
    pub fn pending(&self) -> Result<usize, JsValue> {
        Ok(self.with(CoreDoc::pending)?)
    }

    /// The whole document with its history (canonical: equal histories
    /// encode to equal bytes).
    pub fn encode(&self) -> Result<Vec<u8>, JsValue> {
        Ok(self.with(CoreDoc::encode)?)
    }

    /// `{ title, text, counters, version }`.
    #[wasm_bindgen(unchecked_return_type = "Snapshot")]
    pub fn snapshot(&self) -> Result<JsValue, JsValue> {
        Ok(convert::snapshot(&self.with(CoreDoc::snapshot)?))
    }

    /// Reverts this replica's last undo step (edits within the capture
    /// window form one) with new operations, which sync like any edit;
    /// other replicas' text is never removed. Returns whether there was a
    /// step. Listeners get the changes as `local`.
    pub fn undo(&self) -> Result<bool, JsValue> {
        self.revert(false)
    }

    /// Reverts the last undo; a new edit clears what can be redone.
    pub fn redo(&self) -> Result<bool, JsValue> {
        self.revert(true)
    }

    /// Whether `undo()` would do something.
    #[wasm_bindgen(getter, js_name = canUndo)]
    pub fn can_undo(&self) -> Result<bool, JsValue> {
        self.flush_capture();
        Ok(self.undo.try_borrow().map_err(|_| busy())?.can_undo())
    }

    /// Whether `redo()` would do something.
    #[wasm_bindgen(getter, js_name = canRedo)]
    pub fn can_redo(&self) -> Result<bool, JsValue> {
        self.flush_capture();
        Ok(self.undo.try_borrow().map_err(|_| busy())?.can_redo())
    }

    /// The document's presence (the same state on every access): this
    /// client's cursor and who else is here.
    #[wasm_bindgen(getter)]
    pub fn presence(&self) -> Presence {
        Presence::new(self.core(), self.presence_state())
    }

    /// Calls `listener` after every change, local or remote; returns a
    /// function that unsubscribes it.
    #[wasm_bindgen(js_name = onChange, unchecked_return_type = "() => void")]
    pub fn on_change(
        &self,
        #[wasm_bindgen(unchecked_param_type = "(event: ChangeEvent) => void")] listener: JsValue,
    ) -> Result<JsValue, JsValue> {
        let listener = convert::listener(listener)?;
        // Remote change positions cost a tree walk: only while listened to.
        self.with_mut(|d| {
            d.set_track_changes(true);
            Ok::<_, Error>(())
        })?;
        let mut l = self.listeners.try_borrow_mut().map_err(|_| busy())?;
        let id = l.next_id;
        l.next_id = l.next_id.wrapping_add(1);
        l.list.push((id, listener));
        let listeners = Rc::downgrade(&self.listeners);
        let core = Rc::downgrade(&self.core);
        let off = Closure::<dyn FnMut()>::new(move || unsubscribe(&listeners, &core, id));
        Ok(off.into_js_value())
    }
}

fn settings(options: &JsValue) -> Result<(quire_core::ReplicaId, convert::DocSettings), Error> {
    let settings = convert::doc_options(options)?;
    let replica = match settings.replica {
        Some(r) => r,
        None => convert::random_replica()?,
    };
    Ok((replica, settings))
}

fn unsubscribe(listeners: &Weak<RefCell<Listeners>>, core: &Weak<RefCell<CoreDoc>>, id: u32) {
    let Some(listeners) = listeners.upgrade() else {
        return;
    };
    let Ok(mut l) = listeners.try_borrow_mut() else {
        return;
    };
    l.list.retain(|(i, _)| *i != id);
    if l.list.is_empty() {
        if let Some(Ok(mut d)) = core.upgrade().as_deref().map(RefCell::try_borrow_mut) {
            d.set_track_changes(false);
        }
    }
}
