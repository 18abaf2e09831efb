//! A connection's bounded send queue. The room pushes frames without ever
//! waiting; the connection's writer drains them. When a client reads too
//! slowly the queue overflows and the connection is closed with `RESYNC`
//! (4003): a delta is never skipped, the client reconnects and catches up.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::body::Bytes;
use quire_core::sync::close;
use tokio::sync::Notify;

/// What the writer does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    /// Send this binary frame.
    Frame(Bytes),
    /// Everything before was sent: close with this code.
    Close(u16),
}

#[derive(Debug, Default)]
struct State {
    queue: VecDeque<Next>,
    bytes: usize,
    /// A graceful close is queued: later frames are refused.
    closing: bool,
    /// Close now, without sending what is queued.
    abort: Option<u16>,
}

/// The send queue of one connection (shared by the room and the
/// connection's task).
#[derive(Debug)]
pub struct Outbox {
    state: Mutex<State>,
    max_messages: usize,
    max_bytes: usize,
    notify: Notify,
}

impl Outbox {
    /// An empty queue holding at most `max_messages` frames and `max_bytes`.
    pub fn new(max_messages: usize, max_bytes: usize) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::default(),
            max_messages,
            max_bytes,
            notify: Notify::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this lock cannot leave the queue invalid.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a frame. Returns false when the connection is closing, or
    /// when the queue is full, which aborts the connection with `RESYNC`.
    pub fn push(&self, frame: impl Into<Bytes>) -> bool {
        let frame = frame.into();
        let mut s = self.lock();
        if s.closing || s.abort.is_some() {
            return false;
        }
        // A single frame larger than the byte budget still goes through an
        // empty queue (a catch-up snapshot can be large).
        let full = s.queue.len() >= self.max_messages
            || (s.bytes > 0 && s.bytes + frame.len() > self.max_bytes);
        if full {
            s.abort = Some(close::RESYNC);
            s.queue.clear();
            s.bytes = 0;
            drop(s);
            self.notify.notify_waiters();
            return false;
        }
        s.bytes += frame.len();
        s.queue.push_back(Next::Frame(frame));
        drop(s);
        self.notify.notify_waiters();
        true
    }

    /// Closes with `code` after the frames already queued.
    pub fn close(&self, code: u16) {
        let mut s = self.lock();
        if s.closing || s.abort.is_some() {
            return;
        }
        s.closing = true;
        s.queue.push_back(Next::Close(code));
        drop(s);
        self.notify.notify_waiters();
    }

    /// Closes with `code` at once, dropping what is queued.
    pub fn abort(&self, code: u16) {
        let mut s = self.lock();
        if s.abort.is_none() {
            s.abort = Some(code);
            s.queue.clear();
            s.bytes = 0;
        }
        drop(s);
        self.notify.notify_waiters();
    }

    /// Whether the connection is closing or closed.
    pub fn is_closing(&self) -> bool {
        let s = self.lock();
        s.closing || s.abort.is_some()
    }

    /// Takes the next thing to do without waiting.
    pub fn try_next(&self) -> Option<Next> {
        let mut s = self.lock();
        if let Some(code) = s.abort {
            return Some(Next::Close(code));
        }
        let next = s.queue.pop_front()?;
        if let Next::Frame(f) = &next {
            s.bytes -= f.len();
        }
        Some(next)
    }

    /// Waits for the next thing to do.
    pub async fn next(&self) -> Next {
        loop {
            let notified = self.notify.notified();
            if let Some(next) = self.try_next() {
                return next;
            }
            notified.await;
        }
    }

    /// Waits until the connection is aborted; returns the code.
    pub async fn aborted(&self) -> u16 {
        loop {
            let notified = self.notify.notified();
            if let Some(code) = self.lock().abort {
                return code;
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_aborts_with_resync_and_refuses_more() {
        let out = Outbox::new(2, 1000);
        assert!(out.push(vec![1]));
        assert!(out.push(vec![2]));
        assert!(!out.push(vec![3]));
        assert_eq!(out.try_next(), Some(Next::Close(close::RESYNC)));
        assert!(!out.push(vec![4]));
    }

    #[test]
    fn the_byte_budget_counts_queued_bytes() {
        let out = Outbox::new(100, 10);
        assert!(out.push(vec![0; 20])); // alone in the queue: allowed
        assert!(!out.push(vec![0; 1]));
        assert!(out.is_closing());
    }

    #[test]
    fn a_graceful_close_comes_after_queued_frames() {
        let out = Outbox::new(10, 1000);
        out.push(vec![1]);
        out.close(close::NORMAL);
        assert!(!out.push(vec![2]));
        assert_eq!(out.try_next(), Some(Next::Frame(Bytes::from(vec![1]))));
        assert_eq!(out.try_next(), Some(Next::Close(close::NORMAL)));
        assert_eq!(out.try_next(), None);
    }
}
