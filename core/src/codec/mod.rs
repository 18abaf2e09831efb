//! The binary encoding: primitives and the envelope (see `docs/PROTOCOL.md`).

mod error;
pub(crate) mod envelope;
pub(crate) mod reader;
pub(crate) mod writer;

pub use error::DecodeError;
