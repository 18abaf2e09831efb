//! Integration tests of `quire-core`, one binary with one module per
//! behaviour.

mod hostile;
mod load;
mod merge;
mod presence;
mod simulation;
mod sync;
mod undo;
mod vectors;
