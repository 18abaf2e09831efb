//! One connection: the only code that touches its socket. Generic over any
//! `Sink + Stream` of WebSocket messages, so unit tests drive it over
//! channels and the server over axum's `WebSocket`.
//!
//! The socket is split into a reader (frames in, protocol rules, timers)
//! and a writer (drains the [`Outbox`]); both run in this task. A client
//! that stops reading blocks only its own writer; its queue then overflows
//! and the connection is aborted with `RESYNC` (4003).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message as WsMessage};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use quire_core::sync::{
    close, validate_doc_id, ErrorCode, ErrorMessage, Hello, Message, PROTOCOL_VERSION,
};
use quire_core::{DecodeError, ReplicaId};
use tokio::sync::oneshot;
use tokio::time::{sleep, sleep_until, timeout};

use crate::auth::{self, Scope};
use crate::buffer::{Next, Outbox};
use crate::metrics::close_reason;
use crate::room::{Command, JoinRefused};
use crate::state::{ConnectionGuard, RoomHandle, Shared};

/// Close code for a text frame: the protocol is binary.
pub use quire_core::sync::close::UNSUPPORTED_DATA;
/// Not sent: the transport failed or the peer vanished.
const ABNORMAL: u16 = 1006;
/// How long a close may wait for queued frames or the close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// How often a join is retried when its room was unloading meanwhile.
const JOIN_ATTEMPTS: usize = 3;

/// Serves one WebSocket for `doc_id` until it closes. `guard` is `None`
/// when the connection limit was reached: the socket is closed with 4008.
pub async fn serve<S, E>(
    socket: S,
    doc_id: String,
    shared: Arc<Shared>,
    guard: Option<ConnectionGuard>,
) where
    S: Sink<WsMessage, Error = E> + Stream<Item = Result<WsMessage, E>> + Send + Unpin,
    E: std::error::Error + 'static,
{
    let outbox = Outbox::new(
        shared.settings.send_queue_messages,
        shared.settings.send_queue_bytes,
    );
    let mut conn = Connection {
        id: guard.as_ref().map_or(0, |g| g.id),
        doc_id,
        shared,
        outbox,
        room: None,
        replica: ReplicaId::default(),
        scope: Scope::Read,
        next_nonce: 1,
    };
    let (mut sink, mut stream) = socket.split();
    let code = match guard {
        None => close::OVERLOADED,
        Some(_) => {
            let outbox = Arc::clone(&conn.outbox);
            let writer = write_loop(&mut sink, &outbox);
            let aborted = outbox.aborted();
            let reader = conn.read_loop(&mut stream);
            tokio::select! {
                code = writer => code,
                code = reader => code,
                code = aborted => code,
            }
        }
    };
    if code != ABNORMAL {
        let frame = CloseFrame {
            code,
            reason: close_reason(code).into(),
        };
        let _ = timeout(CLOSE_GRACE, sink.send(WsMessage::Close(Some(frame)))).await;
    }
    conn.leave().await;
    conn.shared.metrics.closed(close_reason(code));
    tracing::debug!(conn = conn.id, doc = %conn.doc_id, code, "connection closed");
    drop(guard);
}

/// Sends what the outbox holds, flushing when it runs dry; returns the close
/// code once a close is due, or `ABNORMAL` if the transport failed.
async fn write_loop<K: Sink<WsMessage> + Unpin>(sink: &mut K, outbox: &Outbox) -> u16 {
    loop {
        let mut next = outbox.next().await;
        loop {
            match next {
                Next::Frame(bytes) => {
                    if sink.feed(WsMessage::Binary(bytes)).await.is_err() {
                        return ABNORMAL;
                    }
                }
                Next::Close(code) => {
                    let _ = sink.flush().await;
                    return code;
                }
            }
            match outbox.try_next() {
                Some(n) => next = n,
                None => break,
            }
        }
        if sink.flush().await.is_err() {
            return ABNORMAL;
        }
    }
}

struct Connection {
    id: u64,
    doc_id: String,
    shared: Arc<Shared>,
    outbox: Arc<Outbox>,
    /// Set once `hello` is accepted.
    room: Option<RoomHandle>,
    /// The replica of the accepted `hello`.
    replica: ReplicaId,
    /// What the accepted `hello`'s token allows (write when auth is off).
    scope: Scope,
    next_nonce: u64,
}

/// What a frame asks of the connection.
enum Flow {
    Continue,
    /// Close with this code after the queued frames.
    Close(u16),
}

impl Connection {
    /// Reads frames until the connection must close; returns the code.
    async fn read_loop<T, E>(&mut self, stream: &mut T) -> u16
    where
        T: Stream<Item = Result<WsMessage, E>> + Unpin,
        E: std::error::Error + 'static,
    {
        let settings = self.shared.settings.clone();
        let started = tokio::time::Instant::now();
        let mut last_received = started;
        let mut next_ping = started + settings.heartbeat_interval;
        let mut shutdown = self.shared.shutdown_signal();
        if validate_doc_id(&self.doc_id).is_err() {
            let message = format!("bad document id in the path: {:?}", self.doc_id);
            return self
                .fatal(ErrorCode::BAD_DOCUMENT_ID, message, close::BAD_DOCUMENT_ID)
                .await;
        }
        loop {
            let deadline = match self.room {
                Some(_) => last_received + settings.heartbeat_timeout,
                None => started + settings.handshake_timeout,
            };
            let flow = tokio::select! {
                frame = stream.next() => {
                    last_received = tokio::time::Instant::now();
                    match frame {
                        None => return ABNORMAL,
                        Some(Err(e)) if is_too_large(&e) => {
                            let message = format!("message larger than {} bytes", settings.max_message);
                            return self.fatal(ErrorCode::TOO_LARGE, message, close::TOO_LARGE).await;
                        }
                        Some(Err(_)) => return ABNORMAL,
                        Some(Ok(WsMessage::Binary(bytes))) => self.on_frame(&bytes).await,
                        Some(Ok(WsMessage::Text(_))) => Flow::Close(UNSUPPORTED_DATA),
                        Some(Ok(WsMessage::Close(_))) => Flow::Close(close::NORMAL),
                        // Transport pings are answered by the WebSocket layer.
                        Some(Ok(_)) => Flow::Continue,
                    }
                }
                _ = sleep_until(deadline) => {
                    if self.room.is_some() {
                        tracing::info!(conn = self.id, doc = %self.doc_id, "heartbeat timeout: client silent");
                        return close::HEARTBEAT_TIMEOUT;
                    }
                    return close::HANDSHAKE_TIMEOUT;
                }
                _ = sleep_until(next_ping), if self.room.is_some() => {
                    next_ping = tokio::time::Instant::now() + settings.heartbeat_interval;
                    let nonce = self.next_nonce;
                    self.next_nonce += 1;
                    self.send(&Message::Ping { nonce });
                    Flow::Continue
                }
                _ = crate::state::until_shutdown(&mut shutdown), if self.room.is_none() => Flow::Close(close::GOING_AWAY),
            };
            if let Flow::Close(code) = flow {
                return self.closing(code).await;
            }
        }
    }

    /// Queues a close after what is queued and gives the writer time to
    /// send it; returns `code` if the writer is stuck.
    async fn closing(&self, code: u16) -> u16 {
        self.outbox.close(code);
        sleep(CLOSE_GRACE).await;
        code
    }

    /// Sends a fatal `error`, then closes with `close_code`.
    async fn fatal(&self, code: ErrorCode, message: String, close_code: u16) -> u16 {
        self.send(&error(code, true, message));
        self.closing(close_code).await
    }

    fn send(&self, message: &Message) {
        let frame = message.encode();
        let len = frame.len();
        if self.outbox.push(frame) {
            self.shared.metrics.sent(len);
        }
    }

    async fn on_frame(&mut self, bytes: &[u8]) -> Flow {
        self.shared.metrics.messages_in.inc();
        self.shared.metrics.bytes_in.inc_by(bytes.len() as u64);
        let message = match Message::decode(bytes) {
            Ok(m) => m,
            Err(e) => {
                let (code, close_code) = match e {
                    DecodeError::UnsupportedVersion { .. } => {
                        (ErrorCode::UNSUPPORTED_VERSION, close::UNSUPPORTED_VERSION)
                    }
                    DecodeError::UnknownTag {
                        what: "message", ..
                    } => (ErrorCode::UNKNOWN_MESSAGE, close::PROTOCOL_ERROR),
                    _ => (ErrorCode::MALFORMED, close::PROTOCOL_ERROR),
                };
                let text = match e {
                    DecodeError::UnsupportedVersion { found, .. } => {
                        format!("protocol version {found} is not spoken here (this relay speaks {PROTOCOL_VERSION})")
                    }
                    other => other.to_string(),
                };
                self.send(&error(code, true, text));
                return Flow::Close(close_code);
            }
        };
        let Some(room) = self.room.clone() else {
            return match message {
                Message::Hello(hello) => self.join(hello).await,
                other => {
                    let text = format!("expected hello, got message tag {}", other.tag());
                    self.send(&error(ErrorCode::UNEXPECTED, true, text));
                    Flow::Close(close::PROTOCOL_ERROR)
                }
            };
        };
        match message {
            Message::Update { id, .. } if self.scope == Scope::Read => {
                self.read_only(id);
                Flow::Continue
            }
            Message::Update { id, delta } => {
                let cmd = Command::Update {
                    conn: self.id,
                    id,
                    delta,
                    received: Instant::now(),
                };
                to_room(&room, cmd).await
            }
            Message::Ping { nonce } => {
                self.send(&Message::Pong { nonce });
                Flow::Continue
            }
            Message::Presence(body) => self.presence(&room, &body).await,
            Message::Pong { .. } => Flow::Continue,
            Message::Bye => Flow::Close(close::NORMAL),
            Message::Error(e) => {
                tracing::debug!(conn = self.id, code = e.code.name(), message = %e.message, "client error");
                if e.fatal {
                    Flow::Close(close::NORMAL)
                } else {
                    Flow::Continue
                }
            }
            other => {
                let text = format!("message tag {} is not allowed now", other.tag());
                self.send(&error(ErrorCode::UNEXPECTED, true, text));
                Flow::Close(close::PROTOCOL_ERROR)
            }
        }
    }

    async fn join(&mut self, hello: Hello) -> Flow {
        if hello.doc_id != self.doc_id {
            let text = format!("hello names {:?}, the path {:?}", hello.doc_id, self.doc_id);
            self.send(&error(ErrorCode::BAD_DOCUMENT_ID, true, text));
            return Flow::Close(close::BAD_DOCUMENT_ID);
        }
        let auth = self.shared.settings.auth.as_ref();
        let scope = match auth::grant(auth, hello.token.as_deref(), &self.doc_id, hello.replica) {
            Ok(scope) => scope,
            Err(e) => {
                tracing::debug!(conn = self.id, doc = %self.doc_id, reason = e.reason(), "unauthorized");
                self.shared.metrics.refused(e.reason());
                self.send(&error(ErrorCode::UNAUTHORIZED, true, e.to_string()));
                return Flow::Close(close::UNAUTHORIZED);
            }
        };
        for _ in 0..JOIN_ATTEMPTS {
            let room = self.shared.room(&self.doc_id);
            let (reply, answer) = oneshot::channel();
            let cmd = Command::Join {
                conn: self.id,
                hello: hello.clone(),
                writes: scope == Scope::Write,
                outbox: Arc::clone(&self.outbox),
                reply,
            };
            if room.tx.send(cmd).await.is_err() {
                continue;
            }
            match answer.await {
                Ok(Ok(())) => {
                    tracing::debug!(conn = self.id, doc = %self.doc_id, replica = hello.replica.0, "joined");
                    self.room = Some(room);
                    self.replica = hello.replica;
                    self.scope = scope;
                    return Flow::Continue;
                }
                Ok(Err(JoinRefused::ReplicaInUse)) => {
                    tracing::debug!(conn = self.id, doc = %self.doc_id, "reader named a writer's replica");
                    self.shared.metrics.refused("replica_in_use");
                    let text = "a client that may write uses this replica id".into();
                    self.send(&error(ErrorCode::UNAUTHORIZED, true, text));
                    return Flow::Close(close::UNAUTHORIZED);
                }
                Ok(Err(JoinRefused::Unavailable(e))) => {
                    self.send(&error(
                        ErrorCode::INTERNAL,
                        true,
                        format!("cannot load the document: {e}"),
                    ));
                    return Flow::Close(close::INTERNAL);
                }
                // The room unloaded with our join queued: try a fresh one.
                Err(_) => continue,
            }
        }
        self.send(&error(
            ErrorCode::INTERNAL,
            true,
            "the document is unavailable".into(),
        ));
        Flow::Close(close::INTERNAL)
    }

    /// Refuses an update of a read-only client: nothing reaches the room,
    /// so nothing is applied, stored, acknowledged or fanned out.
    fn read_only(&self, update_id: u64) {
        self.shared.metrics.read_only_refused.inc();
        self.shared.metrics.updates_rejected.inc();
        self.send(&Message::Error(ErrorMessage {
            code: ErrorCode::READ_ONLY,
            fatal: false,
            update_id: Some(update_id),
            message: "this token only allows reading".into(),
        }));
    }

    /// A presence body: checked here, off the room's task; a refusal is
    /// non-fatal (presence is best effort, the next update replaces it).
    async fn presence(&self, room: &RoomHandle, body: &[u8]) -> Flow {
        self.shared.metrics.presence_in.inc();
        let entry = match crate::presence::check_client_body(body, self.replica) {
            Ok(entry) => entry,
            Err((code, text)) => {
                self.shared.metrics.presence_rejected.inc();
                self.send(&error(code, false, text));
                return Flow::Continue;
            }
        };
        let cmd = Command::Presence {
            conn: self.id,
            entry,
        };
        to_room(room, cmd).await
    }

    async fn leave(&mut self) {
        if let Some(room) = self.room.take() {
            let _ = room.tx.send(Command::Leave { conn: self.id }).await;
        }
    }
}

/// Passes a command to the joined room.
async fn to_room(room: &RoomHandle, cmd: Command) -> Flow {
    if room.tx.send(cmd).await.is_err() {
        // The room failed and is gone; its close is queued.
        return Flow::Close(close::INTERNAL);
    }
    Flow::Continue
}

fn error(code: ErrorCode, fatal: bool, message: String) -> Message {
    Message::Error(ErrorMessage {
        code,
        fatal,
        update_id: None,
        message,
    })
}

/// Whether a transport error says a message exceeded the size limit. The
/// WebSocket layer reports it only as text ("Space limit exceeded: Message
/// too long"), so the error chain's messages are checked.
fn is_too_large(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        let text = err.to_string();
        if text.contains("too long") || text.contains("Space limit exceeded") {
            return true;
        }
        cur = err.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use quire_core::sync::Hello;
    use quire_core::{ReplicaId, VersionVector};
    use tokio::sync::mpsc;

    use super::*;
    use crate::store::MemoryStore;

    /// One end of an in-memory WebSocket.
    struct ChannelSocket {
        rx: mpsc::UnboundedReceiver<WsMessage>,
        tx: mpsc::UnboundedSender<WsMessage>,
    }

    impl Stream for ChannelSocket {
        type Item = Result<WsMessage, std::io::Error>;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            self.rx.poll_recv(cx).map(|m| m.map(Ok))
        }
    }

    impl Sink<WsMessage> for ChannelSocket {
        type Error = std::io::Error;
        fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
        fn start_send(self: Pin<&mut Self>, item: WsMessage) -> Result<(), Self::Error> {
            self.tx
                .send(item)
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
        fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_client_is_pinged_then_closed_with_heartbeat_timeout() {
        let settings = crate::Settings::default();
        let shared = Shared::new(settings, Arc::new(MemoryStore::new())).unwrap();
        let (to_server, rx) = mpsc::unbounded_channel();
        let (tx, mut from_server) = mpsc::unbounded_channel();
        let guard = shared.try_connect();
        let task = tokio::spawn(serve(ChannelSocket { rx, tx }, "doc".into(), shared, guard));
        let hello = Message::Hello(Hello {
            doc_id: "doc".into(),
            replica: ReplicaId(1),
            version: VersionVector::new(),
            resume: None,
            token: None,
        });
        to_server
            .send(WsMessage::Binary(hello.encode().into()))
            .unwrap();
        let started = tokio::time::Instant::now();
        let mut pings = 0;
        let code = loop {
            match from_server.recv().await.unwrap() {
                WsMessage::Binary(b) => {
                    if let Message::Ping { .. } = Message::decode(&b).unwrap() {
                        pings += 1;
                    }
                }
                WsMessage::Close(frame) => break frame.unwrap().code,
                _ => {}
            }
        };
        assert_eq!(code, close::HEARTBEAT_TIMEOUT);
        // Pings at 15 s and 30 s; closed at 45 s of silence.
        assert_eq!(pings, 2);
        assert!(started.elapsed() >= Duration::from_secs(45));
        task.await.unwrap();
    }
}
