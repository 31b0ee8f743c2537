//! Shared helpers: an in-process server on ephemeral loopback ports, tokens, HTTP.
#![allow(dead_code)]

pub mod redis_server;
pub mod replica;

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use ice_peer_server::app::Server;
use ice_peer_server::cli::Cli;
use ice_peer_server::config::Config;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tokio::sync::oneshot;

/// 32 bytes: the shortest secret the server accepts.
pub const JWT_SECRET: &str = "test-jwt-secret-0123456789abcdef";

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    state: std::sync::Arc<ice_peer_server::state::AppState>,
    pub turn_addr: Option<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
}

impl TestServer {
    /// The running server's shared state.
    pub fn state(&self) -> &ice_peer_server::state::AppState {
        &self.state
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts a server with `--listen 127.0.0.1:0 --turn-listen 127.0.0.1:0` plus
/// `args`, and `--jwt-secret JWT_SECRET` unless `args` has `--dev` (which
/// refuses a given secret and makes its own).
pub async fn start(args: &[&str]) -> TestServer {
    let mut argv = vec![
        "ice-peer-server",
        "--listen",
        "127.0.0.1:0",
        "--turn-listen",
        "127.0.0.1:0",
    ];
    if !args.contains(&"--dev") {
        argv.extend_from_slice(&["--jwt-secret", JWT_SECRET]);
    }
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).expect("test flags parse");
    let config = Config::from_cli(cli).expect("test config is valid");
    let server = Server::bind(config).await.expect("server binds");
    let (addr, turn_addr, state) = (server.local_addr(), server.turn_addr(), server.state());
    let (tx, rx) = oneshot::channel();
    tokio::spawn(server.serve(async {
        let _ = rx.await;
    }));
    TestServer {
        addr,
        state,
        turn_addr,
        stop: Some(tx),
    }
}

pub fn now() -> u64 {
    ice_peer_server::auth::unix_now()
}

/// An HS256 token over arbitrary claims.
pub fn sign(claims: &Value, secret: &str) -> String {
    sign_alg(claims, secret, Algorithm::HS256)
}

pub fn sign_alg(claims: &Value, secret: &str, alg: Algorithm) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("signing works")
}

pub fn valid_token(sub: &str) -> String {
    sign(&json!({ "sub": sub, "exp": now() + 600 }), JWT_SECRET)
}

pub fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client builds")
}

/// GET `path` with an optional bearer token; returns status, headers and JSON body (Null if none).
pub async fn get(
    client: &reqwest::Client,
    url: &str,
    token: Option<&str>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = client.get(url);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let res = req.send().await.expect("request is answered");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let text = res.text().await.expect("body is read");
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (status, headers, body)
}

/// Asserts the error envelope and returns its message.
pub fn error_message(body: &Value) -> String {
    assert_eq!(body["success"], false, "{body}");
    assert!(body.get("data").is_none(), "{body}");
    body["error"]
        .as_str()
        .expect("error is a string")
        .to_owned()
}

/// Asserts the success envelope and returns `data`.
pub fn data(body: &Value) -> &Value {
    assert_eq!(body["success"], true, "{body}");
    let data = &body["data"];
    let servers = data["iceServers"]
        .as_array()
        .expect("iceServers is an array");
    assert!(!servers.is_empty(), "{body}");
    for s in servers {
        let urls = s["urls"].as_array().expect("urls is an array");
        assert!(!urls.is_empty());
        assert_eq!(s["url"], urls[0], "legacy url is the first URL");
    }
    assert!(data["ttl"].is_u64(), "ttl is numeric: {body}");
    data
}

/// A token from a `--dev` server's `POST /api/dev/token` (for `demo-user`).
pub async fn dev_token(client: &reqwest::Client, server: &TestServer) -> String {
    let body: Value = client
        .post(server.url("/api/dev/token"))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("JSON");
    body["token"].as_str().expect("a token").to_owned()
}
