//! The room registry: the one place that knows rooms, seats, resume keys,
//! sequence numbers and replay buffers, and that delivers messages between
//! the two seats of a room. [`Registry`] is its contract; `memory.rs` is the
//! one-process implementation, and a Redis one lets replicas share rooms.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use rand::Rng;
use tokio::sync::{mpsc, watch};

use super::protocol::{ErrorCode, ServerMessage, SignalData};

/// Most messages a seat's replay buffer keeps unacknowledged.
pub const REPLAY_MAX_MESSAGES: usize = 256;
/// Most bytes (of `data` JSON) a seat's replay buffer keeps unacknowledged.
pub const REPLAY_MAX_BYTES: usize = 1024 * 1024;

/// Settings every registry honours.
#[derive(Debug, Clone, Copy)]
pub struct RegistryLimits {
    /// A room nobody has joined is gone this long after its creation.
    pub room_ttl: Duration,
    /// A joined room with no activity (join, signal, ack, ping) for this
    /// long is gone; its live sockets get `room-expired`.
    pub idle: Duration,
    /// Live rooms one subject may have created.
    pub rooms_per_creator: usize,
    /// Live rooms in total.
    pub rooms_total: usize,
    /// Most bytes (of `data` JSON) the replay buffers of all rooms hold
    /// together: in this process's memory, or in Redis for all replicas.
    pub replay_budget: usize,
    /// Most bytes of that budget the signals one subject sent may hold, so
    /// that a few subjects cannot fill it for everyone.
    pub replay_per_subject: usize,
}

/// Why the replay budget refused a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayFull {
    /// [`RegistryLimits::replay_budget`], of all rooms together.
    Budget,
    /// [`RegistryLimits::replay_per_subject`], of the subject that sent it.
    Share,
}

impl ReplayFull {
    /// Logs the refusal (at most a line a second: anyone with a token can
    /// cause it) and gives the error its socket gets.
    pub fn refuse(self, limits: &RegistryLimits) -> ErrorCode {
        match self {
            ReplayFull::Budget => crate::log_limited!(
                warn,
                budget = limits.replay_budget,
                "signaling: replay budget full; signal refused"
            ),
            ReplayFull::Share => crate::log_limited!(
                warn,
                share = limits.replay_per_subject,
                "signaling: a subject's replay share is full; its signal refused"
            ),
        }
        ErrorCode::Unavailable
    }
}

/// A room just created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomTicket {
    /// 128 random bits, base64url without padding (22 characters).
    pub room: String,
    /// When it is gone if nobody joins it.
    pub expires_at: SystemTime,
}

/// Why a room could not be created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateError {
    /// The creator already has `rooms_per_creator` live rooms.
    TooManyForCreator,
    /// The server already has `rooms_total` live rooms.
    TooManyInTotal,
    /// The registry's store failed.
    Unavailable,
}

/// One socket's identity: random, so it is unique across replicas too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SocketId(pub u128);

impl SocketId {
    /// A fresh random id.
    pub fn random() -> Self {
        Self(rand::rng().random())
    }
}

/// A socket seated in a room: what it passes back on every later call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatRef {
    /// The room id.
    pub room: String,
    /// The subject of the seat.
    pub sub: String,
    /// The socket that holds it.
    pub socket: SocketId,
}

/// A request to take a seat.
#[derive(Debug, Clone)]
pub struct JoinRequest {
    /// Room, subject (from a verified token) and the socket asking.
    pub seat: SeatRef,
    /// `Some((key, ack))` to resume: the key from `joined`, and the highest
    /// server→client seq the client received in order.
    pub resume: Option<(String, u64)>,
}

/// A seat taken.
#[derive(Debug, Clone, PartialEq)]
pub struct Joined {
    /// The `joined` message to send first (a [`ServerMessage::Joined`]).
    pub hello: ServerMessage,
    /// Then these stored signals, in seq order: every one after `ack` (or,
    /// on a first join, what the other party sent before it).
    pub replay: Vec<ServerMessage>,
}

/// The room registry.
///
/// # Contract
///
/// A room has exactly two seats, one per party: its creator's subject and
/// the `peer` it was created for. Each seat has
/// - a resume key (set when the seat is taken, kept across resumes),
/// - `in_seq`: the highest client→server seq stored from it,
/// - `out_seq`: the highest server→client seq assigned to it,
/// - a replay buffer of the signals for it with seq > its last ack, at most
///   [`REPLAY_MAX_MESSAGES`] and [`REPLAY_MAX_BYTES`]; past that the oldest
///   are dropped and the seat remembers the highest seq dropped unacked;
///   a buffer holds its signals' `data` as JSON text, the bytes it counts,
///   and all buffers together at most [`RegistryLimits::replay_budget`],
///   of which the signals one subject sent at most
///   [`RegistryLimits::replay_per_subject`],
/// - at most one live socket, whose [`Outbox`] receives everything for it.
///
/// Every method is called by one socket's task; `SeatRef::socket` names it.
/// A call from a socket that no longer holds its seat (replaced, expired)
/// is a no-op (`leave`, `ack`, `touch`) or `Err(ErrorCode::Replaced)`.
///
/// Delivery: everything for a seat goes to its live socket's [`Outbox`]
/// with [`Outbox::deliver`] (never blocking: a full outbox closes that
/// socket with `slow-consumer`, and the seat stays as it is). Signals reach
/// a seat's outbox in seq order. A replica that holds no socket of a room
/// must still reach the outbox of a socket held by another replica: that
/// is what a shared implementation routes (e.g. pub/sub per socket).
/// A signal may reach the outbox twice or overlap the `replay` of
/// [`Registry::join`]: the socket task drops any signal whose seq is not
/// above the highest it has sent. A gap is not allowed.
#[async_trait]
pub trait Registry: Send + Sync + 'static {
    /// Creates a room for `creator` and `peer` (two different, valid subjects).
    async fn create_room(&self, creator: &str, peer: &str) -> Result<RoomTicket, CreateError>;

    /// Seats `request.seat.socket` with `outbox` as its delivery channel.
    ///
    /// - Unknown or expired room: `NotFound`. A subject that is not one of
    ///   the room's two parties: `Forbidden`. Neither touches the room.
    /// - `resume` with the seat's key (and the same subject): the seat's
    ///   previous socket, if live, gets [`Outbox::close`] with `Replaced`;
    ///   the buffer drops seqs ≤ `ack` (`ack` above `out_seq` counts as
    ///   `out_seq`); the reply replays the rest in order; the other party
    ///   gets `peer-resumed`. If a signal after `ack` was dropped by the
    ///   buffer's bound, or the key is not the seat's: `ResumeExpired`, and
    ///   with the right key the previous socket is closed (`Replaced`) so a
    ///   fresh join can follow at once.
    /// - No `resume`, and the seat has a live socket: `SeatTaken`.
    /// - No `resume`, seat never taken: taken with a new key; the buffer
    ///   (what the other party sent meanwhile) is replayed unless it lost
    ///   messages, in which case it is cleared and `out_seq` reset to 0.
    /// - No `resume`, seat taken before but without a live socket: taken
    ///   anew, new key, `in_seq` = `out_seq` = 0, buffer cleared.
    /// - A fresh take: `initiator` is true when the other seat is taken
    ///   (and the other seat's stored `initiator` becomes false); the other
    ///   party, if live, gets `peer-joined`. `peers` counts taken seats.
    ///   A resume keeps the seat's `initiator`.
    /// - Any successful join is activity (see [`RegistryLimits::idle`]).
    async fn join(&self, request: JoinRequest, outbox: Outbox) -> Result<Joined, ErrorCode>;

    /// Stores a signal from `seat` for the other party.
    ///
    /// `seq` ≤ the seat's `in_seq`: already stored, `Ok` (acked again, not
    /// relayed twice). `seq` = `in_seq` + 1: assigned the other seat's next
    /// `out_seq`, stored in its buffer, delivered to its live socket if any
    /// (in the same order as stored), `in_seq` = `seq`; `Ok` means "stored"
    /// and the socket acks it. Larger: `BadSeq`, nothing stored.
    /// `data` would take the buffers of all rooms above
    /// [`RegistryLimits::replay_budget`], or what the seat's subject has
    /// sent that they hold above [`RegistryLimits::replay_per_subject`]
    /// (counting rooms that have expired as empty): `Unavailable`, nothing
    /// stored and nothing dropped.
    async fn signal(&self, seat: &SeatRef, seq: u64, data: SignalData) -> Result<(), ErrorCode>;

    /// The client received every signal up to `seq`: drop them from its buffer.
    async fn ack(&self, seat: &SeatRef, seq: u64) -> Result<(), ErrorCode>;

    /// Activity without a message (a ping): keeps the room from idling out.
    async fn touch(&self, seat: &SeatRef) -> Result<(), ErrorCode>;

    /// The socket closed. If it still held its seat, the seat keeps
    /// everything but its socket and the other party gets `peer-left`.
    async fn leave(&self, seat: &SeatRef);

    /// Live rooms (for tests and metrics).
    async fn room_count(&self) -> usize;
}

/// Messages queued for one socket, at most this many.
pub const OUTBOX_CAPACITY: usize = 64;

/// The sending side of one socket's bounded queue. Cloning shares it.
#[derive(Debug, Clone)]
pub struct Outbox {
    queue: mpsc::Sender<ServerMessage>,
    close: Arc<watch::Sender<Option<ErrorCode>>>,
    queued_bytes: Arc<AtomicUsize>,
    max_bytes: usize,
}

/// The receiving side, owned by the socket's task.
#[derive(Debug)]
pub struct Inbox {
    queue: mpsc::Receiver<ServerMessage>,
    close: watch::Receiver<Option<ErrorCode>>,
    queued_bytes: Arc<AtomicUsize>,
}

/// What an [`Inbox`] yields.
#[derive(Debug, PartialEq)]
pub enum Delivery {
    /// Send this to the client.
    Message(ServerMessage),
    /// Send this error, then close with its code.
    Close(ErrorCode),
}

/// A new socket's queue, holding at most `capacity` messages and
/// `max_bytes` of signal `data` JSON.
///
/// Both bounds matter: a relayed signal's `data` is the text serde_json
/// writes, which can be nearly four times the frame it came in (`1e15`
/// is written `1000000000000000.0`), so 64 messages could hold 16 MB.
/// `max_bytes` must hold one such signal (see [`MIN_OUTBOX_BYTES`]).
pub fn outbox(capacity: usize, max_bytes: usize) -> (Outbox, Inbox) {
    let (queue, rx) = mpsc::channel(capacity);
    let (close, close_rx) = watch::channel(None);
    let queued_bytes = Arc::new(AtomicUsize::new(0));
    let outbox = Outbox {
        queue,
        close: Arc::new(close),
        queued_bytes: queued_bytes.clone(),
        max_bytes,
    };
    let inbox = Inbox {
        queue: rx,
        close: close_rx,
        queued_bytes,
    };
    (outbox, inbox)
}

/// The smallest byte bound an outbox may have: more than the largest
/// `data` a signal can be relayed as (a 64 KiB frame whose numbers each
/// grow about 3.8 times when written out), so that a socket that reads is
/// never closed for one large signal.
pub const MIN_OUTBOX_BYTES: usize = 256 * 1024;

/// The bytes of `message` an outbox's byte bound counts: a signal's `data`
/// JSON, as the replay buffers count it. Every other message is small, and
/// bounded by the count alone.
fn counted_bytes(message: &ServerMessage) -> usize {
    match message {
        ServerMessage::Signal { data, .. } => data.json_len(),
        _ => 0,
    }
}

impl Outbox {
    /// Queues `message` without waiting. A full queue (by messages or by
    /// bytes) closes the socket with `slow-consumer`; returns false when
    /// the message was not queued.
    pub fn deliver(&self, message: ServerMessage) -> bool {
        let bytes = counted_bytes(&message);
        let queued = self.queued_bytes.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if queued > self.max_bytes {
            self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
            self.close(ErrorCode::SlowConsumer);
            return false;
        }
        match self.queue.try_send(message) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
                self.close(ErrorCode::SlowConsumer);
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {
                self.queued_bytes.fetch_sub(bytes, Ordering::Relaxed);
                false
            }
        }
    }

    /// Closes the socket with `code` (the first reason given wins), ahead
    /// of anything still queued.
    pub fn close(&self, code: ErrorCode) {
        self.close.send_if_modified(|reason| {
            let first = reason.is_none();
            if first {
                *reason = Some(code);
            }
            first
        });
    }

    /// Whether the socket's task has gone.
    pub fn is_closed(&self) -> bool {
        self.queue.is_closed()
    }
}

impl Inbox {
    /// Resolves when a close is asked for, with its reason.
    pub async fn closed(&mut self) -> ErrorCode {
        close_reason(&mut self.close).await
    }

    /// The next thing to do: a close first, else the next queued message.
    /// When every [`Outbox`] is gone, the seat was taken away: `Replaced`.
    pub async fn recv(&mut self) -> Delivery {
        tokio::select! {
            biased;
            code = close_reason(&mut self.close) => Delivery::Close(code),
            message = self.queue.recv() => match message {
                Some(message) => {
                    self.queued_bytes.fetch_sub(counted_bytes(&message), Ordering::Relaxed);
                    Delivery::Message(message)
                }
                None => Delivery::Close(ErrorCode::Replaced),
            },
        }
    }
}

/// Resolves when a close is asked for, with its reason; never when every
/// [`Outbox`] is gone (`Inbox::recv` reports that once the queue is empty).
async fn close_reason(close: &mut watch::Receiver<Option<ErrorCode>>) -> ErrorCode {
    let reason = match close.wait_for(Option::is_some).await {
        Ok(reason) => *reason,
        Err(_) => None,
    };
    match reason {
        Some(code) => code,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_full_outbox_closes_with_slow_consumer_ahead_of_its_queue() {
        let (outbox, mut inbox) = outbox(2, MIN_OUTBOX_BYTES);
        assert!(outbox.deliver(ServerMessage::Pong));
        assert!(outbox.deliver(ServerMessage::Pong));
        assert!(!outbox.deliver(ServerMessage::Pong));
        outbox.close(ErrorCode::Replaced);
        assert_eq!(inbox.recv().await, Delivery::Close(ErrorCode::SlowConsumer));
    }

    #[tokio::test]
    async fn messages_then_replaced_when_every_sender_is_gone() {
        let (outbox, mut inbox) = outbox(2, MIN_OUTBOX_BYTES);
        assert!(outbox.deliver(ServerMessage::Pong));
        drop(outbox);
        assert_eq!(inbox.recv().await, Delivery::Message(ServerMessage::Pong));
        assert_eq!(inbox.recv().await, Delivery::Close(ErrorCode::Replaced));
    }

    /// Signal `seq` whose `data` is `json_len` (at least 11) bytes of JSON.
    fn signal(seq: u64, json_len: usize) -> ServerMessage {
        let text = format!(r#"{{"type":"{}"}}"#, "x".repeat(json_len - 11));
        let data = SignalData::from_stored(text).unwrap();
        assert_eq!(data.json_len(), json_len);
        ServerMessage::Signal { seq, data }
    }

    #[tokio::test]
    async fn an_outbox_past_its_bytes_closes_with_slow_consumer_and_reading_frees_them() {
        let (outbox, mut inbox) = outbox(64, 1000);
        assert!(outbox.deliver(signal(1, 600)));
        // Other messages are not counted: they are small, and bounded by number.
        assert!(outbox.deliver(ServerMessage::Pong));
        assert!(outbox.deliver(signal(2, 400)));
        assert!(matches!(
            inbox.recv().await,
            Delivery::Message(ServerMessage::Signal { seq: 1, .. })
        ));
        // 400 bytes queued: 600 more fit, then not even the smallest signal.
        assert!(outbox.deliver(signal(3, 600)));
        assert!(!outbox.deliver(signal(4, 11)));
        assert_eq!(inbox.recv().await, Delivery::Close(ErrorCode::SlowConsumer));
    }
}
