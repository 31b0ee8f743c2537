//! The attacks of issue 16, each over real sockets: a consumer that never
//! reads, oversized frames before and after auth, socket floods, foreign
//! origins, and the auth matrix.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use super::*;
use crate::common::{now, sign, JWT_SECRET};

/// This process's resident memory in MiB (the server runs in it).
fn rss_mib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb / 1024)
}

pub async fn a_consumer_that_does_not_read_is_closed_with_bounded_memory(args: &[&str]) {
    const MAX_SIGNALS: u64 = 2_000; // 120 MB if nothing bounded them
    let server = start_with(args, &[]).await;
    let (room, mut alice, bob, _, _) = pair(&server).await;
    let _ = room;
    let before = rss_mib();
    let mut peak = before;
    let started = Instant::now();
    // Bob sends 60 KB signals (reading his acks); Alice reads nothing.
    let (mut bob_tx, mut bob_rx) = bob.split();
    let big = "x".repeat(60 * 1000);
    let mut sent = 0;
    let mut kicked_after = None;
    while sent < MAX_SIGNALS && started.elapsed() < Duration::from_secs(60) {
        sent += 1;
        let message = signal(sent, json!({ "type": "offer", "sdp": big }));
        futures_util::SinkExt::send(
            &mut bob_tx,
            tokio_tungstenite::tungstenite::Message::text(message.to_string()),
        )
        .await
        .expect("bob sends");
        // Drain what Bob has been told; peer-left means Alice was closed.
        while let Ok(Some(Ok(frame))) =
            tokio::time::timeout(Duration::from_millis(1), bob_rx.next()).await
        {
            let text = frame.into_text().unwrap_or_default();
            if text.contains("peer-left") {
                kicked_after = Some(sent);
            }
        }
        peak = peak.max(rss_mib());
        if kicked_after.is_some() {
            break;
        }
    }
    eprintln!(
        "FIGURE slow-consumer: closed after {kicked_after:?} of {sent} 60 KB signals; \
         RSS {before} MiB before, {peak} MiB at most (whole test process)"
    );
    let kicked = kicked_after.expect("the consumer that never reads is closed");
    assert!(kicked < MAX_SIGNALS);
    // Alice now reads: what was already on its way, then the typed close.
    let mut signals = 0;
    let code = loop {
        match next_within(&mut alice, Duration::from_secs(10)).await {
            Frame::Json(v) if v["type"] == "signal" => signals += 1,
            Frame::Json(v) if v["type"] == "error" => {
                assert_eq!(v["code"], "slow-consumer", "{v}");
                break next(&mut alice).await;
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(code, Frame::Closed(Some(4429)), "after {signals} signals");
    // Her seat was kept: a fresh auth takes it (her replay overflowed, so
    // a resume would be refused), and Bob is told to start over.
    let (_again, hello) = join(&server, &room, "alice").await;
    assert_eq!(hello["peer"], "bob");
}

pub async fn an_oversized_message_closes_only_its_sender(args: &[&str]) {
    let server = start_with(args, &[]).await;
    let (_, mut a, mut b, _, _) = pair(&server).await;
    let sdp = "a".repeat(64 * 1024);
    send(&mut a, signal(1, json!({ "type": "offer", "sdp": sdp }))).await;
    expect_close(&mut a, "too-large", 1009).await;
    expect_event(&mut b, "peer-left", "alice").await;
    // Just under the cap is relayed.
    let (_, mut c, mut d, _, _) = pair(&server).await;
    let data = json!({ "type": "offer", "sdp": "a".repeat(60 * 1024) });
    send_acked(&mut c, 1, data.clone()).await;
    expect_signal(&mut d, 1, data).await;
}

/// Upgrades a raw TCP connection by hand; returns it after the 101.
async fn raw_upgrade(server: &TestServer, room: &str) -> TcpStream {
    let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
    let request = format!(
        "GET /api/calls/signal?room={room} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\n\
         Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Sec-WebSocket-Version: 13\r\n\r\n",
        server.addr
    );
    tcp.write_all(request.as_bytes()).await.expect("write");
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        tcp.read_exact(&mut byte).await.expect("response head");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    tcp
}

pub async fn a_huge_unauthenticated_frame_is_refused_from_its_header(args: &[&str]) {
    let server = start_with(args, &[]).await;
    let mut tcp = raw_upgrade(&server, "huge").await;
    // A masked text frame that announces 1 MiB; only 1 KiB of it follows.
    let mut frame = vec![0x81, 0x80 | 127];
    frame.extend_from_slice(&(1024u64 * 1024).to_be_bytes());
    frame.extend_from_slice(&[1, 2, 3, 4]);
    frame.extend_from_slice(&[b'x' ^ 1; 1024]);
    tcp.write_all(&frame).await.expect("write");
    // The server answers at once instead of waiting for the other 1023 KiB.
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(3), async {
        let mut chunk = [0u8; 512];
        while let Ok(n) = tcp.read(&mut chunk).await {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&chunk[..n]);
        }
    })
    .await;
    assert!(
        read.is_ok(),
        "the server kept the socket open, buffering the frame"
    );
    let text = String::from_utf8_lossy(&answer);
    assert!(text.contains("too-large"), "{text}");
}

pub async fn unauthenticated_sockets_are_capped_per_ip(args: &[&str]) {
    let server = start_with(args, &["--max-unauthenticated-per-ip", "4"]).await;
    let room = create_room(&server, "alice", "bob").await;
    let mut silent = Vec::new();
    for _ in 0..4 {
        silent.push(open(&server, &room).await);
    }
    let url = format!("ws://{}/api/calls/signal?room={room}", server.addr);
    let refused = tokio_tungstenite::connect_async(url.clone())
        .await
        .expect_err("a fifth unauthenticated socket is refused");
    assert!(refused.to_string().contains("429"), "{refused}");
    // One of them authenticates: its place is free again.
    send(
        &mut silent[0],
        json!({ "type": "auth", "token": crate::common::valid_token("alice") }),
    )
    .await;
    assert!(matches!(next(&mut silent[0]).await, Frame::Json(v) if v["type"] == "joined"));
    let (_fifth, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("admitted");
}

pub async fn sockets_are_capped_per_subject_and_in_total(args: &[&str]) {
    let caps = [
        "--max-signal-sockets-per-user",
        "2",
        "--max-signal-sockets",
        "3",
    ];
    let server = start_with(args, &caps).await;
    let rooms = [
        create_room(&server, "alice", "bob").await,
        create_room(&server, "alice", "carol").await,
        create_room(&server, "alice", "dave").await,
    ];
    let (_a1, _) = join(&server, &rooms[0], "alice").await;
    let (_a2, _) = join(&server, &rooms[1], "alice").await;
    let mut third = auth(&server, &rooms[2], "alice", json!({})).await;
    expect_close(&mut third, "too-many-connections", 1013).await;
    eventually("the refused socket is released", async || {
        server.state().signal.limits.total() == 2
    })
    .await;
    let (_b, _) = join(&server, &rooms[0], "bob").await;
    let url = format!("ws://{}/api/calls/signal?room={}", server.addr, rooms[2]);
    let refused = tokio_tungstenite::connect_async(url)
        .await
        .expect_err("a fourth socket is refused");
    assert!(refused.to_string().contains("503"), "{refused}");
}

pub async fn foreign_origins_are_refused(args: &[&str]) {
    let listed = "https://app.example.com";
    let server = start_with(args, &["--cors-origin", listed]).await;
    let own = format!("http://{}", server.addr);
    let url = format!("ws://{}/api/calls/signal?room=r", server.addr);
    for (origin, allowed) in [
        (Some("https://evil.example"), false),
        (Some("null"), false),
        (Some(own.as_str()), true),
        (Some(listed), true),
        (None, true),
    ] {
        let mut request = url.as_str().into_client_request().expect("request");
        if let Some(origin) = origin {
            let value = HeaderValue::from_str(origin).expect("header");
            request.headers_mut().insert("origin", value);
        }
        let result = tokio_tungstenite::connect_async(request).await;
        match (result, allowed) {
            (Ok(_), true) => {}
            (Err(e), false) => assert!(e.to_string().contains("403"), "{origin:?}: {e}"),
            (result, _) => panic!("{origin:?}: {:?}", result.map(|_| "upgraded")),
        }
    }
}

pub async fn auth_is_first_small_and_valid(args: &[&str]) {
    let server = start_with(args, &[]).await;
    let room = create_room(&server, "alice", "bob").await;
    let expired = sign(&json!({ "sub": "alice", "exp": now() - 60 }), JWT_SECRET);
    let forged = sign(
        &json!({ "sub": "alice", "exp": now() + 600 }),
        "another-secret-0123456789abcdef",
    );
    for first in [
        json!({ "type": "auth", "token": expired }),
        json!({ "type": "auth", "token": forged }),
        json!({ "type": "auth", "token": "not.a.jwt" }),
        json!({ "type": "auth" }),
        json!({ "type": "signal", "seq": 1, "data": { "type": "offer", "sdp": "x" } }),
    ] {
        let mut socket = open(&server, &room).await;
        send(&mut socket, first).await;
        expect_close(&mut socket, "unauthorized", 4401).await;
    }
    // An auth message above 4 KiB.
    let mut socket = open(&server, &room).await;
    let token = crate::common::valid_token("alice");
    send(
        &mut socket,
        json!({ "type": "auth", "token": token, "pad": "x".repeat(5000) }),
    )
    .await;
    expect_close(&mut socket, "too-large", 1009).await;
    // Silence: the real 10 s wait (the server's clock is not ours to pause).
    let mut socket = open(&server, &room).await;
    let started = Instant::now();
    match next_within(&mut socket, Duration::from_secs(15)).await {
        Frame::Json(v) => assert_eq!(v["code"], "auth-timeout", "{v}"),
        other => panic!("expected auth-timeout, got {other:?}"),
    }
    assert_eq!(next(&mut socket).await, Frame::Closed(Some(4408)));
    assert!(started.elapsed() >= Duration::from_secs(9));
}

pub async fn bad_room_names_are_refused_before_the_upgrade(args: &[&str]) {
    let server = start_with(args, &[]).await;
    for query in ["", "?room=", "?room=a%20b", "?room=a/b"] {
        let url = format!("ws://{}/api/calls/signal{query}", server.addr);
        let error = tokio_tungstenite::connect_async(url)
            .await
            .expect_err("no upgrade");
        assert!(error.to_string().contains("400"), "{query}: {error}");
    }
}

pub async fn a_silent_client_frees_its_seat_and_a_reading_one_stays(args: &[&str]) {
    let server = start_with(args, &["--signal-silence-secs", "3"]).await;
    let (room, alice, mut bob, _, _) = pair(&server).await;
    // Alice's network dies: her socket stays open but nothing answers.
    // Bob only reads, so his client answers the server's pings.
    let started = Instant::now();
    assert_eq!(
        next_within(&mut bob, Duration::from_secs(10)).await,
        Frame::Json(json!({ "type": "peer-left", "peer": "alice" }))
    );
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Her seat is free for a fresh auth (a reload that lost the key).
    let (_again, hello) = join(&server, &room, "alice").await;
    assert_eq!(hello["resumed"], false);
    expect_event(&mut bob, "peer-joined", "alice").await;
    drop(alice);
}

pub async fn a_socket_closes_with_unauthorized_when_its_token_expires(args: &[&str]) {
    /// The verifier's leeway: a token is accepted until `exp` plus this.
    const LEEWAY_SECS: u64 = 5;
    let server = start_with(args, &[]).await;
    let room = create_room(&server, "alice", "bob").await;
    let exp = now() + 2;
    let token = sign(&json!({ "sub": "alice", "exp": exp }), JWT_SECRET);
    let mut socket = open(&server, &room).await;
    send(&mut socket, json!({ "type": "auth", "token": token })).await;
    let key = match next(&mut socket).await {
        Frame::Json(v) if v["type"] == "joined" => v["resume"].as_str().unwrap_or("").to_owned(),
        other => panic!("expected joined, got {other:?}"),
    };
    // Open while the token is accepted: pinging all along (as a client
    // that holds its seat would), until a second before exp + the leeway.
    while now() < exp + LEEWAY_SECS - 1 {
        send(&mut socket, json!({ "type": "ping" })).await;
        assert_eq!(
            next(&mut socket).await,
            Frame::Json(json!({ "type": "pong" })),
            "{} s after exp",
            now() as i64 - exp as i64
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // Then closed, without a message from the client.
    match next_within(&mut socket, Duration::from_secs(5)).await {
        Frame::Json(v) => assert_eq!(v["code"], "unauthorized", "{v}"),
        other => panic!("expected unauthorized, got {other:?}"),
    }
    assert!(
        now() >= exp + LEEWAY_SECS - 1,
        "{} s after exp",
        now() - exp
    );
    assert_eq!(next(&mut socket).await, Frame::Closed(Some(4401)));
    // The seat was kept: a fresh token resumes it.
    let mut again = resume(&server, &room, "alice", &key, 0).await;
    assert!(matches!(next(&mut again).await, Frame::Json(v) if v["resumed"] == true));
}

/// Every message costs the registry a call (with Redis, one on the instance
/// every replica shares), and an ack costs one without a reply, so reading
/// nothing does not slow a flood of them down: a socket sending faster than
/// its rate is closed with rate-limited, its seat kept, while a lively client
/// and the other party are served.
pub async fn a_flood_of_messages_closes_its_sender(args: &[&str]) {
    const FLOOD: usize = 5_000;
    let server = start_with(args, &[]).await;
    let (room, mut alice, mut bob, alice_key, _) = pair(&server).await;
    // Lively: a ping every 20 ms for a second.
    for _ in 0..50 {
        send(&mut bob, json!({ "type": "ping" })).await;
        assert_eq!(next(&mut bob).await, Frame::Json(json!({ "type": "pong" })));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A flood of acks, as fast as the socket takes them.
    let ack = Message::text(json!({ "type": "ack", "seq": 0 }).to_string());
    let mut sent = 0;
    while sent < FLOOD && alice.send(ack.clone()).await.is_ok() {
        sent += 1;
    }
    eprintln!("FIGURE signaling rate: {sent} of {FLOOD} acks sent before the close");
    expect_close(&mut alice, "rate-limited", 1008).await;
    // Bob is still served (he hears that Alice's socket went first), and
    // Alice's seat is hers to resume.
    send(&mut bob, json!({ "type": "ping" })).await;
    expect_event(&mut bob, "peer-left", "alice").await;
    assert_eq!(next(&mut bob).await, Frame::Json(json!({ "type": "pong" })));
    let mut again = resume(&server, &room, "alice", &alice_key, 0).await;
    match next(&mut again).await {
        Frame::Json(v) => assert_eq!(v["resumed"], true, "{v}"),
        other => panic!("expected joined, got {other:?}"),
    }
}
