//! The binary's auth options: `quire-relay token` and the secret checks at
//! start-up.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

use quire_core::ReplicaId;
use quire_relay::auth::{now_unix, Claims, Scope, Secret};

const BIN: &str = env!("CARGO_BIN_EXE_quire-relay");
const SECRET: &str = "cli-test-secret-0123456789abcdef0123456789";

fn relay() -> Command {
    let mut c = Command::new(BIN);
    c.env_remove("QUIRE_AUTH_SECRET")
        .env_remove("QUIRE_AUTH_SECRET_FILE");
    c
}

/// The claims of the token a successful `token` run printed.
fn printed_claims(out: Output) -> Claims {
    assert!(out.status.success(), "{out:?}");
    let token = String::from_utf8(out.stdout).unwrap();
    Secret::from_text(SECRET)
        .unwrap()
        .verify(token.trim_end(), now_unix())
        .unwrap()
}

#[test]
fn the_token_subcommand_prints_a_token_the_relay_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    std::fs::write(&file, format!("{SECRET}\n")).unwrap();
    let out = relay()
        .args(["token", "--doc", "notes", "--scope", "read", "--ttl", "120"])
        .arg("--auth-secret-file")
        .arg(&file)
        .output()
        .unwrap();
    let claims = printed_claims(out);
    assert_eq!((claims.doc.as_str(), claims.scope), ("notes", Scope::Read));
    assert!(claims.exp.abs_diff(now_unix() + 120) <= 5, "{claims:?}");
    assert_eq!(claims.replica, None);

    // The secret may come from the environment instead.
    let out = relay()
        .args(["token", "--doc", "notes", "--scope", "write"])
        .env("QUIRE_AUTH_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(printed_claims(out).scope, Scope::Write);

    // `--replica` pins the token to one client's replica id.
    let out = relay()
        .args(["token", "--doc", "notes", "--scope", "write"])
        .args(["--replica", "3E8"])
        .env("QUIRE_AUTH_SECRET", SECRET)
        .output()
        .unwrap();
    assert_eq!(printed_claims(out).replica, Some(ReplicaId(1000)));
}

#[test]
fn minting_without_a_secret_or_with_a_bad_document_id_fails() {
    let out = relay()
        .args(["token", "--doc", "notes", "--scope", "read"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no secret"));
    let out = relay()
        .args(["token", "--doc=-bad", "--scope", "read"])
        .env("QUIRE_AUTH_SECRET", SECRET)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
}

#[test]
fn the_server_refuses_to_start_on_an_empty_or_short_secret() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("secret");
    for content in ["", "\n", "short-secret\n"] {
        std::fs::write(&file, content).unwrap();
        let out = relay()
            .args(["--memory", "--listen", "127.0.0.1:0"])
            .arg("--auth-secret-file")
            .arg(&file)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{content:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("at least 32"), "{err}");
    }
    let out = relay()
        .args(["--memory", "--listen", "127.0.0.1:0"])
        .env("QUIRE_AUTH_SECRET", "   ")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let out = relay()
        .args(["--memory", "--listen", "127.0.0.1:0"])
        .arg("--auth-secret-file")
        .arg(dir.path().join("missing"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn the_server_starts_with_a_valid_secret() {
    let mut child = relay()
        .args([
            "--memory",
            "--listen",
            "127.0.0.1:0",
            "--www",
            "/nonexistent",
        ])
        .args(["--pkg", "/nonexistent"])
        .env("QUIRE_AUTH_SECRET", SECRET)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    assert!(line.contains("listening on http://127.0.0.1:"), "{line:?}");
}
