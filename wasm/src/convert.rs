//! Conversions between JavaScript values and core types. Arguments arrive as
//! `JsValue` so that wrong types become `INVALID_ARGUMENT` errors instead of
//! wasm-bindgen's silent coercions (`-1 >>> 0`, lone surrogates to U+FFFD).

use crate::error::{code, Error};
use js_sys::{Array, JsString, Object, Reflect, Uint8Array};
use quire_core::{ApplyOutcome, Change, ReplicaId, Snapshot};
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

fn index_from_f64(n: f64, what: &str) -> Result<usize, Error> {
    if !integral(n) {
        return Err(Error::invalid_argument(format!(
            "{what} must be an integer, got {n}"
        )));
    }
    if n < 0.0 {
        return Err(Error::new(
            code::INVALID_INDEX,
            format!("{what} {n} is negative"),
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
    fn replica_strings_are_plain_decimal_u64() {
        assert_eq!(parse_replica("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_replica("42"), Some(42));
        for bad in ["", "+1", "-1", "0x10", "18446744073709551616", " 1"] {
            assert_eq!(parse_replica(bad), None, "{bad:?}");
        }
    }
}
