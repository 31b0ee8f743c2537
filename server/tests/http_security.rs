//! The HTTP server and its JWTs under attack, over raw TCP: headers that
//! trickle in, a body that never ends, more connections than the cap, tokens
//! not yet valid or meant for another audience or issuer, and a cross-site
//! POST to the dev outage switch.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

const ENDPOINT: &str = "/api/calls/ice-servers";
const AUDIENCE: &str = "ice-peer-calls";
const ISSUER: &str = "https://auth.example";
/// The flags that make `aud` and `iss` required.
const AUD_ISS: [&str; 4] = ["--jwt-audience", AUDIENCE, "--jwt-issuer", ISSUER];

/// Reads until the server closes the connection (EOF or reset), for at most
/// `limit`; returns what it sent and whether it closed.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> (String, bool) {
    let deadline = tokio::time::Instant::now() + limit;
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&received).into_owned(), false),
            Ok(Ok(0) | Err(_)) => return (String::from_utf8_lossy(&received).into_owned(), true),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
        }
    }
}

/// Sends `bytes` one every `gap` on a new connection while watching for the
/// server to close it; returns the time from connect to close, or `None` if
/// it was still open after `limit`.
async fn trickle(
    addr: SocketAddr,
    bytes: &[u8],
    gap: Duration,
    limit: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let stream = TcpStream::connect(addr).await.expect("connects");
    let (mut reader, mut writer) = stream.into_split();
    let bytes = bytes.to_vec();
    let writing = tokio::spawn(async move {
        for byte in bytes {
            if writer.write_all(&[byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(gap).await;
        }
        // Keep the write half open: closing it would end the request itself.
        std::future::pending::<()>().await;
    });
    let mut buf = [0u8; 1024];
    let closed = tokio::time::timeout(limit, async {
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    writing.abort();
    closed.ok().map(|()| started.elapsed())
}

/// Sends a header block of `n` bytes (request line, Host, filler) one byte
/// every `gap`; returns when the server closed the connection, after
/// printing the figure `what`, and fails if it was still open after `limit`.
async fn slow_headers(
    server: &TestServer,
    n: usize,
    gap: Duration,
    limit: Duration,
    what: &str,
) -> Duration {
    let mut head = b"GET /api/calls/ice-servers HTTP/1.1\r\nHost: x\r\nX-Slow: ".to_vec();
    head.resize(n, b'a');
    let took = trickle(server.addr, &head, gap, limit)
        .await
        .unwrap_or_else(|| panic!("{what}: still open after {limit:?}"));
    println!(
        "FIGURE http header trickle ({what}): closed after {} ms",
        took.as_millis()
    );
    took
}

/// Waits (15 s at most) until a new request is served: a freed slot is
/// counted once the server has seen the close.
async fn served_again(server: &TestServer, why: &str) {
    let client = http();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !client
        .get(server.url(ENDPOINT))
        .send()
        .await
        .is_ok_and(|r| r.status().as_u16() == 401)
    {
        assert!(Instant::now() < deadline, "{why}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn headers_trickling_in_one_byte_a_second_are_cut_off_at_the_default_10_s() {
    let server = start(&["--provider", "embedded"]).await;
    // 40 bytes at one a second: a server that resets its timer on every byte never closes.
    let took = slow_headers(
        &server,
        40,
        Duration::from_secs(1),
        Duration::from_secs(20),
        "1 byte/s, default limit",
    )
    .await;
    assert!(
        took >= Duration::from_secs(9),
        "closed before the 10 s default: {took:?}"
    );
}

#[tokio::test]
async fn the_header_timeout_is_configurable_and_spans_the_whole_head() {
    let server = start(&["--provider", "embedded", "--http-header-timeout-ms", "1000"]).await;
    // One byte every 100 ms, 60 bytes: each gap is short, the whole head is not.
    slow_headers(
        &server,
        60,
        Duration::from_millis(100),
        Duration::from_secs(5),
        "10 bytes/s, 1 s limit",
    )
    .await;
    // An idle keep-alive connection goes too: the next head has the same limit.
    let mut stream = TcpStream::connect(server.addr).await.expect("connects");
    let request = format!("GET {ENDPOINT} HTTP/1.1\r\nHost: x\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        closed,
        "an idle keep-alive connection is closed after the header timeout"
    );
}

#[tokio::test]
async fn a_request_body_that_never_ends_gets_408_and_the_connection_closes() {
    let server = start(&[
        "--provider",
        "embedded",
        "--dev",
        "--http-request-timeout-ms",
        "1000",
    ])
    .await;
    let mut stream = TcpStream::connect(server.addr).await.expect("connects");
    let head = "POST /api/dev/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{";
    stream.write_all(head.as_bytes()).await.expect("write");
    let started = Instant::now();
    // The other 99 bytes never come.
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(8)).await;
    println!(
        "FIGURE http request timeout (1 s limit, body never finished): answered after {} ms",
        started.elapsed().as_millis()
    );
    assert!(
        answer.starts_with("HTTP/1.1 408"),
        "expected a 408: {answer:?}"
    );
    assert!(answer.contains("request timed out"), "{answer}");
    assert!(closed, "the connection closes after the 408");
}

/// A connection to `server` from the loopback address `from`, after one full
/// request and answer: the server has accepted it and holds it open.
async fn held_connection(server: &TestServer, from: IpAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(from, 0))
        .expect("bind a loopback address");
    let mut stream = socket.connect(server.addr).await.expect("connects");
    let request = format!("GET {ENDPOINT} HTTP/1.1\r\nHost: x\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf))
        .await
        .expect("answered")
        .expect("read");
    assert!(buf[..n].starts_with(b"HTTP/1.1 401"));
    stream
}

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

/// Asserts that a new connection (`what`) is closed without an answer.
async fn closed_unanswered(server: &TestServer, what: &str) {
    let mut extra = TcpStream::connect(server.addr)
        .await
        .expect("the kernel accepts");
    let (answer, closed) = read_until_closed(&mut extra, Duration::from_secs(3)).await;
    assert!(
        closed && answer.is_empty(),
        "{what} is closed unanswered: {answer:?}"
    );
}

#[tokio::test]
async fn connections_past_the_cap_are_closed_at_once_and_a_freed_slot_serves_again() {
    let server = start(&["--provider", "embedded", "--http-max-connections", "4"]).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(held_connection(&server, LOCALHOST).await);
    }
    closed_unanswered(&server, "the fifth connection").await;

    drop(held.pop());
    served_again(&server, "a freed slot serves again").await;
}

/// One address cannot hold every slot (the auditor's slowloris: ~100 new
/// connections a second, each held for the 10 s header timeout, kept all
/// 1,024 busy): past 64 of its own it is closed at once, while another
/// address is still served.
#[tokio::test]
async fn one_address_cannot_hold_every_connection_slot() {
    let server = start(&["--provider", "embedded"]).await;
    let mut held = Vec::new();
    for _ in 0..64 {
        held.push(held_connection(&server, LOCALHOST).await);
    }
    closed_unanswered(&server, "a 65th connection from one address").await;
    let other = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    held.push(held_connection(&server, other).await);
    drop(held.swap_remove(0));
    served_again(&server, "a slot given back serves that address again").await;
}

#[tokio::test]
async fn a_websocket_keeps_its_connection_slot_until_it_closes() {
    let server = start(&["--provider", "embedded", "--http-max-connections", "1"]).await;
    let url = format!("ws://{}/api/calls/signal?room=cap", server.addr);
    let (socket, _) = tokio_tungstenite::connect_async(url)
        .await
        .expect("websocket connects");
    let mut extra = TcpStream::connect(server.addr)
        .await
        .expect("the kernel accepts");
    let (_, closed) = read_until_closed(&mut extra, Duration::from_secs(3)).await;
    assert!(closed, "the upgraded socket still holds the only slot");
    drop(socket);
    served_again(&server, "the slot frees when the WebSocket closes").await;
}

#[tokio::test]
async fn a_token_not_yet_valid_is_refused() {
    let server = start(&["--provider", "embedded"]).await;
    let client = http();
    let url = server.url(ENDPOINT);
    let early = sign(
        &json!({ "sub": "alice", "exp": now() + 7200, "nbf": now() + 3600 }),
        JWT_SECRET,
    );
    let (status, _, body) = get(&client, &url, Some(&early)).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(error_message(&body), "token not yet valid");
    let due = sign(
        &json!({ "sub": "alice", "exp": now() + 7200, "nbf": now() - 1 }),
        JWT_SECRET,
    );
    let (status, _, body) = get(&client, &url, Some(&due)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn audience_and_issuer_are_enforced_when_set() {
    let server = start(&[&["--provider", "embedded"], &AUD_ISS[..]].concat()).await;
    let client = http();
    let url = server.url(ENDPOINT);
    let exp = now() + 600;
    let cases = [
        (
            "no aud, no iss",
            json!({ "sub": "a", "exp": exp }),
            "required claim",
        ),
        (
            "no iss",
            json!({ "sub": "a", "exp": exp, "aud": AUDIENCE }),
            "required claim",
        ),
        (
            "another audience",
            json!({ "sub": "a", "exp": exp, "aud": "billing", "iss": ISSUER }),
            "audience",
        ),
        (
            "another issuer",
            json!({ "sub": "a", "exp": exp, "aud": AUDIENCE, "iss": "https://evil.example" }),
            "issuer",
        ),
    ];
    for (name, claims, needle) in cases {
        let (status, _, body) = get(&client, &url, Some(&sign(&claims, JWT_SECRET))).await;
        assert_eq!(status, 401, "{name}: {body}");
        let message = error_message(&body);
        assert!(message.contains(needle), "{name}: {message}");
    }
    for aud in [json!(AUDIENCE), json!(["other", AUDIENCE])] {
        let claims = json!({ "sub": "a", "exp": exp, "aud": aud, "iss": ISSUER });
        let (status, _, body) = get(&client, &url, Some(&sign(&claims, JWT_SECRET))).await;
        assert_eq!(status, 200, "aud {aud}: {body}");
    }
}

#[tokio::test]
async fn dev_tokens_carry_the_configured_audience_and_issuer() {
    let server = start(&[&["--provider", "embedded", "--dev"], &AUD_ISS[..]].concat()).await;
    let client = http();
    let token = &dev_token(&client, &server).await;
    let payload = token.split('.').nth(1).expect("a compact JWT");
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .expect("base64url"),
    )
    .expect("JSON claims");
    assert_eq!(
        (&claims["aud"], &claims["iss"]),
        (&json!(AUDIENCE), &json!(ISSUER))
    );
    let (status, _, body) = get(&client, &server.url(ENDPOINT), Some(token)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn the_outage_switch_needs_a_dev_token() {
    let server = start(&["--provider", "embedded", "--dev"]).await;
    let client = http();
    // What a cross-site form or fetch can send: no Authorization header.
    let forged = client
        .post(server.url("/api/dev/outage?down=true"))
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .expect("answered");
    assert_eq!(forged.status().as_u16(), 401);
    let foreign = sign(&json!({ "sub": "x", "exp": now() + 600 }), JWT_SECRET);
    let res = client
        .post(server.url("/api/dev/outage?down=true"))
        .header("authorization", format!("Bearer {foreign}"))
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status().as_u16(), 401, "a token of another secret");
    assert!(!server.state().outage(), "the switch did not move");

    let token = dev_token(&client, &server).await;
    let res = client
        .post(server.url("/api/dev/outage?down=true"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await
        .expect("answered");
    assert_eq!(res.status().as_u16(), 200);
    assert!(server.state().outage());
}

/// The status line of a raw request to `server` with `Host: host`.
async fn status_for_host(server: &TestServer, method: &str, path: &str, host: &str) -> String {
    let mut stream = TcpStream::connect(server.addr).await.expect("connects");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("write");
    let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    answer.lines().next().unwrap_or_default().to_owned()
}

/// DNS rebinding: a page of another site makes its own name resolve to the
/// machine a --dev server runs on, and its requests then carry that name as
/// Host. --dev mints tokens for anyone who asks, so it answers only requests
/// for an IP address or localhost.
#[tokio::test]
async fn under_dev_a_rebound_host_name_is_refused() {
    let server = start(&["--provider", "embedded", "--dev"]).await;
    let port = server.addr.port();
    for host in [format!("evil.example:{port}"), "evil.example".to_owned()] {
        for (method, path) in [("POST", "/api/dev/token"), ("GET", "/"), ("GET", ENDPOINT)] {
            let status = status_for_host(&server, method, path, &host).await;
            assert!(
                status.starts_with("HTTP/1.1 403"),
                "{method} {path} for {host}: {status}"
            );
        }
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        format!("app.localhost:{port}"),
    ] {
        let status = status_for_host(&server, "POST", "/api/dev/token", &host).await;
        assert!(status.starts_with("HTTP/1.1 200"), "{host}: {status}");
    }
    // Without --dev there is nothing unauthenticated to reach: any name is served.
    let plain = start(&["--provider", "embedded"]).await;
    let status = status_for_host(&plain, "GET", ENDPOINT, "calls.example").await;
    assert!(status.starts_with("HTTP/1.1 401"), "{status}");
}
