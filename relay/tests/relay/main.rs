//! Integration tests of `quire-relay`: real sockets on 127.0.0.1:0, clients
//! driven by core's `ClientSession`.

mod auth;
mod durability;
mod hostile;
mod limits;
mod presence;
mod routes;
mod support;
mod sync;
