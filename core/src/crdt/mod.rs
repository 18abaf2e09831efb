//! Conflict-free replicated data types.

pub mod gcounter;
pub mod hlc;
pub mod lww;
pub mod pncounter;
pub(crate) mod rga;
