//! Token minting and verification: golden tokens, strict parsing, and
//! every truncation and bit flip refused.

use super::*;

const SECRET: &str = "quire-example-secret-0123456789abcdef";
/// Minted independently (Python's `hmac`, `base64.urlsafe_b64encode`
/// without `=`) from SECRET and the payload
/// `{"v":1,"doc":"notes","scope":"write","exp":1700000000}`.
const GOLDEN: &str = "eyJ2IjoxLCJkb2MiOiJub3RlcyIsInNjb3BlIjoid3JpdGUiLCJleHAiOjE3MDAwMDAwMDB9.lE9no9ry-6eRSKMKcGp2mE572fap1_4EDGbJCgRBycI";
const NOW: u64 = 1_700_000_000;
/// Minted the same way from SECRET and `{"v":1,"doc":"notes",
/// "scope":"write","exp":4102444800,"replica":"00000000000003e8"}`.
const GOLDEN_PINNED: &str = "eyJ2IjoxLCJkb2MiOiJub3RlcyIsInNjb3BlIjoid3JpdGUiLCJleHAiOjQxMDI0NDQ4MDAsInJlcGxpY2EiOiIwMDAwMDAwMDAwMDAwM2U4In0.PzyXoZEKcK3V82CyYsKwxEI8EFeGl7jFErLUrMdLEoE";

fn secret() -> Secret {
    Secret::from_text(SECRET).unwrap()
}

fn claims(doc: &str, scope: Scope, exp: u64) -> Claims {
    Claims {
        doc: doc.into(),
        scope,
        exp,
        replica: None,
    }
}

/// A token over `json` as its payload, signed with SECRET.
fn signed(json: &str) -> String {
    let payload = URL_SAFE_NO_PAD.encode(json);
    let mut mac = secret().mac;
    mac.update(payload.as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{payload}.{tag}")
}

#[test]
fn minting_matches_an_independent_implementation() {
    let token = secret().mint(&claims("notes", Scope::Write, NOW));
    assert_eq!(token, GOLDEN);
    assert_eq!(
        secret().verify(GOLDEN, NOW),
        Ok(claims("notes", Scope::Write, NOW))
    );
}

#[test]
fn authorize_checks_the_document_and_returns_the_scope() {
    let s = secret();
    let read = s.mint(&claims("a.b-c_1", Scope::Read, NOW + 10));
    assert_eq!(
        s.authorize(Some(&read), "a.b-c_1", NOW).map(|c| c.scope),
        Ok(Scope::Read)
    );
    assert!(matches!(
        s.authorize(Some(&read), "other", NOW),
        Err(TokenError::WrongDocument { .. })
    ));
    assert_eq!(s.authorize(None, "a.b-c_1", NOW), Err(TokenError::Missing));
}

#[test]
fn a_token_naming_a_replica_admits_only_that_replicas_hello() {
    let s = secret();
    let pinned = Claims {
        replica: Some(ReplicaId(1000)),
        ..claims("notes", Scope::Write, 4_102_444_800)
    };
    let token = s.mint(&pinned);
    assert_eq!(token, GOLDEN_PINNED);
    assert_eq!(s.verify(GOLDEN_PINNED, NOW), Ok(pinned));
    let admit = |t: &str, r| grant(Some(&s), Some(t), "notes", ReplicaId(r));
    assert_eq!(admit(&token, 1000), Ok(Scope::Write));
    assert_eq!(
        admit(&token, 1001),
        Err(TokenError::WrongReplica {
            token: ReplicaId(1000),
            hello: ReplicaId(1001)
        })
    );
    // A token naming no replica admits any; no secret admits anything.
    let open = s.mint(&claims("notes", Scope::Read, u64::MAX));
    assert_eq!(admit(&open, 1001), Ok(Scope::Read));
    assert_eq!(grant(None, None, "notes", ReplicaId(7)), Ok(Scope::Write));
}

#[test]
fn a_replica_member_must_be_16_lower_case_hex_digits() {
    let s = secret();
    let head = r#"{"v":1,"doc":"notes","scope":"write","exp":1700000000"#;
    for bad in [
        r#","replica":"3e8""#,
        r#","replica":"00000000000003E8""#,
        r#","replica":"000000000000003e8""#,
        r#","replica":"0x000000000003e8""#,
        r#","replica":" 00000000000003e8""#,
        r#","replica":1000"#,
        r#","replica":null"#,
        r#","replica":"00000000000003e8","replica":"00000000000003e8""#,
    ] {
        // A parse error, named before the expiry is looked at.
        for now in [NOW, u64::MAX] {
            let r = s.verify(&signed(&format!("{head}{bad}}}")), now);
            assert!(
                matches!(r, Err(TokenError::BadPayload { .. })),
                "{bad}: {r:?}"
            );
        }
    }
    let good = s.verify(
        &signed(&format!(r#"{head},"replica":"ffffffffffffffff"}}"#)),
        NOW,
    );
    assert_eq!(good.map(|c| c.replica), Ok(Some(ReplicaId(u64::MAX))));
}

#[test]
fn expiry_allows_the_documented_leeway_and_no_more() {
    let s = secret();
    let t = s.mint(&claims("d", Scope::Write, NOW));
    assert!(s.verify(&t, NOW + EXPIRY_LEEWAY).is_ok());
    assert_eq!(
        s.verify(&t, NOW + EXPIRY_LEEWAY + 1),
        Err(TokenError::Expired {
            exp: NOW,
            now: NOW + EXPIRY_LEEWAY + 1
        })
    );
    // An expiry at the end of time does not overflow.
    let t = s.mint(&claims("d", Scope::Write, u64::MAX));
    assert!(s.verify(&t, u64::MAX).is_ok());
}

#[test]
fn another_secret_gives_bad_signature() {
    let other = Secret::from_text("another-secret-0123456789abcdef-xyz").unwrap();
    let t = other.mint(&claims("notes", Scope::Write, NOW));
    assert_eq!(secret().verify(&t, NOW), Err(TokenError::BadSignature));
}

#[test]
fn every_truncation_is_refused() {
    let s = secret();
    for end in 0..GOLDEN.len() {
        assert!(s.verify(&GOLDEN[..end], NOW).is_err(), "prefix {end}");
        assert!(s.verify(&GOLDEN[end + 1..], NOW).is_err(), "suffix {end}");
    }
}

#[test]
fn every_bit_flip_is_refused() {
    let s = secret();
    for i in 0..GOLDEN.len() {
        for bit in 0..8 {
            let mut bytes = GOLDEN.as_bytes().to_vec();
            bytes[i] ^= 1 << bit;
            // Invalid UTF-8 never gets this far (the hello decoder refuses it).
            if let Ok(text) = String::from_utf8(bytes) {
                assert!(s.verify(&text, NOW).is_err(), "byte {i} bit {bit}");
            }
        }
    }
}

#[test]
fn oversized_and_misshapen_tokens_get_typed_errors() {
    let s = secret();
    let huge = "a".repeat(MAX_TOKEN_LEN + 1);
    assert!(matches!(
        s.verify(&huge, NOW),
        Err(TokenError::TooLong { .. })
    ));
    let (payload, tag) = GOLDEN.split_once('.').unwrap();
    for bad in [
        String::new(),
        ".".into(),
        payload.into(),
        format!(".{tag}"),
        format!("{payload}."),
        format!("{payload}.{tag}.{tag}"),
        format!("{payload}..{tag}"),
        format!("{payload}.{tag}="),
        format!("{payload}.{tag}A"),
        format!("{payload}={}", &GOLDEN[payload.len()..]),
        // Standard base64 alphabet instead of base64url.
        format!("{payload}.{}", tag.replace('-', "+").replace('_', "/")),
        format!(" {GOLDEN}"),
        format!("{GOLDEN}\n"),
        format!("Bearer {GOLDEN}"),
        "é".repeat(20),
    ] {
        assert!(
            matches!(
                s.verify(&bad, NOW),
                Err(TokenError::Malformed { .. } | TokenError::BadSignature)
            ),
            "{bad:?}: {:?}",
            s.verify(&bad, NOW)
        );
    }
}

#[test]
fn signature_bits_the_encoding_cannot_hold_are_refused() {
    // The 43rd character carries 4 bits of tag and 2 unused bits that
    // must be zero: another character with the same tag is not accepted.
    let (payload, tag) = GOLDEN.split_once('.').unwrap();
    let last = tag.as_bytes()[TAG_CHARS - 1];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.iter().position(|&c| c == last).unwrap();
    let twin = alphabet[index | 1] as char;
    assert_ne!(twin as u8, last);
    let forged = format!("{payload}.{}{twin}", &tag[..TAG_CHARS - 1]);
    assert!(matches!(
        secret().verify(&forged, NOW),
        Err(TokenError::Malformed { .. })
    ));
}

#[test]
fn signed_payloads_are_parsed_strictly() {
    let s = secret();
    let bad_payload = |json: &str| {
        let r = s.verify(&signed(json), NOW);
        assert!(
            matches!(r, Err(TokenError::BadPayload { .. })),
            "{json}: {r:?}"
        );
    };
    bad_payload(" ");
    bad_payload("null");
    bad_payload("[1,\"notes\",\"write\",1700000000]");
    bad_payload(r#"{"v":1,"doc":"notes","scope":"write"}"#);
    bad_payload(r#"{"v":1,"doc":"notes","scope":"write","exp":1700000000,"admin":true}"#);
    bad_payload(r#"{"v":1,"doc":"notes","doc":"other","scope":"write","exp":1700000000}"#);
    bad_payload(r#"{"v":1,"doc":"notes","scope":"admin","exp":1700000000}"#);
    bad_payload(r#"{"v":1,"doc":"notes","scope":"Write","exp":1700000000}"#);
    bad_payload(r#"{"v":1,"doc":"notes","scope":"write","exp":-1}"#);
    bad_payload(r#"{"v":1,"doc":"notes","scope":"write","exp":1.7e9}"#);
    bad_payload(r#"{"v":1,"doc":"notes","scope":"write","exp":"1700000000"}"#);
    bad_payload(r#"{"v":1,"doc":"notes","scope":"write","exp":18446744073709551616}"#);
    bad_payload(r#"{"v":1,"doc":"-bad","scope":"write","exp":1700000000}"#);
    bad_payload(r#"{"v":1,"doc":"","scope":"write","exp":1700000000}"#);
    bad_payload(r#"{"v":1,"doc":"notes","scope":"write","exp":1700000000} x"#);
    bad_payload(&format!("{}1{}", "[".repeat(200), "]".repeat(200)));
    // Whitespace is JSON; the signature covers it.
    assert!(s
        .verify(
            &signed(r#"{ "v": 1, "doc": "notes", "scope": "read", "exp": 1700000000 }"#),
            NOW
        )
        .is_ok());
}

#[test]
fn other_versions_are_named() {
    let s = secret();
    for json in [
        r#"{"v":2,"doc":"notes","scope":"write","exp":1700000000}"#,
        r#"{"v":2,"aud":"x","sub":"y"}"#,
        r#"{"v":0,"doc":"notes","scope":"write","exp":1700000000}"#,
    ] {
        assert!(
            matches!(
                s.verify(&signed(json), NOW),
                Err(TokenError::UnsupportedVersion { supported: 1, .. })
            ),
            "{json}"
        );
    }
}

#[test]
fn secrets_are_trimmed_bounded_and_never_printed() {
    assert!(matches!(
        Secret::from_text("  short\n"),
        Err(SecretError::TooShort { len: 5, .. })
    ));
    assert!(matches!(
        Secret::from_text(""),
        Err(SecretError::TooShort { len: 0, .. })
    ));
    assert!(matches!(
        Secret::new(&vec![b'x'; MAX_SECRET + 1]),
        Err(SecretError::TooLong { .. })
    ));
    let padded = Secret::from_text(&format!("\n {SECRET} \r\n")).unwrap();
    assert_eq!(padded.mint(&claims("notes", Scope::Write, NOW)), GOLDEN);
    assert_eq!(format!("{padded:?}"), "Secret(..)");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    std::fs::write(&path, format!("{SECRET}\n")).unwrap();
    let from_file = Secret::from_file(&path).unwrap();
    assert!(from_file.verify(GOLDEN, NOW).is_ok());
    std::fs::write(&path, "\n\n").unwrap();
    assert!(matches!(
        Secret::from_file(&path),
        Err(SecretError::TooShort { len: 0, .. })
    ));
    assert!(matches!(
        Secret::from_file(&dir.path().join("missing")),
        Err(SecretError::Read { .. })
    ));
}
