//! Errors thrown to JavaScript: `Error` objects (name `QuireError`) with a
//! stable `code`, never strings. Every core error maps to one code.

use quire_core::presence::PresenceError;
use quire_core::{ApplyError, DecodeError, EditError};
use wasm_bindgen::JsValue;

/// The stable codes. They are part of the JS API: add, never rename.
pub(crate) mod code {
    /// An index or range is outside the text, negative, or splits a
    /// surrogate pair.
    pub const INVALID_INDEX: &str = "INVALID_INDEX";
    /// An argument has the wrong type or value (e.g. a lone surrogate).
    pub const INVALID_ARGUMENT: &str = "INVALID_ARGUMENT";
    /// Bytes are not a valid encoding of what was expected.
    pub const DECODE: &str = "DECODE";
    /// A size limit was hit (title, counter name, pending operations, ...).
    pub const LIMIT: &str = "LIMIT";
    /// A delta decodes but names impossible operations (a broken or hostile
    /// sender).
    pub const INVALID_DELTA: &str = "INVALID_DELTA";
    /// The document was used from inside one of its own calls.
    pub const BUSY: &str = "BUSY";
    /// A random replica id could not be drawn (no `crypto.getRandomValues`).
    pub const NO_RANDOM: &str = "NO_RANDOM";
    /// A core error this build does not know yet (core enums are
    /// non-exhaustive).
    pub const INTERNAL: &str = "INTERNAL";
}

/// An error on its way to JavaScript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Error {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl Error {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(code::INVALID_ARGUMENT, message)
    }
}

impl From<Error> for JsValue {
    fn from(e: Error) -> JsValue {
        let err = js_sys::Error::new(&e.message);
        err.set_name("QuireError");
        // Setting a property on a fresh Error cannot fail.
        let _ = js_sys::Reflect::set(&err, &"code".into(), &e.code.into());
        err.into()
    }
}

fn decode_code(e: &DecodeError) -> &'static str {
    match e {
        DecodeError::LimitExceeded { .. } => code::LIMIT,
        _ => code::DECODE,
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::new(decode_code(&e), e.to_string())
    }
}

impl From<EditError> for Error {
    fn from(e: EditError) -> Self {
        let code = match e {
            EditError::OutOfBounds { .. } | EditError::InsideSurrogatePair { .. } => {
                code::INVALID_INDEX
            }
            EditError::LimitExceeded { .. } => code::LIMIT,
            _ => code::INTERNAL,
        };
        Error::new(code, e.to_string())
    }
}

impl From<ApplyError> for Error {
    fn from(e: ApplyError) -> Self {
        let code = match &e {
            ApplyError::Decode(d) => decode_code(d),
            ApplyError::NotACharacter { .. }
            | ApplyError::BadLamport { .. }
            | ApplyError::BadSequence { .. } => code::INVALID_DELTA,
            ApplyError::TooManyPending { .. } => code::LIMIT,
            _ => code::INTERNAL,
        };
        Error::new(code, e.to_string())
    }
}

impl From<PresenceError> for Error {
    fn from(e: PresenceError) -> Self {
        let code = match &e {
            PresenceError::Decode(d) => decode_code(d),
            PresenceError::TooLarge { .. } => code::LIMIT,
            PresenceError::NotOneEntry { .. } | PresenceError::ForgedClient { .. } => {
                code::INVALID_ARGUMENT
            }
            _ => code::INTERNAL,
        };
        Error::new(code, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quire_core::{OpId, ReplicaId};

    #[test]
    fn every_core_error_maps_to_its_documented_code() {
        let cases: [(Error, &str); 9] = [
            (
                EditError::OutOfBounds { index: 9, len: 1 }.into(),
                "INVALID_INDEX",
            ),
            (
                EditError::InsideSurrogatePair { index: 1 }.into(),
                "INVALID_INDEX",
            ),
            (
                EditError::LimitExceeded {
                    what: "x",
                    limit: 1,
                }
                .into(),
                "LIMIT",
            ),
            (ApplyError::Decode(DecodeError::BadMagic).into(), "DECODE"),
            (
                ApplyError::NotACharacter {
                    id: OpId::new(ReplicaId(1), 0),
                }
                .into(),
                "INVALID_DELTA",
            ),
            (ApplyError::TooManyPending { limit: 1 }.into(), "LIMIT"),
            (
                DecodeError::LimitExceeded {
                    what: "x",
                    value: 2,
                    limit: 1,
                }
                .into(),
                "LIMIT",
            ),
            (
                PresenceError::TooLarge {
                    what: "user name",
                    size: 300,
                    limit: 256,
                }
                .into(),
                "LIMIT",
            ),
            (
                PresenceError::Decode(DecodeError::BadMagic).into(),
                "DECODE",
            ),
        ];
        for (err, code) in cases {
            assert_eq!(err.code, code, "{}", err.message);
            assert!(!err.message.is_empty());
        }
    }
}
