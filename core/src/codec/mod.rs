//! The binary encoding: primitives and the envelope (see `docs/PROTOCOL.md`).

#[cfg(any(test, target_arch = "wasm32"))]
mod crc32;
pub(crate) mod cursor;
mod delta;
mod doc;
pub(crate) mod envelope;
mod error;
pub(crate) mod reader;
pub(crate) mod version;
pub(crate) mod writer;

pub use delta::{MAX_DELTA_REPLICAS, MAX_INSERT_BYTES};
pub use error::DecodeError;
pub use version::MAX_VERSION_REPLICAS;
