//! `quire-relay`: the relay binary (being built by the relay issue).

fn main() {}
