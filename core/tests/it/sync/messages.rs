//! Framing of sync messages: golden bytes, round trips, hostile frames.

use quire_core::sync::message::{tag, MAX_ERROR_MESSAGE};
use quire_core::sync::{
    CatchUp, ErrorCode, ErrorMessage, Hello, HelloAck, Message, Resume, PROTOCOL_VERSION,
};
use quire_core::{DecodeError, Doc, ReplicaId, VersionVector};

fn version() -> VersionVector {
    let mut v = VersionVector::new();
    v.set(ReplicaId(1), 3);
    v.set(ReplicaId(0x0102), 200);
    v
}

fn delta_bytes() -> Vec<u8> {
    let mut doc = Doc::new(ReplicaId(1));
    doc.insert(0, "hi").unwrap();
    doc.delta_since(&VersionVector::new()).encode()
}

/// One message of every kind, with optional fields both present and absent.
fn samples() -> Vec<Message> {
    vec![
        Message::Hello(Hello {
            doc_id: "notes".into(),
            replica: ReplicaId(0xab),
            version: VersionVector::new(),
            resume: None,
            token: None,
        }),
        Message::Hello(Hello {
            doc_id: "team.notes-2".into(),
            replica: ReplicaId(u64::MAX),
            version: version(),
            resume: Some(Resume {
                server_seq: 99,
                epoch: u64::MAX,
            }),
            token: Some("t0ken".into()),
        }),
        Message::HelloAck(HelloAck {
            server_seq: 2,
            epoch: 5,
            version: version(),
            catch_up: CatchUp::Deltas(vec![(1, delta_bytes()), (2, delta_bytes())]),
            read_only: false,
        }),
        Message::HelloAck(HelloAck {
            server_seq: 0,
            epoch: 5,
            version: VersionVector::new(),
            catch_up: CatchUp::Snapshot(Doc::new(ReplicaId(3)).encode()),
            read_only: true,
        }),
        Message::Update {
            id: 1,
            delta: delta_bytes(),
        },
        Message::Ack {
            id: 1,
            server_seq: 300,
            durable: true,
        },
        Message::Delta {
            server_seq: 301,
            delta: delta_bytes(),
        },
        Message::Ping { nonce: 7 },
        Message::Pong { nonce: 7 },
        Message::Error(ErrorMessage {
            code: ErrorCode::INVALID_DELTA,
            fatal: false,
            update_id: Some(4),
            message: "bad".into(),
        }),
        Message::Error(ErrorMessage {
            code: ErrorCode(999),
            fatal: true,
            update_id: None,
            message: String::new(),
        }),
        Message::Bye,
        Message::Presence(vec![1, 2, 3]),
    ]
}

#[test]
fn every_message_round_trips() {
    for m in samples() {
        assert_eq!(Message::decode(&m.encode()), Ok(m.clone()), "{m:?}");
    }
}

#[test]
fn frames_match_the_golden_bytes_of_protocol_md() {
    let hello = Message::Hello(Hello {
        doc_id: "notes".into(),
        replica: ReplicaId(0xab),
        version: VersionVector::new(),
        resume: Some(Resume {
            server_seq: 300,
            epoch: 1,
        }),
        token: None,
    });
    #[rustfmt::skip]
    let expected: &[u8] = &[
        0x01, 0x01,                          // version 1, hello
        0x05, b'n', b'o', b't', b'e', b's',  // doc id
        0xab, 0, 0, 0, 0, 0, 0, 0,           // replica id, u64 LE
        0x00,                                // empty version vector
        0x01,                                // flags: resume
        0xac, 0x02, 0x01,                    // server_seq 300, epoch 1
    ];
    assert_eq!(hello.encode(), expected);

    let ack = Message::Ack {
        id: 1,
        server_seq: 300,
        durable: true,
    };
    assert_eq!(ack.encode(), [0x01, 0x04, 0x01, 0xac, 0x02, 0x01]);
    assert_eq!(Message::Ping { nonce: 7 }.encode(), [0x01, 0x06, 0x07]);
    assert_eq!(Message::Bye.encode(), [0x01, 0x09]);
}

#[test]
fn every_prefix_of_every_message_is_an_error() {
    for m in samples() {
        let bytes = m.encode();
        for n in 0..bytes.len() {
            assert!(Message::decode(&bytes[..n]).is_err(), "{m:?} prefix {n}");
        }
    }
}

#[test]
fn flipped_bits_never_panic() {
    for m in samples() {
        let bytes = m.encode();
        for i in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[i / 8] ^= 1 << (i % 8);
            let _ = Message::decode(&b);
        }
    }
}

#[test]
fn a_future_protocol_version_names_both_versions() {
    let mut bytes = Message::Bye.encode();
    bytes[0] = 2;
    assert_eq!(
        Message::decode(&bytes),
        Err(DecodeError::UnsupportedVersion {
            found: 2,
            supported: PROTOCOL_VERSION
        })
    );
}

#[test]
fn unknown_tags_and_trailing_bytes_are_errors() {
    assert!(matches!(
        Message::decode(&[PROTOCOL_VERSION, 200]),
        Err(DecodeError::UnknownTag { tag: 200, .. })
    ));
    assert!(matches!(
        Message::decode(&[PROTOCOL_VERSION, tag::BYE, 0]),
        Err(DecodeError::TrailingBytes { count: 1 })
    ));
}

#[test]
fn counts_and_lengths_claiming_2_pow_60_fail_without_allocating() {
    // hello_ack claiming 2^60 catch-up deltas.
    let mut bytes = vec![PROTOCOL_VERSION, tag::HELLO_ACK, 0, 0, 0, 0];
    bytes.extend([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]);
    assert!(Message::decode(&bytes).is_err());
    // update whose delta claims 2^60 bytes.
    let mut bytes = vec![PROTOCOL_VERSION, tag::UPDATE, 1];
    bytes.extend([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]);
    assert!(Message::decode(&bytes).is_err());
}

#[test]
fn a_hello_with_a_bad_document_id_or_flags_is_rejected() {
    let good = Message::Hello(Hello {
        doc_id: "ok".into(),
        replica: ReplicaId(1),
        version: VersionVector::new(),
        resume: None,
        token: None,
    })
    .encode();
    let mut bad_id = good.clone();
    bad_id[3] = b'/';
    assert!(Message::decode(&bad_id).is_err());
    let mut bad_flags = good.clone();
    *bad_flags.last_mut().unwrap() = 0x80;
    assert!(Message::decode(&bad_flags).is_err());
}

#[test]
fn a_hello_acks_flags_carry_the_catch_up_kind_and_read_only() {
    // server_seq 0, epoch 0, empty version, flags, then no deltas.
    let frame = |flags| [PROTOCOL_VERSION, tag::HELLO_ACK, 0, 0, 0, flags, 0];
    let read_only = |flags| match Message::decode(&frame(flags)) {
        Ok(Message::HelloAck(a)) => Ok((a.read_only, a.catch_up)),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e),
    };
    assert_eq!(read_only(0), Ok((false, CatchUp::Deltas(vec![]))));
    assert_eq!(read_only(2), Ok((true, CatchUp::Deltas(vec![]))));
    // Bit 0: a snapshot of 0 bytes follows (the same trailing 0).
    assert_eq!(read_only(3), Ok((true, CatchUp::Snapshot(vec![]))));
    for unknown in [4, 0x80, 0xff] {
        assert!(
            matches!(read_only(unknown), Err(DecodeError::UnknownTag { .. })),
            "{unknown}"
        );
    }
}

#[test]
fn an_overlong_error_message_is_rejected() {
    let frame = Message::Error(ErrorMessage {
        code: ErrorCode::INTERNAL,
        fatal: false,
        update_id: None,
        message: "x".repeat(MAX_ERROR_MESSAGE + 1),
    })
    .encode();
    assert!(matches!(
        Message::decode(&frame),
        Err(DecodeError::LimitExceeded { .. })
    ));
}
