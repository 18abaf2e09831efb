//! Appends per second through the group-commit writer on redb.
fn main() {}
