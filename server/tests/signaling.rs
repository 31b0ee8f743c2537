//! The signaling WebSocket (`/api/calls/signal`) with a real client against
//! the real router: auth by first message, rooms of two, verbatim relay,
//! typed errors that close nothing else, the size cap and idle expiry.

mod common;

use std::time::Duration;

use common::{now, sign, start, valid_token, TestServer, JWT_SECRET};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What the server sent next: a JSON message, or the close code.
#[derive(Debug, PartialEq)]
enum Frame {
    Json(Value),
    Closed(Option<u16>),
}

async fn open(server: &TestServer, room: &str) -> Socket {
    let url = format!("ws://{}/api/calls/signal?room={room}", server.addr);
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket connects");
    socket
}

async fn send(socket: &mut Socket, value: Value) {
    socket
        .send(Message::text(value.to_string()))
        .await
        .expect("send");
}

async fn next(socket: &mut Socket) -> Frame {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a frame within 5 s");
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

async fn expect_error(socket: &mut Socket, code: &str) {
    match next(socket).await {
        Frame::Json(v) => {
            assert_eq!(v["type"], "error", "{v}");
            assert_eq!(v["code"], code, "{v}");
            assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        }
        other => panic!("expected error {code}, got {other:?}"),
    }
}

async fn joined(server: &TestServer, room: &str, sub: &str) -> (Socket, Value) {
    let mut socket = open(server, room).await;
    send(
        &mut socket,
        json!({ "type": "auth", "token": valid_token(sub) }),
    )
    .await;
    match next(&mut socket).await {
        Frame::Json(v) if v["type"] == "joined" => (socket, v),
        other => panic!("expected joined, got {other:?}"),
    }
}

/// `joined` as expected, returning its resume key.
fn check_joined(hello: &Value, room: &str, peers: u64, initiator: bool, resumed: bool) -> String {
    assert_eq!(hello["type"], "joined", "{hello}");
    assert_eq!(hello["room"], room, "{hello}");
    assert_eq!(hello["peers"], peers, "{hello}");
    assert_eq!(hello["initiator"], initiator, "{hello}");
    assert_eq!(hello["resumed"], resumed, "{hello}");
    let key = hello["resume"].as_str().expect("a resume key").to_owned();
    assert_eq!(key.len(), 32, "{hello}");
    key
}

/// Both parties of `room`, the second told it is the initiator.
async fn pair(server: &TestServer, room: &str) -> (Socket, Socket) {
    let (mut first, hello) = joined(server, room, "alice").await;
    check_joined(&hello, room, 1, false, false);
    let (second, hello) = joined(server, room, "bob").await;
    check_joined(&hello, room, 2, true, false);
    assert_eq!(
        next(&mut first).await,
        Frame::Json(json!({ "type": "peer-joined" }))
    );
    (first, second)
}

#[tokio::test]
async fn relays_signals_verbatim_both_ways() {
    let server = start(&[]).await;
    let (mut a, mut b) = pair(&server, "relay").await;
    let offer = json!({ "type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n" });
    send(&mut b, json!({ "type": "signal", "data": offer })).await;
    assert_eq!(
        next(&mut a).await,
        Frame::Json(json!({ "type": "signal", "data": offer }))
    );
    let candidate = json!({ "type": "candidate", "candidate": { "candidate": "candidate:1 1 udp 1 198.51.100.7 5000 typ host", "sdpMid": "0", "sdpMLineIndex": 0 } });
    send(&mut a, json!({ "type": "signal", "data": candidate })).await;
    assert_eq!(
        next(&mut b).await,
        Frame::Json(json!({ "type": "signal", "data": candidate }))
    );
    send(&mut a, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut a).await, Frame::Json(json!({ "type": "pong" })));
}

#[tokio::test]
async fn auth_is_the_first_message_and_bad_tokens_are_refused() {
    let server = start(&[]).await;
    let expired = sign(&json!({ "sub": "alice", "exp": now() - 60 }), JWT_SECRET);
    let forged = sign(
        &json!({ "sub": "alice", "exp": now() + 600 }),
        "another-secret-0123456789abcdef",
    );
    let cases = [
        json!({ "type": "auth", "token": expired }),
        json!({ "type": "auth", "token": forged }),
        json!({ "type": "auth", "token": "not.a.jwt" }),
        json!({ "type": "auth" }),
        json!({ "type": "signal", "data": { "type": "offer", "sdp": "x" } }),
    ];
    for first in cases {
        let mut socket = open(&server, "auth").await;
        send(&mut socket, first.clone()).await;
        expect_error(&mut socket, "unauthorized").await;
        assert_eq!(
            next(&mut socket).await,
            Frame::Closed(Some(4401)),
            "{first}"
        );
    }
    assert!(server.state().signal.is_empty(), "nobody joined");
}

#[tokio::test]
async fn a_third_party_gets_room_full_and_the_two_stay_connected() {
    let server = start(&[]).await;
    let (mut a, mut b) = pair(&server, "full").await;
    let mut third = open(&server, "full").await;
    send(
        &mut third,
        json!({ "type": "auth", "token": valid_token("carol") }),
    )
    .await;
    expect_error(&mut third, "room-full").await;
    assert_eq!(next(&mut third).await, Frame::Closed(Some(4409)));
    send(
        &mut a,
        json!({ "type": "signal", "data": { "type": "answer", "sdp": "s" } }),
    )
    .await;
    assert_eq!(
        next(&mut b).await,
        Frame::Json(json!({ "type": "signal", "data": { "type": "answer", "sdp": "s" } }))
    );
}

#[tokio::test]
async fn bad_messages_get_typed_errors_and_close_nothing() {
    let server = start(&[]).await;
    let (mut alone, _) = joined(&server, "lonely", "alice").await;
    send(
        &mut alone,
        json!({ "type": "signal", "data": { "type": "offer", "sdp": "x" } }),
    )
    .await;
    expect_error(&mut alone, "no-peer").await;

    let (mut a, mut b) = pair(&server, "bad").await;
    a.send(Message::text("{not json")).await.expect("send");
    expect_error(&mut a, "bad-message").await;
    for bad in [
        json!({ "type": "shout" }),
        json!({ "type": "signal" }),
        json!({ "type": "signal", "data": "offer" }),
        json!({ "type": "signal", "data": { "sdp": "no type" } }),
        json!([1, 2]),
    ] {
        send(&mut a, bad.clone()).await;
        expect_error(&mut a, "bad-message").await;
    }
    a.send(Message::binary(vec![1, 2, 3])).await.expect("send");
    expect_error(&mut a, "bad-message").await;
    // Still connected both ways.
    send(
        &mut a,
        json!({ "type": "signal", "data": { "type": "answer", "sdp": "ok" } }),
    )
    .await;
    assert_eq!(
        next(&mut b).await,
        Frame::Json(json!({ "type": "signal", "data": { "type": "answer", "sdp": "ok" } }))
    );
}

#[tokio::test]
async fn an_oversized_message_closes_only_its_sender() {
    let server = start(&[]).await;
    let (mut a, mut b) = pair(&server, "big").await;
    let sdp = "a".repeat(64 * 1024);
    send(
        &mut a,
        json!({ "type": "signal", "data": { "type": "offer", "sdp": sdp } }),
    )
    .await;
    expect_error(&mut a, "too-large").await;
    assert_eq!(next(&mut a).await, Frame::Closed(Some(1009)));
    assert_eq!(
        next(&mut b).await,
        Frame::Json(json!({ "type": "peer-left" }))
    );
    // Just under the cap is relayed.
    let (mut c, mut d) = pair(&server, "big2").await;
    let data = json!({ "type": "offer", "sdp": "a".repeat(60 * 1024) });
    send(&mut c, json!({ "type": "signal", "data": data })).await;
    assert_eq!(
        next(&mut d).await,
        Frame::Json(json!({ "type": "signal", "data": data }))
    );
}

#[tokio::test]
async fn leaving_tells_the_other_party_and_frees_the_room() {
    let server = start(&[]).await;
    let (mut a, b) = pair(&server, "leave").await;
    drop(b);
    assert_eq!(
        next(&mut a).await,
        Frame::Json(json!({ "type": "peer-left" }))
    );
    // The room has a free seat again.
    let (_c, hello) = joined(&server, "leave", "carol").await;
    check_joined(&hello, "leave", 2, true, false);
    drop(a);
    drop(_c);
    for _ in 0..50 {
        if server.state().signal.is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the room was not removed after both left");
}

#[tokio::test]
async fn idle_rooms_expire_and_activity_keeps_them() {
    let server = start(&["--signal-idle-secs", "1"]).await;
    let (mut a, mut b) = pair(&server, "idle").await;
    // Pings every 300 ms keep the room for 1.5 s...
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        send(&mut a, json!({ "type": "ping" })).await;
        assert_eq!(next(&mut a).await, Frame::Json(json!({ "type": "pong" })));
    }
    // ...then silence expires it on both sockets.
    expect_error(&mut a, "room-expired").await;
    assert_eq!(next(&mut a).await, Frame::Closed(Some(4410)));
    expect_error(&mut b, "room-expired").await;
    assert_eq!(next(&mut b).await, Frame::Closed(Some(4410)));
    assert!(server.state().signal.is_empty());
}

#[tokio::test]
async fn bad_room_names_are_refused_before_the_upgrade() {
    let server = start(&[]).await;
    for query in ["", "?room=", "?room=a%20b", "?room=a/b"] {
        let url = format!("ws://{}/api/calls/signal{query}", server.addr);
        let error = tokio_tungstenite::connect_async(url)
            .await
            .expect_err("no upgrade");
        assert!(error.to_string().contains("400"), "{query}: {error}");
    }
}

#[tokio::test]
async fn a_silent_socket_is_closed_after_the_auth_timeout() {
    // The real 10 s wait: the server's clock is not ours to pause.
    let server = start(&[]).await;
    let mut socket = open(&server, "silent").await;
    let started = std::time::Instant::now();
    let frame = tokio::time::timeout(Duration::from_secs(15), socket.next())
        .await
        .expect("closed within 15 s");
    let text = match frame {
        Some(Ok(Message::Text(t))) => t.to_string(),
        other => panic!("expected the auth-timeout error, got {other:?}"),
    };
    assert!(text.contains("auth-timeout"), "{text}");
    assert_eq!(next(&mut socket).await, Frame::Closed(Some(4408)));
    assert!(started.elapsed() >= Duration::from_secs(9));
}

#[tokio::test]
async fn a_party_whose_socket_died_resumes_its_seat_and_role() {
    let server = start(&[]).await;
    let (mut a, hello) = joined(&server, "resume", "alice").await;
    let key = check_joined(&hello, "resume", 1, false, false);
    let (mut b, _) = joined(&server, "resume", "bob").await;
    assert_eq!(
        next(&mut a).await,
        Frame::Json(json!({ "type": "peer-joined" }))
    );
    // The room is full; a wrong key, or the right key with another subject's token, gets no seat.
    for (sub, resume) in [("alice", "0".repeat(32)), ("mallory", key.clone())] {
        let mut stranger = open(&server, "resume").await;
        send(
            &mut stranger,
            json!({ "type": "auth", "token": valid_token(sub), "resume": resume }),
        )
        .await;
        expect_error(&mut stranger, "room-full").await;
    }
    // alice comes back on a new socket (her old one is still open, as a dead one would be).
    let mut again = open(&server, "resume").await;
    send(
        &mut again,
        json!({ "type": "auth", "token": valid_token("alice"), "resume": key }),
    )
    .await;
    let hello = match next(&mut again).await {
        Frame::Json(v) => v,
        other => panic!("expected joined, got {other:?}"),
    };
    assert_eq!(
        check_joined(&hello, "resume", 2, false, true),
        key,
        "same key, same role"
    );
    assert_eq!(
        next(&mut b).await,
        Frame::Json(json!({ "type": "peer-resumed" }))
    );
    // The old socket is told it was replaced; bob hears no peer-left for it.
    expect_error(&mut a, "replaced").await;
    assert_eq!(next(&mut a).await, Frame::Closed(Some(4000)));
    // Signals reach the new socket, both ways.
    send(
        &mut b,
        json!({ "type": "signal", "data": { "type": "offer", "sdp": "restart" } }),
    )
    .await;
    assert_eq!(
        next(&mut again).await,
        Frame::Json(json!({ "type": "signal", "data": { "type": "offer", "sdp": "restart" } }))
    );
    send(
        &mut again,
        json!({ "type": "signal", "data": { "type": "answer", "sdp": "ok" } }),
    )
    .await;
    assert_eq!(
        next(&mut b).await,
        Frame::Json(json!({ "type": "signal", "data": { "type": "answer", "sdp": "ok" } }))
    );
}
