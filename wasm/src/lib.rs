//! WebAssembly bindings of Quire (being built by the wasm issue).
