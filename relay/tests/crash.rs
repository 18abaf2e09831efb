//! Crash test: the real `quire-relay` binary on a redb data directory is
//! killed with SIGKILL at random moments while clients write, and restarted
//! on the same directory. Every update acknowledged as durable must survive,
//! and every document must load.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use quire_core::sync::{ClientConfig, ClientSession, SessionEvent, Status};
use quire_core::{Doc, ReplicaId};
use tokio_tungstenite::tungstenite::Message as Ws;

const DOCS: [&str; 2] = ["crash-a", "crash-b"];
const WRITERS_PER_DOC: u64 = 2;
const KILLS: usize = 5;

/// The relay process and the port it listens on (kept across restarts).
struct Relay {
    child: Child,
    port: u16,
}

impl Drop for Relay {
    // A failing assertion must not leave a relay running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(data_dir: &std::path::Path, port: u16) -> Relay {
    let mut child = Command::new(env!("CARGO_BIN_EXE_quire-relay"))
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data_dir)
        .args([
            "--compact-every",
            "7",
            "--www",
            "/nonexistent",
            "--pkg",
            "/nonexistent",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn quire-relay");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("relay exited before listening")
            .unwrap();
        if let Some(rest) = line.split("listening on http://127.0.0.1:").nth(1) {
            break rest.trim_end_matches('/').parse().unwrap();
        }
    };
    // Keep draining stdout so the relay never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Relay { child, port }
}

/// A tiny deterministic generator for kill timings.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Writes `w<replica>.<k>;` tokens one update at a time, reconnecting
/// whenever the relay goes away, until `stop`. Records the tokens covered by
/// a durable ack.
async fn writer(
    doc_id: &'static str,
    replica: u64,
    port: Arc<Mutex<u16>>,
    durable: Arc<Mutex<BTreeSet<String>>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
) {
    let mut doc = Doc::new(ReplicaId(replica));
    let mut session = ClientSession::new(doc_id, &doc, ClientConfig::default()).unwrap();
    let mut typed: Vec<String> = Vec::new();
    let start = Instant::now();
    let now = || start.elapsed().as_millis() as u64;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let url = format!("ws://127.0.0.1:{}/ws/{doc_id}", *port.lock().unwrap());
        let Ok(Ok((mut socket, _))) = tokio::time::timeout(
            Duration::from_secs(2),
            tokio_tungstenite::connect_async(url),
        )
        .await
        else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        session.connected(&doc, now());
        'live: loop {
            while let Some(frame) = session.poll_transmit() {
                if socket.send(Ws::Binary(frame.into())).await.is_err() {
                    break 'live;
                }
            }
            if stop.load(std::sync::atomic::Ordering::Relaxed) {
                break 'live;
            }
            if session.status() == Status::Live && session.pending() == 0 {
                let token = format!("w{replica}.{};", typed.len());
                let at = doc.len();
                doc.insert(at, &token).unwrap();
                typed.push(token);
                session.local_changes(&doc, now());
                continue;
            }
            let frame = match tokio::time::timeout(Duration::from_secs(2), socket.next()).await {
                Ok(Some(Ok(Ws::Binary(bytes)))) => bytes,
                Ok(Some(Ok(_))) => continue,
                _ => break 'live,
            };
            match session.receive(&mut doc, &frame, now()) {
                Ok(events) => {
                    let acked = events
                        .iter()
                        .any(|e| matches!(e, SessionEvent::Acked { durable: true, .. }));
                    if acked && session.pending() == 0 {
                        durable.lock().unwrap().extend(typed.iter().cloned());
                    }
                }
                Err(e) => panic!("writer {replica}: {e}"),
            }
        }
        session.disconnected();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn durably_acked_updates_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = start(dir.path(), 0);
    let port = Arc::new(Mutex::new(relay.port));
    let durable = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));

    let mut tasks = Vec::new();
    for (d, doc_id) in DOCS.iter().enumerate() {
        for w in 0..WRITERS_PER_DOC {
            let replica = 1 + d as u64 * 10 + w;
            tasks.push(tokio::spawn(writer(
                doc_id,
                replica,
                Arc::clone(&port),
                Arc::clone(&durable),
                Arc::clone(&stop),
            )));
        }
    }

    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..KILLS {
        tokio::time::sleep(Duration::from_millis(150 + next(&mut seed) % 500)).await;
        relay.child.kill().unwrap(); // SIGKILL
        relay.child.wait().unwrap();
        relay = start(dir.path(), relay.port);
        *port.lock().unwrap() = relay.port;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in tasks {
        t.await.unwrap();
    }

    // One last crash, then read every document from a fresh relay process.
    relay.child.kill().unwrap();
    relay.child.wait().unwrap();
    let mut relay = start(dir.path(), relay.port);
    let durable = durable.lock().unwrap().clone();
    assert!(
        durable.len() >= 10,
        "the writers made too little progress to test anything: {durable:?}"
    );
    for doc_id in DOCS {
        let text = read_text(relay.port, doc_id).await;
        for token in durable.iter().filter(|t| {
            let replica: u64 = t[1..t.find('.').unwrap()].parse().unwrap();
            DOCS[((replica - 1) / 10) as usize] == doc_id
        }) {
            assert!(
                text.contains(token.as_str()),
                "{doc_id}: durably acked {token} lost; text is {text:?}"
            );
        }
    }
    relay.child.kill().unwrap();
    relay.child.wait().unwrap();
}

/// The document's text as a fresh client sees it after catching up.
async fn read_text(port: u16, doc_id: &str) -> String {
    let mut doc = Doc::new(ReplicaId(999));
    let mut session = ClientSession::new(doc_id, &doc, ClientConfig::default()).unwrap();
    let url = format!("ws://127.0.0.1:{port}/ws/{doc_id}");
    let (mut socket, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    session.connected(&doc, 0);
    while session.status() != Status::Live {
        while let Some(frame) = session.poll_transmit() {
            socket.send(Ws::Binary(frame.into())).await.unwrap();
        }
        let frame = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("relay answers")
            .unwrap()
            .unwrap();
        if let Ws::Binary(bytes) = frame {
            session.receive(&mut doc, &bytes, 1).unwrap();
        }
    }
    doc.text()
}
