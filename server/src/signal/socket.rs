//! One signaling socket, from upgrade to close: authentication, the seat,
//! then a reader (client → registry) and a writer (outbox → client) that
//! end together. The writer alone touches the socket's sending half.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};

use super::limits::Unauthenticated;
use super::protocol::{ClientMessage, ErrorCode, ServerMessage};
use super::registry::{
    outbox, Delivery, Inbox, JoinRequest, Outbox, Registry, SeatRef, SocketId, OUTBOX_CAPACITY,
};
use crate::auth::Jwt;
use crate::rate::TokenBucket;
use crate::state::AppState;

/// How long a new socket has to authenticate.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest first (auth) message.
pub const MAX_AUTH_BYTES: usize = 4 * 1024;
/// How long a closing socket may take to accept its error and close frames.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
/// How long a connection closed for a too-large frame stays up.
const TOO_LARGE_LINGER: Duration = Duration::from_millis(500);
/// Longest single wait for a token's expiry: tokio's timers reach about two
/// years, and the wall clock that `exp` is read on may be set meanwhile.
const EXPIRY_RECHECK: Duration = Duration::from_secs(3600);

/// One party's connection, from upgrade to close.
pub(super) async fn connection(
    state: Arc<AppState>,
    room: String,
    mut socket: WebSocket,
    permit: Unauthenticated,
) {
    let signaling = &state.signal;
    let (sub, resume, expires_at) = match authenticate(&state.jwt, &mut socket).await {
        Ok(auth) => auth,
        Err(error) => return close_unsplit(socket, error).await,
    };
    let Ok(_permit) = signaling.limits.authenticated(permit, &sub) else {
        return close_unsplit(socket, ErrorCode::TooManyConnections.to_message()).await;
    };
    let registry = signaling.registry.as_ref();
    let (outbox, inbox) = outbox(OUTBOX_CAPACITY, signaling.limits.outbox_bytes());
    let seat = SeatRef {
        room,
        sub,
        socket: SocketId::random(),
    };
    let request = JoinRequest {
        seat: seat.clone(),
        resume,
    };
    let joined = match registry.join(request, outbox.clone()).await {
        Ok(joined) => joined,
        Err(code) => return close_unsplit(socket, code.to_message()).await,
    };
    tracing::debug!(room = %seat.room, sub = %seat.sub, "signaling: joined");
    let (sink, stream) = socket.split();
    let first = std::iter::once(joined.hello).chain(joined.replay).collect();
    // A client silent for `silence` (three pings unanswered; browsers answer
    // pings by themselves) is gone: its seat is freed for a fresh auth
    // instead of held by a dead TCP connection.
    let silence = signaling.limits.silence();
    let mut writer = std::pin::pin!(write(sink, inbox, first, silence / 3));
    let ended = tokio::select! {
        ended = &mut writer => ended,
        closing = read(stream, registry, &seat, &outbox, silence, expires_at, signaling.limits.message_rate()) => match closing {
            // The reader asked for a close: the writer returns it next.
            true => tokio::time::timeout(CLOSE_GRACE, writer).await.ok().flatten(),
            // The client went.
            false => None,
        },
    };
    // The seat is free for a resume before the close frame is even sent:
    // a client that does not read may never take it.
    registry.leave(&seat).await;
    if let Some((mut sink, code)) = ended {
        let _ = tokio::time::timeout(CLOSE_GRACE, send_close(&mut sink, code.to_message())).await;
    }
    tracing::debug!(room = %seat.room, sub = %seat.sub, "signaling: left");
}

/// What a socket's auth message established.
type Auth = (String, Option<(String, u64)>, Option<SystemTime>);

/// Waits for `{"type":"auth",...}` and checks its JWT. Returns the subject,
/// the resume request and when the token stops being accepted, or the error
/// to close with.
async fn authenticate(jwt: &Jwt, socket: &mut WebSocket) -> Result<Auth, ServerMessage> {
    let unauthorized = || {
        ErrorCode::Unauthorized.with("the first message must be {\"type\":\"auth\",\"token\":...}")
    };
    let text = match tokio::time::timeout(AUTH_TIMEOUT, socket.recv()).await {
        Err(_) => return Err(ErrorCode::AuthTimeout.to_message()),
        Ok(Some(Ok(Message::Text(text)))) => text,
        Ok(Some(Err(e))) if too_large(&e) => return Err(too_large_message()),
        Ok(_) => return Err(unauthorized()),
    };
    if text.len() > MAX_AUTH_BYTES {
        return Err(ErrorCode::TooLarge.with("the auth message is capped at 4 KiB"));
    }
    let Ok(ClientMessage::Auth { token, resume, ack }) = serde_json::from_str(&text) else {
        return Err(unauthorized());
    };
    match jwt.verify(&token) {
        Ok(claims) => {
            let expires_at = jwt.expires_at(&claims);
            Ok((claims.sub, resume.map(|key| (key, ack)), expires_at))
        }
        Err(e) => Err(ErrorCode::Unauthorized.with(e.message)),
    }
}

fn too_large(error: &axum::Error) -> bool {
    let inner = error.to_string();
    // axum wraps tungstenite's Error::Capacity, whose text starts so.
    inner.starts_with("Space limit exceeded")
}

fn too_large_message() -> ServerMessage {
    ErrorCode::TooLarge.with("messages are capped at 64 KiB")
}

/// Sends `error` and its close frame on a socket that has no writer yet.
async fn close_unsplit(socket: WebSocket, error: ServerMessage) {
    let (mut sink, _) = socket.split();
    let _ = tokio::time::timeout(CLOSE_GRACE, send_close(&mut sink, error)).await;
}

type Sink = SplitSink<WebSocket, Message>;

async fn send_close(sink: &mut Sink, error: ServerMessage) {
    let (code, reason) = match &error {
        ServerMessage::Error { code, .. } => (code.close_code().unwrap_or(1011), code.message()),
        _ => (1011, "closing"),
    };
    let _ = sink.send(Message::Text(error.to_text().into())).await;
    let _ = sink
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(reason),
        })))
        .await;
    if matches!(
        error,
        ServerMessage::Error {
            code: ErrorCode::TooLarge,
            ..
        }
    ) {
        // The rest of the oversized frame is still unread, so dropping the
        // connection resets it, and a reset can overtake the close frame in
        // the client's kernel. A moment lets the client read it first.
        tokio::time::sleep(TOO_LARGE_LINGER).await;
    }
}

/// Sends `first` (joined, replay), then whatever the registry delivers,
/// until a close is asked for (returned with the sink, for the close frame)
/// or the client is gone (`None`). A signal whose seq is not above the last
/// one sent is a duplicate delivery and is skipped.
async fn write(
    mut sink: Sink,
    mut inbox: Inbox,
    first: Vec<ServerMessage>,
    ping_every: Duration,
) -> Option<(Sink, ErrorCode)> {
    let mut first = first.into_iter();
    let mut last_seq = 0;
    let mut keepalive =
        tokio::time::interval_at(tokio::time::Instant::now() + ping_every, ping_every);
    loop {
        let next = match first.next() {
            Some(message) => Delivery::Message(message),
            None => tokio::select! {
                next = inbox.recv() => next,
                _ = keepalive.tick() => {
                    tokio::select! {
                        biased;
                        code = inbox.closed() => return Some((sink, code)),
                        sent = sink.send(Message::Ping(Default::default())) => sent.ok()?,
                    }
                    continue;
                }
            },
        };
        let message = match next {
            Delivery::Message(message) => message,
            Delivery::Close(code) => return Some((sink, code)),
        };
        if let ServerMessage::Signal { seq, .. } = &message {
            if *seq <= last_seq {
                continue;
            }
            last_seq = *seq;
        }
        // A client that does not read blocks this send; a close (such as
        // slow-consumer, raised when the outbox fills meanwhile) wins.
        tokio::select! {
            biased;
            code = inbox.closed() => return Some((sink, code)),
            sent = sink.send(Message::Text(message.to_text().into())) => sent.ok()?,
        }
    }
}

/// Resolves when the wall clock reaches `at` (never for `None`).
async fn wall_clock(at: Option<SystemTime>) {
    let Some(at) = at else {
        return std::future::pending().await;
    };
    loop {
        match at.duration_since(SystemTime::now()) {
            Ok(left) if !left.is_zero() => tokio::time::sleep(left.min(EXPIRY_RECHECK)).await,
            _ => return,
        }
    }
}

/// Reads the client's messages until it goes (false) or a close is asked
/// for through `outbox` (true): by a message, by the token's expiry at
/// `expires_at` (`unauthorized`; the seat stays, for a resume with a fresh
/// token), or by a message past `rate` (`rate-limited`: each one costs the
/// registry a call, and with Redis one on the instance every replica shares).
async fn read(
    mut stream: SplitStream<WebSocket>,
    registry: &dyn Registry,
    seat: &SeatRef,
    outbox: &Outbox,
    silence: Duration,
    expires_at: Option<SystemTime>,
    mut rate: TokenBucket,
) -> bool {
    let mut expiry = std::pin::pin!(wall_clock(expires_at));
    loop {
        // Any frame, a pong to the writer's ping included, shows the client is there.
        let frame = tokio::select! {
            frame = tokio::time::timeout(silence, stream.next()) => frame,
            () = &mut expiry => return close(outbox, ErrorCode::Unauthorized),
        };
        let Ok(Some(frame)) = frame else {
            return false;
        };
        if !rate.take(1, Instant::now()) {
            return close(outbox, ErrorCode::RateLimited);
        }
        let text = match frame {
            Ok(Message::Text(text)) => text,
            Ok(Message::Binary(_)) => {
                outbox.deliver(ErrorCode::BadMessage.with("messages are JSON text"));
                continue;
            }
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            Ok(Message::Close(_)) => return false,
            Err(e) if too_large(&e) => {
                outbox.close(ErrorCode::TooLarge);
                return true;
            }
            Err(_) => return false,
        };
        let reply = match serde_json::from_str::<ClientMessage>(&text) {
            Err(e) => Some(ErrorCode::BadMessage.with(bad_message(&text, &e))),
            Ok(ClientMessage::Auth { .. }) => {
                Some(ErrorCode::BadMessage.with("this socket is already authenticated"))
            }
            Ok(ClientMessage::Ping) => match registry.touch(seat).await {
                Ok(()) => Some(ServerMessage::Pong),
                Err(code) => return close(outbox, seat_lost(code)),
            },
            Ok(ClientMessage::Ack { seq }) => match registry.ack(seat, seq).await {
                Ok(()) => None,
                Err(code) => return close(outbox, seat_lost(code)),
            },
            Ok(ClientMessage::Signal { seq, data }) => {
                match registry.signal(seat, seq, data).await {
                    Ok(()) => Some(ServerMessage::Ack { seq }),
                    Err(ErrorCode::BadSeq) => Some(ErrorCode::BadSeq.to_message()),
                    Err(code) => return close(outbox, seat_lost(code)),
                }
            }
        };
        if let Some(reply) = reply {
            outbox.deliver(reply);
        }
    }
}

fn close(outbox: &Outbox, code: ErrorCode) -> bool {
    outbox.close(code);
    true
}

/// The close for a registry error on a seated socket: a room that vanished
/// under it has expired.
fn seat_lost(code: ErrorCode) -> ErrorCode {
    match code {
        ErrorCode::NotFound => ErrorCode::RoomExpired,
        other => other,
    }
}

fn bad_message(text: &str, error: &serde_json::Error) -> String {
    if serde_json::from_str::<serde_json::Value>(text).is_err() {
        return "not JSON".to_owned();
    }
    let mut sentence = format!("not a valid message: {error}");
    if sentence.len() > 200 {
        let mut end = 200;
        while !sentence.is_char_boundary(end) {
            end -= 1;
        }
        sentence.truncate(end);
    }
    sentence
}
