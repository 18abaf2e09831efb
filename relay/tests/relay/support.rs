//! A relay on 127.0.0.1:0 and clients that drive core's `ClientSession`
//! over real WebSockets.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use quire_core::sync::{ClientConfig, ClientSession, ErrorMessage, Message, SessionEvent, Status};
use quire_core::{Doc, ReplicaId};
use quire_relay::store::{MemoryStore, Store};
use quire_relay::{Settings, Shared};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::Message as Ws;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for anything before failing.
pub const WAIT: Duration = Duration::from_secs(5);

pub struct Relay {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Relay {
    pub async fn start(settings: Settings) -> Relay {
        Relay::with_store(settings, Arc::new(MemoryStore::new())).await
    }

    pub async fn with_store(settings: Settings, store: Arc<dyn Store>) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Shared::new(settings, store).unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let s = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            quire_relay::serve(listener, s, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Relay {
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Graceful shutdown; waits for the server to stop.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(WAIT, task).await;
        }
    }

    pub fn url(&self, doc_id: &str) -> String {
        format!("ws://{}/ws/{}", self.addr, doc_id)
    }

    pub async fn socket(&self, doc_id: &str) -> Socket {
        tokio_tungstenite::connect_async(self.url(doc_id))
            .await
            .unwrap()
            .0
    }

    pub async fn get(&self, path: &str) -> (u16, String) {
        http_get(self.addr, path).await
    }
}

/// A minimal HTTP/1.1 GET (no client dependency needed).
pub async fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let (status, _, body) = http_exchange(addr, path, "").await;
    (status, body)
}

/// A GET with extra header lines (each ending in `\r\n`): the status, the
/// response's head and its body.
pub async fn http_exchange(addr: SocketAddr, path: &str, headers: &str) -> (u16, String, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text[9..12].parse().unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    // Bodies may be chunked: keep the JSON/text part only.
    (status, head.to_owned(), body.to_owned())
}

pub fn settings() -> Settings {
    Settings {
        www: None,
        pkg: None,
        ..Settings::default()
    }
}

/// One client: a document, its session and (when online) a socket.
pub struct Client {
    pub doc: Doc,
    pub session: ClientSession,
    pub socket: Option<Socket>,
    pub now: u64,
    pub acks: Vec<(u64, u64, bool)>,
    /// Presence bodies received, in order.
    pub presence: Vec<Vec<u8>>,
    /// Non-fatal errors the relay sent.
    pub errors: Vec<ErrorMessage>,
}

impl Client {
    pub fn new(replica: u64, doc_id: &str) -> Client {
        Client::with_token(replica, doc_id, None)
    }

    /// A client whose `hello` carries `token`.
    pub fn with_token(replica: u64, doc_id: &str, token: Option<String>) -> Client {
        let doc = Doc::new(ReplicaId(replica));
        let mut config = ClientConfig::default();
        config.token = token;
        let session = ClientSession::new(doc_id, &doc, config).unwrap();
        Client {
            doc,
            session,
            socket: None,
            now: 0,
            acks: Vec::new(),
            presence: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Connects, sends hello and waits until live.
    pub async fn connect(&mut self, relay: &Relay) {
        self.socket = Some(relay.socket(self.session.doc_id()).await);
        self.now += 1;
        self.session.connected(&self.doc, self.now);
        self.flush().await;
        self.pump_until(|c| c.session.status() == Status::Live)
            .await;
    }

    pub fn disconnect(&mut self) {
        self.socket = None;
        self.session.disconnected();
    }

    pub async fn flush(&mut self) {
        let socket = self.socket.as_mut().expect("online");
        while let Some(frame) = self.session.poll_transmit() {
            socket.send(Ws::Binary(frame.into())).await.unwrap();
        }
    }

    /// Edits the document and sends the change when live.
    pub async fn edit(&mut self, f: impl FnOnce(&mut Doc)) {
        f(&mut self.doc);
        self.now += 1;
        self.session.local_changes(&self.doc, self.now);
        if self.socket.is_some() {
            self.flush().await;
        }
    }

    /// Receives one frame and feeds it to the session.
    pub async fn step(&mut self) {
        let socket = self.socket.as_mut().expect("online");
        let frame = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("timed out waiting for the relay")
            .expect("socket closed")
            .unwrap();
        match frame {
            Ws::Binary(bytes) => {
                self.now += 1;
                let events = self
                    .session
                    .receive(&mut self.doc, &bytes, self.now)
                    .unwrap();
                for e in events {
                    match e {
                        SessionEvent::Acked {
                            id,
                            server_seq,
                            durable,
                        } => self.acks.push((id, server_seq, durable)),
                        SessionEvent::Presence(body) => self.presence.push(body),
                        SessionEvent::ServerError(e) => self.errors.push(e),
                        _ => {}
                    }
                }
                self.flush().await;
            }
            Ws::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }

    pub async fn pump_until(&mut self, done: impl Fn(&Client) -> bool) {
        while !done(self) {
            self.step().await;
        }
    }

    /// Waits until the session has nothing unacknowledged.
    pub async fn settle(&mut self) {
        self.pump_until(|c| c.session.pending() == 0).await;
    }
}

/// Sends raw bytes, returns the decoded frames received until the close,
/// and the close code.
pub async fn raw_exchange(socket: &mut Socket, frames: Vec<Ws>) -> (Vec<Message>, Option<u16>) {
    for f in frames {
        if socket.send(f).await.is_err() {
            break;
        }
    }
    read_until_close(socket).await
}

pub async fn read_until_close(socket: &mut Socket) -> (Vec<Message>, Option<u16>) {
    let mut messages = Vec::new();
    loop {
        match tokio::time::timeout(WAIT, socket.next()).await {
            Err(_) => panic!("no close within {WAIT:?}; got {messages:?}"),
            Ok(None) | Ok(Some(Err(_))) => return (messages, None),
            Ok(Some(Ok(Ws::Binary(b)))) => messages.push(Message::decode(&b).unwrap()),
            Ok(Some(Ok(Ws::Close(frame)))) => return (messages, frame.map(|f| u16::from(f.code))),
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// Two live clients (replicas 1 and 2) on `doc`.
pub async fn pair(relay: &Relay) -> (Client, Client) {
    let mut a = Client::new(1, "doc");
    let mut b = Client::new(2, "doc");
    a.connect(relay).await;
    b.connect(relay).await;
    (a, b)
}

/// An encoded `hello` for `doc_id` as `replica`.
pub fn hello_frame(
    doc_id: &str,
    replica: u64,
    version: quire_core::VersionVector,
    resume: Option<quire_core::sync::Resume>,
) -> Vec<u8> {
    hello_with_token(doc_id, replica, version, resume, None)
}

/// An encoded `hello` carrying `token`.
pub fn hello_with_token(
    doc_id: &str,
    replica: u64,
    version: quire_core::VersionVector,
    resume: Option<quire_core::sync::Resume>,
    token: Option<String>,
) -> Vec<u8> {
    Message::Hello(quire_core::sync::Hello {
        doc_id: doc_id.into(),
        replica: ReplicaId(replica),
        version,
        resume,
        token,
    })
    .encode()
}
