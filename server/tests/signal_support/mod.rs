//! A signaling client for tests (tokio-tungstenite on real sockets) and the
//! suite every registry must pass. `signaling_suite!(args)` expands to one
//! `#[tokio::test]` per scenario, each starting servers with `args` added
//! (e.g. `--redis-url ...`), so the same suite runs against any registry:
//!
//! ```ignore
//! mod common;
//! mod signal_support;
//! fn redis_args() -> Vec<&'static str> { vec!["--redis-url", shared_redis_url()] }
//! signaling_suite!(&redis_args());
//! ```
//!
//! Scenarios read `server.state().signal` only through the `Registry` trait
//! (`room_count`) and the socket caps, so they hold for any registry.
#![allow(dead_code)]

pub mod abuse;
pub mod outbox;
pub mod party;
pub mod protocol;
pub mod replay;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::common::{http, valid_token, TestServer};

/// A client socket.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the server sent next: a JSON message, or the close code.
#[derive(Debug, PartialEq)]
pub enum Frame {
    /// A text frame, parsed.
    Json(Value),
    /// A close frame's code, or `None` when the connection just ended.
    Closed(Option<u16>),
}

/// `POST /api/calls/rooms` as `creator` for `peer`; returns status and body.
pub async fn post_room(server: &TestServer, token: Option<&str>, body: &str) -> (u16, Value) {
    let mut request = http()
        .post(server.url("/api/calls/rooms"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let res = request.send().await.expect("answered");
    let status = res.status().as_u16();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body)
}

/// A new room for `creator` and `peer`; returns its id.
pub async fn create_room(server: &TestServer, creator: &str, peer: &str) -> String {
    let body = json!({ "peer": peer }).to_string();
    let (status, body) = post_room(server, Some(&valid_token(creator)), &body).await;
    assert_eq!(status, 201, "{body}");
    body["data"]["room"].as_str().expect("room id").to_owned()
}

/// A WebSocket to `room`, not yet authenticated.
pub async fn open(server: &TestServer, room: &str) -> Socket {
    let url = format!("ws://{}/api/calls/signal?room={room}", server.addr);
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket connects");
    socket
}

/// Sends a JSON text frame.
pub async fn send(socket: &mut Socket, value: Value) {
    socket
        .send(Message::text(value.to_string()))
        .await
        .expect("send");
}

/// The next frame within 5 s.
pub async fn next(socket: &mut Socket) -> Frame {
    next_within(socket, Duration::from_secs(5)).await
}

/// The next frame within `wait`.
pub async fn next_within(socket: &mut Socket, wait: Duration) -> Frame {
    loop {
        let message = tokio::time::timeout(wait, socket.next())
            .await
            .expect("a frame in time");
        match message {
            Some(Ok(Message::Text(text))) => {
                return Frame::Json(serde_json::from_str(&text).expect("JSON text"))
            }
            Some(Ok(Message::Close(frame))) => {
                return Frame::Closed(frame.map(|f| u16::from(f.code)))
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return Frame::Closed(None),
        }
    }
}

/// Asserts the next frame is error `code` (with a message) and returns it.
pub async fn expect_error(socket: &mut Socket, code: &str) {
    match next(socket).await {
        Frame::Json(v) => {
            assert_eq!(v["type"], "error", "{v}");
            assert_eq!(v["code"], code, "{v}");
            assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        }
        other => panic!("expected error {code}, got {other:?}"),
    }
}

/// Asserts error `code` followed by close `close`.
pub async fn expect_close(socket: &mut Socket, code: &str, close: u16) {
    expect_error(socket, code).await;
    assert_eq!(next(socket).await, Frame::Closed(Some(close)), "{code}");
}

/// Authenticates `sub` on a new socket to `room` (with `extra` fields in the auth message).
pub async fn auth(server: &TestServer, room: &str, sub: &str, extra: Value) -> Socket {
    let mut socket = open(server, room).await;
    let mut message = json!({ "type": "auth", "token": valid_token(sub) });
    if let (Some(m), Some(extra)) = (message.as_object_mut(), extra.as_object()) {
        m.extend(extra.clone());
    }
    send(&mut socket, message).await;
    socket
}

/// Asks to resume `sub`'s seat with `key`, having received up to `ack`.
pub async fn resume(server: &TestServer, room: &str, sub: &str, key: &str, ack: u64) -> Socket {
    auth(server, room, sub, json!({ "resume": key, "ack": ack })).await
}

/// `sub` joins `room` afresh; returns the socket and `joined`.
pub async fn join(server: &TestServer, room: &str, sub: &str) -> (Socket, Value) {
    let mut socket = auth(server, room, sub, json!({})).await;
    match next(&mut socket).await {
        Frame::Json(v) if v["type"] == "joined" => (socket, v),
        other => panic!("expected joined, got {other:?}"),
    }
}

/// Asserts `joined` and returns its resume key.
pub fn check_joined(
    hello: &Value,
    room: &str,
    peers: u64,
    initiator: bool,
    resumed: bool,
) -> String {
    assert_eq!(hello["type"], "joined", "{hello}");
    assert_eq!(hello["room"], room, "{hello}");
    assert_eq!(hello["peers"], peers, "{hello}");
    assert_eq!(hello["initiator"], initiator, "{hello}");
    assert_eq!(hello["resumed"], resumed, "{hello}");
    let key = hello["resume"].as_str().expect("a resume key").to_owned();
    assert_eq!(key.len(), 32, "{hello}");
    key
}

/// A room for alice and bob with both seated (bob second, so bob offers).
/// Returns the room, alice's and bob's sockets and their resume keys.
pub async fn pair(server: &TestServer) -> (String, Socket, Socket, String, String) {
    let room = create_room(server, "alice", "bob").await;
    let (mut a, hello) = join(server, &room, "alice").await;
    let key_a = check_joined(&hello, &room, 1, false, false);
    assert!(hello.get("peer").is_none(), "{hello}");
    let (b, hello) = join(server, &room, "bob").await;
    let key_b = check_joined(&hello, &room, 2, true, false);
    assert_eq!(hello["peer"], "alice", "{hello}");
    expect_event(&mut a, "peer-joined", "bob").await;
    (room, a, b, key_a, key_b)
}

/// A signal message with client seq `seq`.
pub fn signal(seq: u64, data: Value) -> Value {
    json!({ "type": "signal", "seq": seq, "data": data })
}

/// Sends signal `seq` and asserts the server's ack.
pub async fn send_acked(socket: &mut Socket, seq: u64, data: Value) {
    send(socket, signal(seq, data)).await;
    assert_eq!(
        next(socket).await,
        Frame::Json(json!({ "type": "ack", "seq": seq }))
    );
}

/// Asserts the next message is signal `seq` carrying `data`.
pub async fn expect_signal(socket: &mut Socket, seq: u64, data: Value) {
    assert_eq!(
        next(socket).await,
        Frame::Json(json!({ "type": "signal", "seq": seq, "data": data }))
    );
}

/// Asserts the next message is room event `kind` (`peer-joined`, ...) about `peer`.
pub async fn expect_event(socket: &mut Socket, kind: &str, peer: &str) {
    assert_eq!(
        next(socket).await,
        Frame::Json(json!({ "type": kind, "peer": peer }))
    );
}

/// Waits (at most 2 s) until `check` holds.
pub async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("not within 2 s: {what}");
}

/// One `#[tokio::test]` per scenario of the suite, each starting its
/// servers with `$args` (a `&[&str]` expression) added to the defaults.
#[macro_export]
macro_rules! signaling_suite {
    ($args:expr) => {
        $crate::signaling_suite!(@tests $args;
            protocol::relays_signals_with_seq_and_acks,
            protocol::rooms_api_binds_two_parties,
            protocol::mallory_is_forbidden_and_unknown_rooms_not_found,
            protocol::a_live_seat_is_not_taken_twice,
            protocol::duplicates_are_acked_once_and_gaps_refused,
            protocol::bad_messages_close_nothing,
            protocol::signals_before_the_peer_joins_are_replayed,
            protocol::resume_replays_what_was_missed,
            protocol::resume_expires_past_the_replay_bound,
            protocol::idle_rooms_expire_and_activity_keeps_them,
            protocol::an_unused_room_expires_even_under_failed_joins,
            party::a_cut_socket_loses_nothing_both_ways,
            abuse::a_consumer_that_does_not_read_is_closed_with_bounded_memory,
            outbox::a_consumer_that_does_not_read_is_closed_past_its_outbox_bytes,
            abuse::an_oversized_message_closes_only_its_sender,
            abuse::a_huge_unauthenticated_frame_is_refused_from_its_header,
            abuse::unauthenticated_sockets_are_capped_per_ip,
            abuse::sockets_are_capped_per_subject_and_in_total,
            abuse::foreign_origins_are_refused,
            abuse::auth_is_first_small_and_valid,
            abuse::bad_room_names_are_refused_before_the_upgrade,
            abuse::a_silent_client_frees_its_seat_and_a_reading_one_stays,
            abuse::a_socket_closes_with_unauthorized_when_its_token_expires,
            abuse::a_flood_of_messages_closes_its_sender,
            replay::amplifying_signals_hold_what_the_bound_counts,
            replay::the_replay_budget_refuses_new_signals_and_keeps_the_stored,
            replay::an_expired_room_gives_its_replay_budget_back,
            replay::a_subject_past_its_replay_share_is_refused_and_others_are_not,
        );
    };
    (@tests $args:expr; $($module:ident :: $name:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $name() {
                $crate::signal_support::$module::$name($args).await;
            }
        )*
    };
}

/// A server with the suite's `args` and this scenario's `extra` flags.
pub async fn start_with(args: &[&str], extra: &[&str]) -> TestServer {
    crate::common::start(&[args, extra].concat()).await
}
