//! Sync protocol frames and presence bodies: what decodes re-encodes to
//! something that decodes to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use quire_core::presence::{decode_entries, encode_entries};
use quire_core::sync::Message;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::decode(data) {
        let again = Message::decode(&message.encode()).expect("a re-encoded message decodes");
        assert_eq!(again, message);
    }
    if let Ok(entries) = decode_entries(data) {
        let body = encode_entries(&entries);
        assert_eq!(
            decode_entries(&body).expect("re-encoded entries decode"),
            entries
        );
    }
});
