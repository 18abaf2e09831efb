//! Integration tests of `quire-core`, one binary with one module per
//! behaviour.

mod hostile;
mod simulation;
mod sync;
mod vectors;
