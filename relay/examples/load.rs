//! Relay load benchmark: fan-out latency, delivered messages per second and
//! memory per idle connection, on loopback, bounded in time.
//!
//! ```sh
//! cargo build --release -p quire-relay   # the binary the idle phase runs
//! cargo run --release -p quire-relay --example load -- [--secs 5] [--idle 1000]
//! ```
//!
//! Phases (each on a fresh relay started in this process on 127.0.0.1:0,
//! on its own two-worker runtime, or on `--addr` when given):
//! - `fan-out`: 1 document, `--clients` clients, `--typists` of them insert
//!   one character every `--interval-ms`. Latency is the time from a
//!   typist's `update` to a receiver reading the `delta`: typists note the
//!   send time of each update id and learn its `server_seq` from the ack;
//!   receivers note when each `server_seq` arrived; the two are joined at
//!   the end (one clock, one process). Once with the memory store, once
//!   with redb in a temp dir (durable acks: fan-out waits for the commit).
//! - `saturate`: the same clients, typists send as fast as the acks allow
//!   (`--window` updates in flight each) while the receivers keep up (the
//!   typists pause while more than 64 deltas per receiver are undelivered,
//!   so send queues stay below the relay's resync limit).
//! - `idle`: the real `quire-relay --memory` binary as a child process
//!   (`QUIRE_RELAY_BIN`, `--relay-bin`, or next to this example), its
//!   VmRSS read from /proc before and after `--idle` connections that
//!   completed their hello and then stay silent.
//!
//! Prints a table and, last, one JSON line. Exit code 1 when a phase
//! failed (a client was closed, or deltas went missing).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{stream, SinkExt, StreamExt};
use quire_core::sync::{ClientConfig, ClientSession, Message, SessionEvent, Status};
use quire_core::{Doc, ReplicaId};
use quire_relay::store::{MemoryStore, RedbStore, Store};
use quire_relay::{Settings, Shared};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, watch};
use tokio::time::{sleep, sleep_until, timeout};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Targets from the product brief.
const TARGET_P99_MS: f64 = 5.0;
const TARGET_IDLE_BYTES: f64 = 16.0 * 1024.0;
/// Undelivered deltas per receiver above which saturating typists pause.
const BACKLOG_PER_RECEIVER: u64 = 64;
/// How long a phase may take to deliver what was sent before its deadline.
const DRAIN: Duration = Duration::from_secs(5);
/// Handshakes in flight while connecting clients.
const CONNECT_CONCURRENCY: usize = 32;

#[derive(Debug, Parser)]
#[command(about = "Relay load benchmark (loopback only)")]
struct Args {
    /// Use a running relay instead of starting one (fan-out and saturate
    /// phases only; the idle phase needs `--relay-pid` then).
    #[arg(long)]
    addr: Option<SocketAddr>,
    /// Process id of the relay at `--addr`, for the idle phase.
    #[arg(long)]
    relay_pid: Option<u32>,
    /// Clients on the document.
    #[arg(long, default_value_t = 100)]
    clients: usize,
    /// Clients that type (the others only receive).
    #[arg(long, default_value_t = 10)]
    typists: usize,
    /// Milliseconds between a typist's updates in the fan-out phases.
    #[arg(long, default_value_t = 50)]
    interval_ms: u64,
    /// Seconds each fan-out and saturate phase sends for.
    #[arg(long, default_value_t = 5.0)]
    secs: f64,
    /// Updates in flight per typist in the saturate phases.
    #[arg(long, default_value_t = 8)]
    window: usize,
    /// Idle connections for the memory phase (0 skips it).
    #[arg(long, default_value_t = 1000)]
    idle: usize,
    /// The quire-relay binary for the idle phase.
    #[arg(long, env = "QUIRE_RELAY_BIN")]
    relay_bin: Option<PathBuf>,
    /// Skip the redb phases.
    #[arg(long)]
    no_redb: bool,
    /// Run only the phases whose name contains this (e.g. `fan-out`,
    /// `redb`, `idle`).
    #[arg(long)]
    only: Option<String>,
    /// Receivers only decode frames instead of applying deltas through a
    /// `ClientSession` (typists always use one).
    #[arg(long)]
    raw_receivers: bool,
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A relay started in this process.
struct Relay {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    done: oneshot::Receiver<()>,
}

/// Starts the relay on its own runtime (two workers, as the binary has on
/// this machine), so its tasks do not queue behind the clients' tasks.
fn start_relay(store: Arc<dyn Store>) -> Relay {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let settings = Settings {
        www: None,
        pkg: None,
        ..Settings::default()
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let (finished, done) = oneshot::channel::<()>();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("relay runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let shared = Shared::new(settings, store).expect("store writer");
            let _ = quire_relay::serve(listener, shared, async {
                let _ = stopped.await;
            })
            .await;
        });
        let _ = finished.send(());
    });
    Relay { addr, stop, done }
}

impl Relay {
    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = timeout(Duration::from_secs(10), self.done).await;
    }
}

/// A client whose handshake is done.
struct Client {
    socket: Socket,
    doc: Doc,
    session: ClientSession,
    born: Instant,
}

impl Client {
    fn now_ms(&self) -> u64 {
        self.born.elapsed().as_millis() as u64
    }

    async fn flush(&mut self) -> Result<(), String> {
        while let Some(frame) = self.session.poll_transmit() {
            let ws = Ws::Binary(frame.into());
            self.socket.send(ws).await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// Connects (small buffers, no Nagle: as browsers do) and waits until live.
async fn join(addr: SocketAddr, doc_id: &str, replica: u64) -> Result<Client, String> {
    let url = format!("ws://{addr}/ws/{doc_id}");
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (socket, _) = tokio_tungstenite::connect_async_with_config(url, Some(config), true)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let doc = Doc::new(ReplicaId(replica));
    let session = ClientSession::new(doc_id, &doc, ClientConfig::default()).unwrap();
    let mut c = Client {
        socket,
        doc,
        session,
        born: Instant::now(),
    };
    let now = c.now_ms();
    c.session.connected(&c.doc, now);
    c.flush().await?;
    while c.session.status() != Status::Live {
        let frame = timeout(Duration::from_secs(10), c.socket.next()).await;
        match frame {
            Ok(Some(Ok(Ws::Binary(bytes)))) => {
                let now = c.now_ms();
                (c.session.receive(&mut c.doc, &bytes, now)).map_err(|e| e.to_string())?;
                c.flush().await?;
            }
            Ok(Some(Ok(Ws::Close(f)))) => return Err(format!("closed during hello: {f:?}")),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(None) | Err(_) => return Err("no hello_ack".into()),
        }
    }
    Ok(c)
}

/// Connects `replicas` to `doc_id`, a few handshakes at a time.
async fn join_all(
    addr: SocketAddr,
    doc_id: &str,
    replicas: impl Iterator<Item = u64>,
) -> Result<Vec<Client>, String> {
    let joins = replicas.map(|r| join(addr, doc_id, r));
    let clients: Vec<_> = stream::iter(joins)
        .buffer_unordered(CONNECT_CONCURRENCY)
        .collect()
        .await;
    clients.into_iter().collect()
}

/// How typists send.
#[derive(Clone, Copy)]
enum Load {
    /// One update every this often.
    Rate(Duration),
    /// As fast as this many updates in flight allow.
    Saturate(usize),
}

/// Totals over every client of a phase.
#[derive(Default)]
struct Counters {
    sent: AtomicU64,
    acked: AtomicU64,
    delivered: AtomicU64,
}

struct Plan {
    load: Load,
    typist: bool,
    start: Instant,
    deadline: Instant,
    receivers: u64,
    raw: bool,
}

/// What one client saw: `(server_seq, when)` of each delta received and of
/// each own update sent (its send time), and why it ended early.
#[derive(Default)]
struct Seen {
    received: Vec<(u64, Instant)>,
    sent: Vec<(u64, Instant)>,
    error: Option<String>,
}

async fn drive(
    mut c: Client,
    plan: Plan,
    counters: Arc<Counters>,
    stop: watch::Receiver<bool>,
) -> Seen {
    let mut seen = Seen::default();
    if let Err(e) = drive_loop(&mut c, &plan, &counters, stop, &mut seen).await {
        seen.error = Some(e);
    }
    let _ = c.socket.close(None).await;
    seen
}

async fn drive_loop(
    c: &mut Client,
    plan: &Plan,
    counters: &Counters,
    mut stop: watch::Receiver<bool>,
    seen: &mut Seen,
) -> Result<(), String> {
    // Send times by update id (ids count from 1 per session).
    let mut sent_at: Vec<Instant> = Vec::new();
    let mut acked = 0usize;
    let mut next_edit = plan.start;
    loop {
        let now = Instant::now();
        let typing = plan.typist && now < plan.deadline;
        let due = typing
            && match plan.load {
                Load::Rate(_) => now >= next_edit,
                Load::Saturate(window) => {
                    let backlog = (counters.sent.load(Relaxed) * plan.receivers)
                        .saturating_sub(counters.delivered.load(Relaxed));
                    sent_at.len() - acked < window
                        && backlog < BACKLOG_PER_RECEIVER * (plan.receivers + 1)
                }
            };
        if due {
            if let Load::Rate(every) = plan.load {
                // Keep the schedule, but do not burst after a stall.
                next_edit = (next_edit + every).max(now);
            }
            let end = c.doc.len();
            c.doc.insert(end, "x").map_err(|e| e.to_string())?;
            let ms = c.now_ms();
            if c.session.local_changes(&c.doc, ms) {
                sent_at.push(Instant::now());
                counters.sent.fetch_add(1, Relaxed);
            }
            c.flush().await?;
            continue;
        }
        let wake = match plan.load {
            _ if !typing => now + Duration::from_secs(3600),
            Load::Rate(_) => next_edit,
            // Blocked on the backlog: look again soon.
            Load::Saturate(_) => now + Duration::from_millis(1),
        };
        let frame = tokio::select! {
            frame = c.socket.next() => frame,
            _ = sleep_until(wake.into()) => continue,
            _ = stop.changed() => return Ok(()),
        };
        let at = Instant::now();
        let bytes = match frame {
            Some(Ok(Ws::Binary(bytes))) => bytes,
            Some(Ok(Ws::Close(f))) => return Err(format!("closed by the relay: {f:?}")),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("connection lost".into()),
        };
        if plan.raw && !plan.typist {
            match Message::decode(&bytes).map_err(|e| e.to_string())? {
                Message::Delta { server_seq, .. } => {
                    seen.received.push((server_seq, at));
                    counters.delivered.fetch_add(1, Relaxed);
                }
                Message::Ping { nonce } => {
                    let pong = Message::Pong { nonce }.encode();
                    c.socket
                        .send(Ws::Binary(pong.into()))
                        .await
                        .map_err(|e| e.to_string())?;
                }
                _ => {}
            }
            continue;
        }
        let ms = c.now_ms();
        let events = (c.session.receive(&mut c.doc, &bytes, ms)).map_err(|e| e.to_string())?;
        for event in events {
            match event {
                SessionEvent::Remote(_) => {
                    let seq = c.session.server_seq().unwrap_or(0);
                    seen.received.push((seq, at));
                    counters.delivered.fetch_add(1, Relaxed);
                }
                SessionEvent::Acked { id, server_seq, .. } => {
                    if let Some(&t) = sent_at.get(id as usize - 1) {
                        seen.sent.push((server_seq, t));
                    }
                    acked += 1;
                    counters.acked.fetch_add(1, Relaxed);
                }
                SessionEvent::ServerError(e) => return Err(format!("error from the relay: {e:?}")),
                _ => {}
            }
        }
        c.flush().await?;
    }
}

/// Latency summary in milliseconds.
#[derive(Clone, Copy, Default)]
struct Latency {
    p50: f64,
    p99: f64,
    max: f64,
    samples: usize,
}

impl Latency {
    fn of(mut micros: Vec<u64>) -> Self {
        micros.sort_unstable();
        let at = |q: f64| {
            let i = ((micros.len() as f64 * q).ceil() as usize).clamp(1, micros.len()) - 1;
            micros[i] as f64 / 1000.0
        };
        if micros.is_empty() {
            return Self::default();
        }
        Self {
            p50: at(0.50),
            p99: at(0.99),
            max: at(1.0),
            samples: micros.len(),
        }
    }
}

struct PhaseResult {
    name: String,
    latency: Latency,
    updates_per_sec: f64,
    delivered_per_sec: f64,
    missing: u64,
    errors: Vec<String>,
}

impl PhaseResult {
    fn ok(&self) -> bool {
        self.errors.is_empty() && self.missing == 0
    }

    fn json(&self) -> Value {
        json!({
            "p50_ms": self.latency.p50,
            "p99_ms": self.latency.p99,
            "max_ms": self.latency.max,
            "samples": self.latency.samples,
            "updates_per_sec": self.updates_per_sec.round(),
            "delivered_per_sec": self.delivered_per_sec.round(),
            "missing": self.missing,
            "errors": self.errors.len(),
        })
    }
}

/// One fan-out or saturate phase on `addr`.
async fn phase(
    name: &str,
    addr: SocketAddr,
    args: &Args,
    load: Load,
) -> Result<PhaseResult, String> {
    let doc_id = format!("load-{}-{}", std::process::id(), unique());
    let n = args.clients.max(2) as u64;
    let typists = (args.typists as u64).clamp(1, n);
    let clients = join_all(addr, &doc_id, 1..=n).await?;
    let counters = Arc::new(Counters::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let start = Instant::now() + Duration::from_millis(100);
    let length = Duration::from_secs_f64(args.secs);
    let deadline = start + length;
    let mut tasks = Vec::new();
    for (i, c) in clients.into_iter().enumerate() {
        let replica = c.doc.replica().0;
        let typist = replica <= typists;
        // Spread typists over the interval so they do not send in lockstep.
        let offset = match load {
            Load::Rate(every) => every.mul_f64(i as f64 / typists as f64),
            Load::Saturate(_) => Duration::ZERO,
        };
        let plan = Plan {
            load,
            typist,
            start: start + offset,
            deadline,
            receivers: n - 1,
            raw: args.raw_receivers,
        };
        tasks.push(tokio::spawn(drive(
            c,
            plan,
            Arc::clone(&counters),
            stop_rx.clone(),
        )));
    }
    // After the deadline, wait until every acked update reached everyone.
    sleep_until((deadline + Duration::from_millis(20)).into()).await;
    let drain_end = Instant::now() + DRAIN;
    while Instant::now() < drain_end {
        let (sent, acked) = (counters.sent.load(Relaxed), counters.acked.load(Relaxed));
        if sent == acked && counters.delivered.load(Relaxed) >= acked * (n - 1) {
            break;
        }
        sleep(Duration::from_millis(10)).await;
    }
    let _ = stop_tx.send(true);
    let mut sent_at: HashMap<u64, Instant> = HashMap::new();
    let mut received = Vec::new();
    let mut errors = Vec::new();
    for task in tasks {
        let seen = task.await.map_err(|e| e.to_string())?;
        sent_at.extend(seen.sent);
        received.extend(seen.received);
        errors.extend(seen.error);
    }
    let acked = counters.acked.load(Relaxed);
    let missing = (acked * (n - 1)).saturating_sub(received.len() as u64);
    let micros = (received.iter())
        .filter_map(|(seq, at)| {
            sent_at
                .get(seq)
                .map(|t| at.duration_since(*t).as_micros() as u64)
        })
        .collect();
    let in_window = received.iter().filter(|(_, at)| *at <= deadline).count();
    let accepted = sent_at.values().filter(|t| **t <= deadline).count();
    Ok(PhaseResult {
        name: name.to_owned(),
        latency: Latency::of(micros),
        updates_per_sec: accepted as f64 / length.as_secs_f64(),
        delivered_per_sec: in_window as f64 / length.as_secs_f64(),
        missing,
        errors,
    })
}

/// Runs `phase` on an in-process relay over `store`, or on `--addr`.
async fn run_phase(
    name: &str,
    args: &Args,
    store: impl FnOnce() -> Arc<dyn Store>,
    load: Load,
) -> Result<PhaseResult, String> {
    if let Some(addr) = args.addr {
        return phase(name, addr, args, load).await;
    }
    let relay = start_relay(store());
    let result = phase(name, relay.addr, args, load).await;
    relay.stop().await;
    result
}

fn unique() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}

/// A `/proc/<pid>/status` field in bytes (the kernel reports kB).
fn proc_status_bytes(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The soft limit on open files of this process.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

struct IdleResult {
    connections: usize,
    rss_before: u64,
    rss_after: u64,
}

impl IdleResult {
    fn per_connection(&self) -> f64 {
        self.rss_after.saturating_sub(self.rss_before) as f64 / self.connections as f64
    }
}

/// The relay binary as a child process: its address from the first line it
/// prints.
async fn spawn_relay_binary(bin: &PathBuf) -> Result<(tokio::process::Child, SocketAddr), String> {
    let mut child = tokio::process::Command::new(bin)
        .args(["--memory", "--listen", "127.0.0.1:0", "--log", "warn"])
        .args(["--www", "/nonexistent", "--pkg", "/nonexistent"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let line = timeout(Duration::from_secs(10), lines.next_line())
        .await
        .map_err(|_| "the relay printed no address")?
        .map_err(|e| e.to_string())?
        .ok_or("the relay exited")?;
    let addr = (line.trim_end_matches('/').rsplit('/').next())
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("unexpected first line: {line}"))?;
    Ok((child, addr))
}

/// Memory growth of the relay process per idle connection.
async fn idle_phase(args: &Args) -> Result<IdleResult, String> {
    let needed = args.idle as u64 + 200;
    match open_files_limit() {
        Some(limit) if limit < needed => {
            return Err(format!(
                "open files limit {limit} < {needed}: raise `ulimit -n`"
            ))
        }
        _ => {}
    }
    let (child, addr, pid) = match (args.addr, args.relay_pid) {
        (Some(addr), Some(pid)) => (None, addr, pid),
        (Some(_), None) => return Err("--addr without --relay-pid: cannot read its memory".into()),
        (None, _) => {
            let bin = match &args.relay_bin {
                Some(b) => b.clone(),
                None => {
                    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
                    // target/<profile>/examples/load -> target/<profile>/quire-relay
                    let dir = exe
                        .parent()
                        .and_then(|p| p.parent())
                        .ok_or("no target dir")?;
                    dir.join("quire-relay")
                }
            };
            if !bin.exists() {
                return Err(format!(
                    "{} not found: run `cargo build --release -p quire-relay` or set QUIRE_RELAY_BIN",
                    bin.display()
                ));
            }
            let (child, addr) = spawn_relay_binary(&bin).await?;
            let pid = child.id().ok_or("the relay exited")?;
            (Some(child), addr, pid)
        }
    };
    let pid = pid.to_string();
    let doc_id = format!("idle-{}-{}", std::process::id(), unique());
    let rss = || proc_status_bytes(&pid, "VmRSS:").ok_or("cannot read the relay's VmRSS");
    // Warm up: the document, the runtime's threads and allocator arenas.
    let warm = join_all(addr, &doc_id, 1..=20).await?;
    sleep(Duration::from_millis(300)).await;
    let rss_before = rss()?;
    let first = 100;
    let idle = join_all(addr, &doc_id, first..first + args.idle as u64).await?;
    sleep(Duration::from_millis(500)).await;
    let rss_after = rss()?;
    drop(idle);
    drop(warm);
    if let Some(mut child) = child {
        let _ = child.kill().await;
    }
    Ok(IdleResult {
        connections: args.idle,
        rss_before,
        rss_after,
    })
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "MISSED"
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let load_before = load_average();
    println!(
        "relay load: {} clients, {} typists, {} s per phase, nproc {nproc}, load average {load_before}",
        args.clients, args.typists, args.secs
    );
    let rate = Load::Rate(Duration::from_millis(args.interval_ms.max(1)));
    let saturate = Load::Saturate(args.window.max(1));
    let dir = tempfile::tempdir().expect("temp dir");
    let mut plan: Vec<(&str, bool, Load)> = vec![("fan-out memory", false, rate)];
    if !args.no_redb && args.addr.is_none() {
        plan.push(("fan-out redb", true, rate));
    }
    plan.push(("saturate memory", false, saturate));
    if !args.no_redb && args.addr.is_none() {
        plan.push(("saturate redb", true, saturate));
    }
    let wanted = |name: &str| args.only.as_deref().is_none_or(|o| name.contains(o));
    plan.retain(|(name, _, _)| wanted(name));
    let mut results = Vec::new();
    let mut failed = false;
    for (name, durable, load) in plan {
        let store = || -> Arc<dyn Store> {
            if !durable {
                return Arc::new(MemoryStore::new());
            }
            // One database per phase: redb locks its file while open.
            let path = dir.path().join(name.replace(' ', "-"));
            std::fs::create_dir_all(&path).expect("temp dir");
            Arc::new(RedbStore::open(&path).expect("redb store"))
        };
        let result = run_phase(name, &args, store, load).await;
        match result {
            Ok(r) => {
                for e in r.errors.iter().take(3) {
                    eprintln!("{name}: client error: {e}");
                }
                failed |= !r.ok();
                results.push(r);
            }
            Err(e) => {
                eprintln!("{name}: failed: {e}");
                failed = true;
            }
        }
    }
    let idle = match args.idle {
        0 => None,
        _ if !wanted("idle connections") => None,
        _ => match idle_phase(&args).await {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("idle: skipped: {e}");
                None
            }
        },
    };
    let load_after = load_average();

    println!();
    println!(
        "{:<16} {:>9} {:>12} {:>8} {:>8} {:>8} {:>8}  p99 <= {TARGET_P99_MS} ms",
        "phase", "updates/s", "delivered/s", "p50 ms", "p99 ms", "max ms", "samples"
    );
    for r in &results {
        let l = r.latency;
        println!(
            "{:<16} {:>9.0} {:>12.0} {:>8.2} {:>8.2} {:>8.2} {:>8}  {}",
            r.name,
            r.updates_per_sec,
            r.delivered_per_sec,
            l.p50,
            l.p99,
            l.max,
            l.samples,
            if r.ok() {
                verdict(l.p99 <= TARGET_P99_MS)
            } else {
                "FAILED"
            }
        );
    }
    if let Some(i) = &idle {
        println!(
            "idle connections {:>9} relay RSS {:.1} -> {:.1} MiB: {:.0} bytes ({:.1} KiB) per connection  target <= 16 KiB: {}",
            i.connections,
            i.rss_before as f64 / 1048576.0,
            i.rss_after as f64 / 1048576.0,
            i.per_connection(),
            i.per_connection() / 1024.0,
            verdict(i.per_connection() <= TARGET_IDLE_BYTES)
        );
    }
    println!("load average before {load_before}, after {load_after}");

    let mut report = json!({
        "clients": args.clients,
        "typists": args.typists,
        "interval_ms": args.interval_ms,
        "secs": args.secs,
        "window": args.window,
        "raw_receivers": args.raw_receivers,
        "nproc": nproc,
        "load_before": load_before,
        "load_after": load_after,
    });
    for r in &results {
        report[r.name.replace(' ', "_")] = r.json();
    }
    if let Some(i) = &idle {
        report["idle"] = json!({
            "connections": i.connections,
            "rss_before": i.rss_before,
            "rss_after": i.rss_after,
            "bytes_per_connection": i.per_connection().round(),
        });
    }
    println!("{report}");
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
