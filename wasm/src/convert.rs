//! Conversions between JavaScript values and core types. Arguments arrive as
//! `JsValue` so that wrong types become `INVALID_ARGUMENT` errors instead of
//! wasm-bindgen's silent coercions (`-1 >>> 0`, lone surrogates to U+FFFD).

use crate::error::{code, Error};
use js_sys::{Array, JsString, Object, Reflect, Uint8Array};
use quire_core::presence::{ClientState, PresenceOptions, Selection, User, UserInfo};
use quire_core::{ApplyOutcome, Change, ReplicaId, Snapshot, UndoOptions};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// `Number.MAX_SAFE_INTEGER`: larger numbers are not exact in JS.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

#[wasm_bindgen]
extern "C" {
    // The only source of randomness: replica ids (the core has no RNG).
    #[wasm_bindgen(catch, js_namespace = crypto, js_name = getRandomValues)]
    fn get_random_values(buf: &mut [u8]) -> Result<JsValue, JsValue>;
}

/// A JS string that is well-formed UTF-16 (the core stores UTF-8, which
/// cannot hold lone surrogates).
pub(crate) fn text(v: &JsValue, what: &str) -> Result<String, Error> {
    let s: &JsString = v
        .dyn_ref()
        .ok_or_else(|| Error::invalid_argument(format!("{what} must be a string")))?;
    if !s.is_well_formed() {
        return Err(Error::invalid_argument(format!(
            "{what} contains a lone surrogate (not well-formed UTF-16)"
        )));
    }
    Ok(String::from(s))
}

/// A non-negative integer index or length, in UTF-16 code units.
pub(crate) fn index(v: &JsValue, what: &str) -> Result<usize, Error> {
    let n = v
        .as_f64()
        .ok_or_else(|| Error::invalid_argument(format!("{what} must be a number")))?;
    index_from_f64(n, what)
}

pub(crate) fn index_from_f64(n: f64, what: &str) -> Result<usize, Error> {
    if !integral(n) {
        // No float in the message: formatting one pulls ~16 KB of float
        // printing code into the wasm binary.
        return Err(Error::invalid_argument(format!(
            "{what} must be a non-negative integer"
        )));
    }
    if n < 0.0 {
        return Err(Error::new(
            code::INVALID_INDEX,
            format!("{what} {} is negative", n as i64),
        ));
    }
    // Saturates on 32-bit targets; the core then reports it out of bounds.
    Ok(n as usize)
}

fn integral(n: f64) -> bool {
    n.is_finite() && n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER
}

/// A counter step: a safe integer, 1 when omitted.
pub(crate) fn amount(by: &JsValue) -> Result<i64, Error> {
    if by.is_undefined() {
        return Ok(1);
    }
    step(by.as_f64())
}

fn step(n: Option<f64>) -> Result<i64, Error> {
    match n {
        Some(n) if integral(n) => Ok(n as i64),
        _ => Err(Error::invalid_argument(
            "counter step must be a safe integer (a number)",
        )),
    }
}

/// `options.replicaId` (a bigint, a decimal string or a safe integer), or
/// `None` when absent.
pub(crate) fn replica_option(options: &JsValue) -> Result<Option<ReplicaId>, Error> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    if !options.is_object() {
        return Err(Error::invalid_argument("options must be an object"));
    }
    let v = Reflect::get(options, &"replicaId".into())
        .map_err(|_| Error::invalid_argument("options.replicaId cannot be read"))?;
    if v.is_undefined() {
        return Ok(None);
    }
    let id = if v.is_bigint() {
        u64::try_from(v).ok()
    } else if let Some(s) = v.as_string() {
        parse_replica(&s)
    } else {
        v.as_f64()
            .filter(|&n| integral(n) && n >= 0.0)
            .map(|n| n as u64)
    };
    id.map(|id| Some(ReplicaId(id))).ok_or_else(|| {
        Error::invalid_argument("options.replicaId must be an unsigned 64-bit integer")
    })
}

fn parse_replica(s: &str) -> Option<u64> {
    // `u64::from_str` accepts a leading '+'; a replica id is plain digits.
    s.bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| s.parse().ok())
        .flatten()
}

/// A listener argument: a function.
pub(crate) fn listener(v: JsValue) -> Result<js_sys::Function, Error> {
    v.dyn_into()
        .map_err(|_| Error::invalid_argument("listener must be a function"))
}

/// `options[key]`, for options objects.
pub(crate) fn get(o: &JsValue, key: &str) -> Result<JsValue, Error> {
    Reflect::get(o, &key.into())
        .map_err(|_| Error::invalid_argument(format!("options.{key} cannot be read")))
}

/// A whole number of milliseconds (`min` or more), `None` when absent.
pub(crate) fn millis(o: &JsValue, key: &str, min: u64) -> Result<Option<u64>, Error> {
    let v = get(o, key)?;
    if v.is_undefined() {
        return Ok(None);
    }
    match v.as_f64() {
        Some(n) if n.fract() == 0.0 && n >= min as f64 && n <= 2_147_483_647.0 => {
            Ok(Some(n as u64))
        }
        _ => Err(Error::invalid_argument(format!(
            "{key} must be an integer number of milliseconds from {min} to 2^31-1"
        ))),
    }
}

/// What `DocOptions` set.
pub(crate) struct DocSettings {
    pub(crate) replica: Option<ReplicaId>,
    pub(crate) undo: UndoOptions,
    pub(crate) presence: PresenceOptions,
}

/// Reads `DocOptions` (undefined or an object; unknown keys are ignored).
pub(crate) fn doc_options(options: &JsValue) -> Result<DocSettings, Error> {
    let replica = replica_option(options)?;
    let mut undo = UndoOptions::default();
    let mut presence = PresenceOptions::default();
    if options.is_object() {
        if let Some(ms) = millis(options, "undoCaptureMs", 0)? {
            undo.capture_window_ms = ms;
        }
        let p = get(options, "presence")?;
        if !p.is_undefined() {
            if !p.is_object() {
                return Err(Error::invalid_argument(
                    "options.presence must be an object",
                ));
            }
            if let Some(ms) = millis(&p, "idleAfterMs", 0)? {
                presence.idle_after_ms = ms;
            }
            if let Some(ms) = millis(&p, "timeoutMs", 1)? {
                presence.timeout_ms = ms;
            }
        }
    }
    Ok(DocSettings {
        replica,
        undo,
        presence,
    })
}

/// A random replica id from `crypto.getRandomValues`.
pub(crate) fn random_replica() -> Result<ReplicaId, Error> {
    let mut buf = [0u8; 8];
    get_random_values(&mut buf).map_err(|_| {
        Error::new(
            code::NO_RANDOM,
            "crypto.getRandomValues is unavailable; pass options.replicaId",
        )
    })?;
    Ok(ReplicaId(u64::from_le_bytes(buf)))
}

/// A plain object with the given own properties.
fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in fields {
        // Defining a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&o, &JsValue::from_str(k), v);
    }
    o.into()
}

pub(crate) fn bytes(b: &[u8]) -> JsValue {
    Uint8Array::from(b).into()
}

/// `{ applied, pending }`.
pub(crate) fn outcome(o: &ApplyOutcome) -> JsValue {
    object(&[
        ("applied", JsValue::from(o.applied)),
        ("pending", JsValue::from(o.pending)),
    ])
}

/// `{ title, text, counters, version }`; counters is a plain object whose
/// own keys are the names (built with `Object.fromEntries`, so a counter
/// called `__proto__` is an ordinary key).
pub(crate) fn snapshot(s: &Snapshot) -> JsValue {
    let entries = Array::new();
    for (name, value) in &s.counters {
        entries.push(&Array::of2(&name.into(), &JsValue::from(*value as f64)));
    }
    let counters = Object::from_entries(&entries).unwrap_or_default();
    object(&[
        ("title", s.title.as_str().into()),
        ("text", s.text.as_str().into()),
        ("counters", counters.into()),
        ("version", bytes(&s.version.encode())),
    ])
}

/// `{ origin: 'local' | 'remote', changes }`.
pub(crate) fn event(origin: &str, changes: Array) -> JsValue {
    object(&[("origin", origin.into()), ("changes", changes.into())])
}

/// `{ type: 'insert' | 'delete', index, length }` in UTF-16 code units.
pub(crate) fn text_change(kind: &str, index: usize, length: usize) -> JsValue {
    object(&[
        ("type", kind.into()),
        ("index", JsValue::from(index)),
        ("length", JsValue::from(length)),
    ])
}

pub(crate) fn title_change() -> JsValue {
    object(&[("type", "title".into())])
}

pub(crate) fn counter_change(name: &str) -> JsValue {
    object(&[("type", "counter".into()), ("name", name.into())])
}

/// A change reported by the core for a remote delta (`None` for kinds this
/// build does not know).
pub(crate) fn change(c: &Change) -> Option<JsValue> {
    Some(match c {
        Change::Insert {
            index_utf16,
            len_utf16,
            ..
        } => text_change("insert", *index_utf16, *len_utf16),
        Change::Delete {
            index_utf16,
            len_utf16,
            ..
        } => text_change("delete", *index_utf16, *len_utf16),
        Change::Title => title_change(),
        Change::Counter { name } => counter_change(name),
        _ => return None,
    })
}

/// The changes that turn `before` into `after`, as `onChange` reports
/// them: the text as one delete and one insert around the common prefix and
/// suffix, then the title and the counters that differ.
pub(crate) fn changes_between(before: &Snapshot, after: &Snapshot) -> Array {
    let out = Array::new();
    let (at, deleted, inserted) = text_diff(&before.text, &after.text);
    if deleted > 0 {
        out.push(&text_change("delete", at, deleted));
    }
    if inserted > 0 {
        out.push(&text_change("insert", at, inserted));
    }
    if before.title != after.title {
        out.push(&title_change());
    }
    let (old, new) = (&before.counters, &after.counters);
    let added = new.keys().filter(|name| !old.contains_key(*name));
    for name in old.keys().chain(added) {
        if old.get(name) != new.get(name) {
            out.push(&counter_change(name));
        }
    }
    out
}

/// `(index, deleted, inserted)` in UTF-16 code units: the span between the
/// common prefix and the common suffix of `a` and `b`.
fn text_diff(a: &str, b: &str) -> (usize, usize, usize) {
    let prefix: usize = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    let (a_rest, b_rest) = (&a[prefix..], &b[prefix..]);
    let suffix: usize = a_rest
        .chars()
        .rev()
        .zip(b_rest.chars().rev())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    let units = |s: &str| s.encode_utf16().count();
    (
        units(&a[..prefix]),
        units(&a_rest[..a_rest.len() - suffix]),
        units(&b_rest[..b_rest.len() - suffix]),
    )
}

/// A presence state from `setLocal`'s argument: `{ name, color, data?,
/// cursor?, selection? }`, indexes in UTF-16 code units (clamped to the
/// text) turned into anchors on `doc`.
pub(crate) fn client_state(doc: &quire_core::Doc, v: &JsValue) -> Result<ClientState, Error> {
    if !v.is_object() {
        return Err(Error::invalid_argument("presence state must be an object"));
    }
    let field = |key: &str| {
        Reflect::get(v, &key.into())
            .map_err(|_| Error::invalid_argument(format!("state.{key} cannot be read")))
    };
    let optional =
        |key: &str| field(key).map(|x| Some(x).filter(|x| !x.is_undefined() && !x.is_null()));
    let anchor = |x: &JsValue, what: &str| index(x, what).map(|i| doc.anchor_at_utf16(i));
    let data = match optional("data")? {
        Some(d) => text(&d, "state.data")?,
        None => String::new(),
    };
    let cursor = match optional("cursor")? {
        Some(c) => Some(anchor(&c, "state.cursor")?),
        None => None,
    };
    let selection = match optional("selection")? {
        Some(s) if s.is_object() => {
            let end = |k: &str| Reflect::get(&s, &k.into()).unwrap_or_default();
            Some(Selection {
                start: anchor(&end("start"), "state.selection.start")?,
                end: anchor(&end("end"), "state.selection.end")?,
            })
        }
        Some(_) => {
            return Err(Error::invalid_argument(
                "state.selection must be { start, end }",
            ))
        }
        None => None,
    };
    Ok(ClientState {
        user: UserInfo {
            name: text(&field("name")?, "state.name")?,
            color: text(&field("color")?, "state.color")?,
            data,
        },
        cursor,
        selection,
    })
}

/// `{ id, name, color, data, cursor, selection, line, column, idle, local }`
/// with the anchors resolved against `doc` (UTF-16 code units).
pub(crate) fn user(doc: &quire_core::Doc, u: &User, local: bool) -> JsValue {
    let s = &u.state;
    let at = |a| doc.resolve_utf16(a);
    let cursor = s.cursor.as_ref().map(at);
    let selection = s
        .selection
        .as_ref()
        .map(|sel| (at(&sel.start), at(&sel.end)));
    let caret = cursor.or(selection.map(|(_, end)| end));
    let place = caret.map(|i| doc.line_col_utf16(i));
    let number = |n: Option<usize>| n.map_or(JsValue::NULL, JsValue::from);
    object(&[
        ("id", u.id.0.to_string().into()),
        ("name", s.user.name.as_str().into()),
        ("color", s.user.color.as_str().into()),
        ("data", s.user.data.as_str().into()),
        ("cursor", number(cursor)),
        (
            "selection",
            selection.map_or(JsValue::NULL, |(start, end)| {
                object(&[("start", start.into()), ("end", end.into())])
            }),
        ),
        ("line", number(place.map(|p| p.line))),
        ("column", number(place.map(|p| p.column_utf16))),
        ("idle", u.idle.into()),
        ("local", local.into()),
    ])
}

/// `{ changed }`: the ids of the clients whose presence changed.
pub(crate) fn presence_event(changed: &[ReplicaId]) -> JsValue {
    let ids: Array = changed
        .iter()
        .map(|id| JsValue::from(id.0.to_string()))
        .collect();
    object(&[("changed", ids.into())])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_must_be_non_negative_integers() {
        assert_eq!(index_from_f64(3.0, "index"), Ok(3));
        assert_eq!(
            index_from_f64(-1.0, "index").unwrap_err().code,
            "INVALID_INDEX"
        );
        for bad in [1.5, f64::NAN, f64::INFINITY, 1e300] {
            assert_eq!(
                index_from_f64(bad, "index").unwrap_err().code,
                "INVALID_ARGUMENT"
            );
        }
    }

    #[test]
    fn counter_steps_must_be_safe_integers() {
        assert_eq!(step(Some(-5.0)), Ok(-5));
        for bad in [None, Some(0.5), Some(2f64.powi(60)), Some(f64::NAN)] {
            assert_eq!(step(bad).unwrap_err().code, "INVALID_ARGUMENT");
        }
    }

    #[test]
    fn text_diff_finds_the_changed_span_in_utf16_units() {
        assert_eq!(text_diff("abc", "abc"), (3, 0, 0));
        assert_eq!(text_diff("hello world", "hello"), (5, 6, 0));
        assert_eq!(text_diff("ab", "aXYb"), (1, 0, 2));
        assert_eq!(text_diff("a😀b", "a😀😀b"), (3, 0, 2));
        assert_eq!(text_diff("xaay", "xay"), (2, 1, 0));
        assert_eq!(text_diff("", "é😀"), (0, 0, 3));
    }

    #[test]
    fn replica_strings_are_plain_decimal_u64() {
        assert_eq!(parse_replica("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_replica("42"), Some(42));
        for bad in ["", "+1", "-1", "0x10", "18446744073709551616", " 1"] {
            assert_eq!(parse_replica(bad), None, "{bad:?}");
        }
    }
}
