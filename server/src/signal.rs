//! `GET /api/calls/signal?room=<room>`: a WebSocket that relays `SignalData`
//! between the two parties of a room, so two browsers can call each other
//! through this backend.
//!
//! Protocol (JSON text frames):
//! - client → server: first `{"type":"auth","token":"<JWT>"}` within
//!   [`AUTH_TIMEOUT`] (the token never goes in the URL), then
//!   `{"type":"signal","data":<SignalData>}` and `{"type":"ping"}`;
//! - server → client: `{"type":"joined","room","peers","initiator"}` (the
//!   party that joins second is the initiator: the other is already there),
//!   `{"type":"peer-joined"}`, `{"type":"peer-left"}`,
//!   `{"type":"signal","data"}`, `{"type":"pong"}`, and typed errors
//!   `{"type":"error","code","message"}`.
//!
//! Resuming: `joined` carries a `resume` key. A party whose socket died (its
//! address changed, its network dropped) reconnects with
//! `{"type":"auth","token","resume":"<key>"}` and takes its old seat back,
//! same role, instead of finding the room full of its own dead socket; the
//! other party hears `{"type":"peer-resumed"}` (messages sent to the dead
//! socket are lost, so the offering side should restart ICE then). The old
//! socket is closed with "replaced" (4000).
//!
//! Errors that close only the socket that caused them: "unauthorized" (4401),
//! "auth-timeout" (4408), "room-full" (4409), "too-large" (1009). A room with
//! no message for the idle time gets "room-expired" on both sockets (4410).
//! "bad-message" and "no-peer" close nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::api::ApiError;
use crate::secret::Secret;
use crate::state::AppState;

/// Largest message a party may send.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// How long a new socket has to authenticate.
pub const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// Default idle time after which a room expires.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(600);

/// Every open room, by name.
pub struct Rooms {
    idle: Duration,
    next_id: Mutex<u64>,
    rooms: Mutex<HashMap<String, Room>>,
}

struct Room {
    parties: Vec<Party>,
    last_activity: Instant,
}

struct Party {
    id: u64,
    /// Secret handed to this party in `joined`; presenting it (with a token
    /// for the same subject) takes the seat back.
    resume: String,
    sub: String,
    initiator: bool,
    outbox: mpsc::UnboundedSender<Outgoing>,
}

/// Where a new socket sits in its room.
struct Seat {
    id: u64,
    peers: usize,
    initiator: bool,
    resume: String,
    resumed: bool,
}

/// What a connection's task is told to send.
enum Outgoing {
    Text(String),
    /// An error frame, then a close frame with this code.
    Close(u16, &'static str, &'static str),
}

#[derive(Deserialize)]
pub(crate) struct RoomQuery {
    room: Option<String>,
}

fn valid_room(room: &str) -> bool {
    (1..=64).contains(&room.len())
        && room
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn error_text(code: &str, message: &str) -> String {
    json!({ "type": "error", "code": code, "message": message }).to_string()
}

/// The route's handler: checks the room name, then upgrades.
pub(crate) async fn route(
    State(state): State<Arc<AppState>>,
    Query(query): Query<RoomQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(room) = query.room.filter(|r| valid_room(r)) else {
        return ApiError::new(
            StatusCode::BAD_REQUEST,
            "room must be 1 to 64 characters of A-Z, a-z, 0-9, - and _",
        )
        .into_response();
    };
    // Frames above our own cap still reach us (up to 4x), so the sender gets
    // a typed "too-large" instead of a bare protocol error.
    upgrade
        .max_message_size(4 * MAX_MESSAGE_BYTES)
        .on_upgrade(move |socket| connection(state, room, socket))
}

impl Rooms {
    /// No rooms; a room expires after `idle` without a message.
    pub fn new(idle: Duration) -> Self {
        Self {
            idle,
            next_id: Mutex::new(0),
            rooms: Mutex::new(HashMap::new()),
        }
    }

    /// Open rooms (for tests and metrics).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// True when no room is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Room>> {
        // A panic while holding the lock cannot leave a room half-updated
        // in a way that matters more than refusing every later call would.
        self.rooms.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Seats a party: back in its old seat when `resume` matches one, else a
    /// new seat; `Err` when the room already has two.
    fn join(
        &self,
        room: &str,
        sub: &str,
        resume: Option<&str>,
        outbox: mpsc::UnboundedSender<Outgoing>,
    ) -> Result<Seat, ()> {
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
            *next += 1;
            *next
        };
        let mut rooms = self.lock();
        let entry = rooms.entry(room.to_owned()).or_insert_with(|| Room {
            parties: Vec::new(),
            last_activity: Instant::now(),
        });
        entry.last_activity = Instant::now();
        let peers = entry.parties.len();
        let old_seat = resume.and_then(|key| {
            entry
                .parties
                .iter_mut()
                .find(|p| p.resume == key && p.sub == sub)
        });
        if let Some(seat) = old_seat {
            let old = std::mem::replace(&mut seat.outbox, outbox);
            let _ = old.send(Outgoing::Close(
                4000,
                "replaced",
                "the party resumed on another socket",
            ));
            seat.id = id;
            let (initiator, resume) = (seat.initiator, seat.resume.clone());
            for other in entry.parties.iter().filter(|p| p.id != id) {
                let _ = other.outbox.send(Outgoing::Text(
                    json!({ "type": "peer-resumed" }).to_string(),
                ));
            }
            return Ok(Seat {
                id,
                peers,
                initiator,
                resume,
                resumed: true,
            });
        }
        if peers >= 2 {
            return Err(());
        }
        for other in &entry.parties {
            let _ = other
                .outbox
                .send(Outgoing::Text(json!({ "type": "peer-joined" }).to_string()));
        }
        let resume = Secret::random_hex();
        let initiator = peers == 1;
        entry.parties.push(Party {
            id,
            resume: resume.clone(),
            sub: sub.to_owned(),
            initiator,
            outbox,
        });
        Ok(Seat {
            id,
            peers: peers + 1,
            initiator,
            resume,
            resumed: false,
        })
    }

    /// Relays `text` to the other party; false when there is none.
    fn relay(&self, room: &str, from: u64, text: String) -> bool {
        let mut rooms = self.lock();
        let Some(entry) = rooms.get_mut(room) else {
            return false;
        };
        entry.last_activity = Instant::now();
        match entry.parties.iter().find(|p| p.id != from) {
            Some(other) => other.outbox.send(Outgoing::Text(text)).is_ok(),
            None => false,
        }
    }

    fn touch(&self, room: &str) {
        if let Some(entry) = self.lock().get_mut(room) {
            entry.last_activity = Instant::now();
        }
    }

    /// Removes the party; the other one (if any) hears "peer-left".
    fn leave(&self, room: &str, id: u64) {
        let mut rooms = self.lock();
        let Some(entry) = rooms.get_mut(room) else {
            return;
        };
        let before = entry.parties.len();
        entry.parties.retain(|p| p.id != id);
        // A socket replaced by a resume is no longer seated: nobody left.
        let left = entry.parties.len() < before;
        for other in entry.parties.iter().filter(|_| left) {
            let _ = other
                .outbox
                .send(Outgoing::Text(json!({ "type": "peer-left" }).to_string()));
        }
        if entry.parties.is_empty() {
            rooms.remove(room);
        }
    }

    /// Closes the room if it has been idle too long.
    fn expire_if_idle(&self, room: &str) {
        let mut rooms = self.lock();
        if rooms
            .get(room)
            .is_some_and(|r| r.last_activity.elapsed() >= self.idle)
        {
            if let Some(entry) = rooms.remove(room) {
                for party in entry.parties {
                    let _ = party.outbox.send(Outgoing::Close(
                        4410,
                        "room-expired",
                        "the room was idle too long",
                    ));
                }
            }
        }
    }
}

/// Sends a typed error and closes this socket.
async fn close_with(socket: &mut WebSocket, code: u16, error: &str, message: &'static str) {
    let _ = socket
        .send(Message::Text(error_text(error, message).into()))
        .await;
    let _ = socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from_static(message),
        })))
        .await;
}

/// Waits for `{"type":"auth","token"}` and checks the JWT.
async fn authenticate(
    state: &AppState,
    socket: &mut WebSocket,
) -> Result<(String, Option<String>), (u16, &'static str, &'static str)> {
    let first = match tokio::time::timeout(AUTH_TIMEOUT, socket.recv()).await {
        Err(_) => return Err((4408, "auth-timeout", "no auth message within 10 s")),
        Ok(Some(Ok(Message::Text(text)))) => text,
        Ok(_) => {
            return Err((
                4401,
                "unauthorized",
                "the first message must be {\"type\":\"auth\",\"token\":...}",
            ))
        }
    };
    let auth = serde_json::from_str::<Value>(&first)
        .ok()
        .filter(|v| v["type"] == "auth");
    let resume = auth
        .as_ref()
        .and_then(|v| v["resume"].as_str().map(str::to_owned));
    let token = auth.and_then(|v| v["token"].as_str().map(str::to_owned));
    let Some(token) = token else {
        return Err((
            4401,
            "unauthorized",
            "the first message must be {\"type\":\"auth\",\"token\":...}",
        ));
    };
    match state.jwt.verify(&token) {
        Ok(claims) => Ok((claims.sub, resume)),
        Err(_) => Err((4401, "unauthorized", "invalid or expired token")),
    }
}

/// One party's connection, from upgrade to close.
async fn connection(state: Arc<AppState>, room: String, mut socket: WebSocket) {
    let (sub, resume) = match authenticate(&state, &mut socket).await {
        Ok(auth) => auth,
        Err((code, error, message)) => return close_with(&mut socket, code, error, message).await,
    };
    let (outbox, mut inbox) = mpsc::unbounded_channel();
    let rooms = &state.signal;
    let Ok(seat) = rooms.join(&room, &sub, resume.as_deref(), outbox) else {
        return close_with(
            &mut socket,
            4409,
            "room-full",
            "the room already has two parties",
        )
        .await;
    };
    let id = seat.id;
    tracing::debug!(%room, %sub, peers = seat.peers, resumed = seat.resumed, "signaling: joined");
    let joined = json!({ "type": "joined", "room": room, "peers": seat.peers,
        "initiator": seat.initiator, "resume": seat.resume, "resumed": seat.resumed });
    if socket
        .send(Message::Text(joined.to_string().into()))
        .await
        .is_err()
    {
        return rooms.leave(&room, id);
    }
    let mut idle_check = tokio::time::interval(
        (rooms.idle / 4).clamp(Duration::from_millis(50), Duration::from_secs(30)),
    );
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Binary(_))) => {
                        let _ = socket.send(Message::Text(error_text("bad-message", "messages are JSON text").into())).await;
                        continue;
                    }
                    _ => break,
                };
                if text.len() > MAX_MESSAGE_BYTES {
                    close_with(&mut socket, 1009, "too-large", "messages are capped at 64 KiB").await;
                    break;
                }
                if let Some(reply) = handle_message(rooms, &room, id, &text) {
                    if socket.send(Message::Text(reply.into())).await.is_err() {
                        break;
                    }
                }
            }
            outgoing = inbox.recv() => match outgoing {
                Some(Outgoing::Text(text)) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Close(code, error, message)) => {
                    close_with(&mut socket, code, error, message).await;
                    break;
                }
                None => break,
            },
            _ = idle_check.tick() => rooms.expire_if_idle(&room),
        }
    }
    rooms.leave(&room, id);
    tracing::debug!(%room, "signaling: left");
}

/// One text message from a joined party; returns the reply to send back, if any.
fn handle_message(rooms: &Rooms, room: &str, id: u64, text: &str) -> Option<String> {
    let Ok(message) = serde_json::from_str::<Value>(text) else {
        return Some(error_text("bad-message", "not JSON"));
    };
    match message["type"].as_str() {
        Some("ping") => {
            rooms.touch(room);
            Some(json!({ "type": "pong" }).to_string())
        }
        Some("signal") => {
            let data = &message["data"];
            if !data.is_object() || !data["type"].is_string() {
                return Some(error_text(
                    "bad-message",
                    "a signal needs data: an object with a string type",
                ));
            }
            let relayed = json!({ "type": "signal", "data": data }).to_string();
            if rooms.relay(room, id, relayed) {
                None
            } else {
                Some(error_text(
                    "no-peer",
                    "nobody else is in the room yet; message dropped",
                ))
            }
        }
        _ => Some(error_text(
            "bad-message",
            "type must be \"signal\" or \"ping\"",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::valid_room;

    #[test]
    fn room_names() {
        for ok in ["a", "room-1", "A_b-9", &"x".repeat(64)] {
            assert!(valid_room(ok), "{ok}");
        }
        for bad in ["", "a b", "a/b", "ü", "a?b", &"x".repeat(65)] {
            assert!(!valid_room(bad), "{bad}");
        }
    }
}
