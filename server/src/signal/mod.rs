//! Signaling: `POST /api/calls/rooms` creates a room for two parties, and
//! `GET /api/calls/signal?room=<id>` is the WebSocket that relays `SignalData`
//! between them. The protocol is documented in `server/README.md`
//! ("Signaling"); its types are in [`protocol`], rooms live behind the
//! [`registry::Registry`] trait ([`memory`] in one process), and
//! `socket.rs` runs one connection.

pub mod limits;
pub mod memory;
pub mod protocol;
pub mod redis;
pub mod registry;
mod socket;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use axum::body::Bytes;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::api::{self, ApiError};
use crate::auth::valid_sub;
use crate::state::AppState;
use limits::{Refused, SocketLimits};
use registry::{CreateError, Registry};

pub use socket::{AUTH_TIMEOUT, MAX_AUTH_BYTES};

/// Largest frame and message a party may send.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// What the signaling routes share.
pub struct Signaling {
    /// Rooms, seats and delivery.
    pub registry: Arc<dyn Registry>,
    /// Socket caps of this process.
    pub limits: SocketLimits,
    /// Origins allowed besides the server's own (`--cors-origin`).
    allowed_origins: Vec<HeaderValue>,
}

impl Signaling {
    /// Signaling over `registry`, with these caps and extra allowed origins.
    pub fn new(
        registry: Arc<dyn Registry>,
        limits: SocketLimits,
        allowed_origins: Vec<HeaderValue>,
    ) -> Self {
        Self {
            registry,
            limits,
            allowed_origins,
        }
    }

    /// A browser's upgrade is allowed from the server's own origin (the
    /// request's Host) and from the `--cors-origin` list; a client with no
    /// Origin header is not a browser page, so nobody's cookies or
    /// ambient authority ride along: allowed.
    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        let Some(origin) = headers.get(header::ORIGIN) else {
            return true;
        };
        if self.allowed_origins.iter().any(|o| o == origin) {
            return true;
        }
        let (Ok(origin), Some(host)) = (
            origin.to_str(),
            headers.get(header::HOST).and_then(|h| h.to_str().ok()),
        ) else {
            return false;
        };
        let origin_host = origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"));
        origin_host.is_some_and(|o| o.eq_ignore_ascii_case(host))
    }
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

/// `GET /api/calls/signal`: checks the room id, the Origin and the caps,
/// then upgrades with frames capped at [`MAX_MESSAGE_BYTES`].
pub(crate) async fn route(
    State(state): State<Arc<AppState>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(query): Query<RoomQuery>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(room) = query.room.filter(|r| valid_room(r)) else {
        return ApiError::bad_request("room must be 1 to 64 characters of A-Z, a-z, 0-9, - and _")
            .into_response();
    };
    if !state.signal.origin_allowed(&headers) {
        return ApiError::new(StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let permit = match state.signal.limits.admit(client.ip()) {
        Ok(permit) => permit,
        Err(Refused::Total) => {
            return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "too many connections")
                .into_response()
        }
        Err(_) => {
            return ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many unauthenticated connections from this address",
            )
            .into_response()
        }
    };
    upgrade
        .max_frame_size(MAX_MESSAGE_BYTES)
        .max_message_size(MAX_MESSAGE_BYTES)
        .read_buffer_size(16 * 1024)
        .on_upgrade(move |socket| socket::connection(state, room, socket, permit))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewRoom {
    peer: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedRoom {
    room: String,
    expires_at: u64,
}

/// Largest body `POST /api/calls/rooms` reads.
pub const MAX_ROOM_BODY_BYTES: usize = 4 * 1024;

/// `POST /api/calls/rooms`: a room for the caller and `peer`.
pub(crate) async fn create_room(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let claims = match state.jwt.authenticate(&headers) {
        Ok(claims) => claims,
        Err(e) => return e.into_response(),
    };
    let peer =
        match serde_json::from_slice::<NewRoom>(&body) {
            Ok(NewRoom { peer }) if valid_sub(&peer) && peer != claims.sub => peer,
            _ => return ApiError::bad_request(
                "body must be {\"peer\":\"<subject of the other party>\"}, not your own subject",
            )
            .into_response(),
        };
    match state.signal.registry.create_room(&claims.sub, &peer).await {
        Ok(ticket) => api::created(CreatedRoom {
            room: ticket.room,
            expires_at: ticket
                .expires_at
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
        }),
        Err(CreateError::TooManyForCreator) => {
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too many rooms").into_response()
        }
        Err(CreateError::TooManyInTotal) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too many rooms on this server",
        )
        .into_response(),
        Err(CreateError::Unavailable) => {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "signaling unavailable").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use limits::SocketCaps;

    #[test]
    fn room_names() {
        for ok in ["a", "room-1", "A_b-9", &"x".repeat(64)] {
            assert!(valid_room(ok), "{ok}");
        }
        for bad in ["", "a b", "a/b", "ü", "a?b", &"x".repeat(65)] {
            assert!(!valid_room(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn origins() {
        let caps = SocketCaps {
            total: 1,
            unauthenticated_per_ip: 1,
            per_subject: 1,
            silence: std::time::Duration::from_secs(1),
            messages_per_sec: 100,
            outbox_bytes: registry::MIN_OUTBOX_BYTES,
        };
        let signaling = Signaling::new(
            Arc::new(memory::MemoryRegistry::new(registry::RegistryLimits {
                room_ttl: std::time::Duration::from_secs(60),
                idle: std::time::Duration::from_secs(60),
                rooms_per_creator: 1,
                rooms_total: 1,
                replay_budget: registry::REPLAY_MAX_BYTES,
                replay_per_subject: registry::REPLAY_MAX_BYTES,
            })),
            SocketLimits::new(caps),
            vec![HeaderValue::from_static("https://app.example.com")],
        );
        let check = |origin: Option<&'static str>, host: &'static str| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, HeaderValue::from_static(host));
            if let Some(o) = origin {
                h.insert(header::ORIGIN, HeaderValue::from_static(o));
            }
            signaling.origin_allowed(&h)
        };
        assert!(check(None, "127.0.0.1:8080"));
        assert!(check(Some("http://127.0.0.1:8080"), "127.0.0.1:8080"));
        assert!(check(
            Some("https://Signal.example.com"),
            "signal.example.com"
        ));
        assert!(check(Some("https://app.example.com"), "signal.example.com"));
        assert!(!check(Some("https://evil.example"), "127.0.0.1:8080"));
        assert!(!check(Some("http://127.0.0.1:8081"), "127.0.0.1:8080"));
        assert!(!check(Some("null"), "127.0.0.1:8080"));
    }
}
