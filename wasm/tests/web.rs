//! `wasm-bindgen-test` tests of the bindings, run in Node and in headless
//! Chromium by `scripts/ci/wasm-test.sh`:
//!
//! ```sh
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test -p quire-wasm --target wasm32-unknown-unknown                     # Node
//! WASM_BINDGEN_USE_BROWSER=1 CHROMEDRIVER=/usr/bin/chromedriver \
//! CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner \
//!     cargo test -p quire-wasm --target wasm32-unknown-unknown                     # Chromium
//! ```
//!
//! Chromium's options (headless, no sandbox) are in `wasm/webdriver.json`.
//! The JS tests in `wasm/test/` cover the whole API against the built
//! package; these check that the same bindings behave in both engines.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Object, Reflect};
use quire_wasm::Doc;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

fn doc(replica: u32) -> Doc {
    let options = Object::new();
    Reflect::set(&options, &"replicaId".into(), &replica.into()).unwrap();
    Doc::new(options.into()).unwrap()
}

fn num(n: u32) -> JsValue {
    JsValue::from(n)
}

fn code(err: &JsValue) -> String {
    let e: &js_sys::Error = err.dyn_ref().expect("thrown value is an Error");
    assert_eq!(String::from(e.name()), "QuireError");
    Reflect::get(err, &"code".into())
        .unwrap()
        .as_string()
        .expect("error has a string code")
}

fn field(v: &JsValue, name: &str) -> f64 {
    Reflect::get(v, &name.into()).unwrap().as_f64().unwrap()
}

#[wasm_bindgen_test]
fn insert_and_delete_take_utf16_indexes_around_emoji() {
    let d = doc(1);
    d.insert(num(0), "a😀b".into()).unwrap();
    assert_eq!(d.length().unwrap(), 4, "the emoji is two UTF-16 code units");
    d.insert(num(3), "é".into()).unwrap();
    assert_eq!(d.text().unwrap(), "a😀éb");
    d.delete(num(1), num(2)).unwrap();
    assert_eq!(d.text().unwrap(), "aéb");
    assert_eq!(d.length().unwrap(), 3);
}

#[wasm_bindgen_test]
fn an_index_inside_a_surrogate_pair_throws_invalid_index_and_changes_nothing() {
    let d = doc(1);
    d.insert(num(0), "😀".into()).unwrap();
    let err = d.insert(num(1), "x".into()).unwrap_err();
    assert_eq!(code(&err), "INVALID_INDEX");
    let err = d.delete(num(0), num(1)).unwrap_err();
    assert_eq!(code(&err), "INVALID_INDEX");
    assert_eq!(d.text().unwrap(), "😀");
}

#[wasm_bindgen_test]
fn bad_arguments_throw_errors_with_stable_codes_and_the_doc_stays_usable() {
    let d = doc(1);
    d.insert(num(0), "abc".into()).unwrap();
    assert_eq!(
        code(&d.insert(num(9), "x".into()).unwrap_err()),
        "INVALID_INDEX"
    );
    assert_eq!(
        code(&d.insert(JsValue::from(-1), "x".into()).unwrap_err()),
        "INVALID_INDEX"
    );
    assert_eq!(
        code(&d.insert(num(0), JsValue::from(5)).unwrap_err()),
        "INVALID_ARGUMENT"
    );
    let lone = JsValue::from(js_sys::JsString::from_char_code1(0xd800));
    assert_eq!(
        code(&d.insert(num(0), lone).unwrap_err()),
        "INVALID_ARGUMENT"
    );
    assert_eq!(
        code(&Doc::decode(b"not a doc", JsValue::UNDEFINED).unwrap_err()),
        "DECODE"
    );
    assert_eq!(code(&d.apply_delta(&[0xff; 8]).unwrap_err()), "DECODE");
    d.insert(num(3), "d".into()).unwrap();
    assert_eq!(d.text().unwrap(), "abcd");
}

#[wasm_bindgen_test]
fn encode_then_decode_gives_the_same_document_and_bytes() {
    let d = doc(7);
    d.insert(num(0), "héllo 😀 wörld".into()).unwrap();
    d.delete(num(5), num(3)).unwrap();
    d.set_title("t".into()).unwrap();
    d.increment("likes".into(), JsValue::from(3)).unwrap();
    let bytes = d.encode().unwrap();
    let e = Doc::decode(&bytes, JsValue::UNDEFINED).unwrap();
    assert_eq!(e.text().unwrap(), d.text().unwrap());
    assert_eq!(e.title().unwrap(), "t");
    assert_eq!(e.counter("likes".into()).unwrap(), 3.0);
    assert_eq!(e.encode().unwrap(), bytes, "the encoding is canonical");
    assert_eq!(e.version().unwrap(), d.version().unwrap());
}

#[wasm_bindgen_test]
fn two_docs_converge_through_deltas_in_either_order() {
    let a = doc(1);
    let b = doc(2);
    a.insert(num(0), "hello".into()).unwrap();
    b.apply_delta(&a.encode_delta(None).unwrap()).unwrap();
    // Concurrent edits on both sides.
    let (va, vb) = (a.version().unwrap(), b.version().unwrap());
    a.insert(num(5), " world".into()).unwrap();
    a.delete(num(0), num(1)).unwrap();
    b.insert(num(0), "👋 ".into()).unwrap();
    let from_a = a.encode_delta(Some(vb)).unwrap();
    let from_b = b.encode_delta(Some(va)).unwrap();
    let outcome = b.apply_delta(&from_a).unwrap();
    assert!(field(&outcome, "applied") > 0.0);
    assert_eq!(field(&outcome, "pending"), 0.0);
    a.apply_delta(&from_b).unwrap();
    // Applying again changes nothing.
    a.apply_delta(&from_b).unwrap();
    assert_eq!(a.text().unwrap(), b.text().unwrap());
    assert_eq!(a.text().unwrap(), "👋 ello world");
    assert_eq!(a.version().unwrap(), b.version().unwrap());
}

#[wasm_bindgen_test]
fn a_delta_whose_dependencies_are_missing_waits_as_pending() {
    let a = doc(1);
    let b = doc(2);
    a.insert(num(0), "ab".into()).unwrap();
    let first = a.encode_delta(None).unwrap();
    let v1 = a.version().unwrap();
    a.insert(num(2), "cd".into()).unwrap();
    let second = a.encode_delta(Some(v1)).unwrap();
    let outcome = b.apply_delta(&second).unwrap();
    assert!(field(&outcome, "pending") > 0.0);
    assert_eq!(b.text().unwrap(), "");
    b.apply_delta(&first).unwrap();
    assert_eq!(b.pending().unwrap(), 0);
    assert_eq!(b.text().unwrap(), "abcd");
}

#[wasm_bindgen_test]
fn on_change_reports_local_and_remote_edits_in_utf16_until_unsubscribed() {
    let events = Rc::new(RefCell::new(Vec::<JsValue>::new()));
    let seen = Rc::clone(&events);
    let listener = Closure::<dyn FnMut(JsValue)>::new(move |e| seen.borrow_mut().push(e));
    let a = doc(1);
    let off: Function = a
        .on_change(listener.as_ref().clone())
        .unwrap()
        .dyn_into()
        .unwrap();
    a.insert(num(0), "😀".into()).unwrap();
    a.insert(num(2), "x".into()).unwrap();
    let b = doc(2);
    b.insert(num(0), "yz".into()).unwrap();
    a.apply_delta(&b.encode_delta(None).unwrap()).unwrap();
    {
        let events = events.borrow();
        assert_eq!(events.len(), 3);
        let origin = |e: &JsValue| Reflect::get(e, &"origin".into()).unwrap().as_string();
        let first = |e: &JsValue| {
            Reflect::get(e, &"changes".into())
                .unwrap()
                .dyn_into::<js_sys::Array>()
                .unwrap()
                .get(0)
        };
        assert_eq!(origin(&events[1]).as_deref(), Some("local"));
        assert_eq!(
            field(&first(&events[1]), "index"),
            2.0,
            "after the emoji's two code units"
        );
        assert_eq!(origin(&events[2]).as_deref(), Some("remote"));
        assert_eq!(field(&first(&events[2]), "length"), 2.0);
    }
    off.call0(&JsValue::UNDEFINED).unwrap();
    a.insert(num(0), "q".into()).unwrap();
    assert_eq!(events.borrow().len(), 3, "no events after unsubscribing");
}
