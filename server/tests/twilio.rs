//! The Twilio provider against a local stub that follows Twilio's published shapes
//! (tests/fixtures/twilio, copied from the shared fixtures): mapping, single-flight caching and failures.

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use common::*;

const SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const AUTH_TOKEN: &str = "twilio-auth-token-do-not-leak";
const ENDPOINT: &str = "/api/calls/ice-servers";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    Ok,
    Unauthorized,
    ServerError,
    Slow,
    Garbage,
    /// The published 201 body with a ttl no Instant can hold.
    HugeTtl,
}

struct Stub {
    mode: Mutex<Mode>,
    requests: AtomicUsize,
    last_form: Mutex<String>,
}

impl Stub {
    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap_or_else(|e| e.into_inner()) = mode;
    }
    fn count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn fixture(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/twilio")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

async fn tokens(State(stub): State<Arc<Stub>>, headers: HeaderMap, body: Bytes) -> Response {
    stub.requests.fetch_add(1, Ordering::SeqCst);
    *stub.last_form.lock().unwrap_or_else(|e| e.into_inner()) =
        String::from_utf8_lossy(&body).into_owned();
    let expected = format!("Basic {}", STANDARD.encode(format!("{SID}:{AUTH_TOKEN}")));
    let json = [("content-type", "application/json")];
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(expected.as_str()) {
        return (StatusCode::UNAUTHORIZED, json, fixture("error-401.json")).into_response();
    }
    let mode = *stub.mode.lock().unwrap_or_else(|e| e.into_inner());
    match mode {
        Mode::Ok => {
            // Slow enough that concurrent callers overlap.
            tokio::time::sleep(Duration::from_millis(300)).await;
            (StatusCode::CREATED, json, fixture("tokens-201.json")).into_response()
        }
        Mode::Unauthorized => {
            // Same shape as Twilio's error body, with the token echoed to prove we scrub it.
            let body = fixture("error-401.json").replace("Authenticate", &format!("Authenticate {AUTH_TOKEN}"));
            (StatusCode::UNAUTHORIZED, json, body).into_response()
        }
        Mode::ServerError => (StatusCode::INTERNAL_SERVER_ERROR, json, r#"{"code":20500,"message":"Internal Server Error","more_info":"https://www.twilio.com/docs/errors/20500","status":500}"#).into_response(),
        Mode::Slow => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            (StatusCode::CREATED, json, fixture("tokens-201.json")).into_response()
        }
        Mode::Garbage => (StatusCode::CREATED, json, "<html>not json").into_response(),
        Mode::HugeTtl => {
            let body = fixture("tokens-201.json")
                .replace(r#""ttl": "86400""#, r#""ttl": "18446744073709551615""#);
            (StatusCode::CREATED, json, body).into_response()
        }
    }
}

async fn stub(mode: Mode) -> (SocketAddr, Arc<Stub>) {
    let state = Arc::new(Stub {
        mode: Mutex::new(mode),
        requests: AtomicUsize::new(0),
        last_form: Mutex::new(String::new()),
    });
    let app = Router::new()
        .route("/2010-04-01/Accounts/{sid}/Tokens.json", post(tokens))
        .with_state(Arc::clone(&state));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind stub");
    let addr = listener.local_addr().expect("stub addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, state)
}

async fn server_for(stub_addr: SocketAddr, token: &str) -> TestServer {
    let base = format!("http://{stub_addr}");
    start(&[
        "--provider",
        "twilio",
        "--twilio-account-sid",
        SID,
        "--twilio-auth-token",
        token,
        "--twilio-base-url",
        &base,
        "--twilio-timeout-ms",
        "500",
        "--credential-ttl",
        "3600",
    ])
    .await
}

#[tokio::test]
async fn maps_twilio_tokens_into_the_envelope() {
    let (addr, stub) = stub(Mode::Ok).await;
    let server = server_for(addr, AUTH_TOKEN).await;
    let (status, _, body) = get(&http(), &server.url(ENDPOINT), Some(&valid_token("alice"))).await;
    assert_eq!(status, 200, "{body}");
    let data = data(&body);
    let ttl = data["ttl"].as_u64().expect("numeric ttl");
    assert!((86_390..=86_400).contains(&ttl), "{ttl}");
    let servers = data["iceServers"].as_array().expect("array");
    assert_eq!(servers.len(), 4);
    assert_eq!(
        servers[0]["urls"][0],
        "stun:global.stun.twilio.com:3478?transport=udp"
    );
    assert_eq!(
        servers[2]["url"],
        "turn:global.turn.twilio.com:3478?transport=tcp"
    );
    assert_eq!(servers[2]["credential"], "tE2DajzSJwnsSbc123");
    assert_eq!(
        *stub.last_form.lock().unwrap_or_else(|e| e.into_inner()),
        "Ttl=3600"
    );
    assert!(!body.to_string().contains(AUTH_TOKEN));
}

#[tokio::test]
async fn concurrent_requests_share_one_upstream_request() {
    let (addr, stub) = stub(Mode::Ok).await;
    let server = server_for(addr, AUTH_TOKEN).await;
    let client = http();
    let url = server.url(ENDPOINT);
    let token = valid_token("alice");
    let requests = (0..25).map(|_| get(&client, &url, Some(&token)));
    let results = futures_util::future::join_all(requests).await;
    for (status, _, body) in &results {
        assert_eq!(*status, 200, "{body}");
        assert_eq!(data(body)["iceServers"].as_array().map(Vec::len), Some(4));
    }
    assert_eq!(
        stub.count(),
        1,
        "25 concurrent callers, one upstream request"
    );
    // Fresh: served from the cache, still one upstream request.
    let (status, _, _) = get(&client, &url, Some(&valid_token("bob"))).await;
    assert_eq!(status, 200);
    assert_eq!(stub.count(), 1);
}

async fn assert_502(mode: Mode, token: &str, needle: &str) -> Arc<Stub> {
    let (addr, stub) = stub(mode).await;
    let server = server_for(addr, token).await;
    let started = Instant::now();
    let (status, _, body) = get(&http(), &server.url(ENDPOINT), Some(&valid_token("alice"))).await;
    assert_eq!(status, 502, "{mode:?}: {body}");
    let message = error_message(&body);
    assert!(message.contains(needle), "{mode:?}: {message}");
    assert!(
        !body.to_string().contains(AUTH_TOKEN),
        "{mode:?} leaked the token: {body}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{mode:?} took {:?}",
        started.elapsed()
    );
    stub
}

#[tokio::test]
async fn twilio_401_error_body() {
    assert_502(
        Mode::Unauthorized,
        AUTH_TOKEN,
        "HTTP 401: error 20003 Authenticate",
    )
    .await;
}

#[tokio::test]
async fn wrong_credentials_get_the_published_401() {
    assert_502(Mode::Ok, "some-other-token", "error 20003").await;
}

#[tokio::test]
async fn twilio_500() {
    assert_502(Mode::ServerError, AUTH_TOKEN, "HTTP 500").await;
}

#[tokio::test]
async fn twilio_timeout() {
    assert_502(Mode::Slow, AUTH_TOKEN, "timed out").await;
}

#[tokio::test]
async fn twilio_garbage() {
    assert_502(Mode::Garbage, AUTH_TOKEN, "unexpected body").await;
}

#[tokio::test]
async fn twilio_unreachable() {
    // A port that was just free: nothing listens there.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let server = server_for(addr, AUTH_TOKEN).await;
    let (status, _, body) = get(&http(), &server.url(ENDPOINT), Some(&valid_token("a"))).await;
    assert_eq!(status, 502, "{body}");
    error_message(&body);
}

#[tokio::test]
async fn failures_are_not_cached() {
    let (addr, stub) = stub(Mode::ServerError).await;
    let server = server_for(addr, AUTH_TOKEN).await;
    let client = http();
    let url = server.url(ENDPOINT);
    let token = valid_token("a");
    assert_eq!(get(&client, &url, Some(&token)).await.0, 502);
    stub.set(Mode::Ok);
    assert_eq!(get(&client, &url, Some(&token)).await.0, 200);
    assert_eq!(stub.count(), 2);
}

/// A ttl beyond what Twilio ever grants is capped at its maximum (86400 s):
/// it used to overflow the expiry's arithmetic inside the shared fetch, and
/// every later request got "upstream request aborted" until a restart.
#[tokio::test]
async fn an_absurd_ttl_is_capped_and_the_provider_keeps_working() {
    let (addr, stub) = stub(Mode::HugeTtl).await;
    let server = server_for(addr, AUTH_TOKEN).await;
    let client = http();
    let url = server.url(ENDPOINT);
    let token = valid_token("a");
    let (status, _, body) = get(&client, &url, Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    let ttl = data(&body)["ttl"].as_u64().expect("numeric ttl");
    assert!(ttl <= 86_400, "ttl {ttl}");
    // And the provider still answers afterwards (from its cache).
    stub.set(Mode::Ok);
    assert_eq!(get(&client, &url, Some(&token)).await.0, 200);
}
