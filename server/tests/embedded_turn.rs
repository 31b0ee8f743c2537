//! The embedded TURN server, checked with webrtc-rs's TURN client and with
//! coturn's `turnutils_uclient` (a client we did not write).

mod common;

use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use ice_peer_server::providers::turn_rest;
use ice_peer_server::secret::Secret;
use tokio::net::UdpSocket;
use turn::client::{Client, ClientConfig};
use webrtc_util::Conn;

const TURN_SECRET: &str = "north-star";

/// A server whose relays may reach loopback peers: the tests' peers (and
/// coturn's client-to-client mode) are on 127.0.0.1.
async fn turn_server() -> (TestServer, SocketAddr) {
    turn_server_with(&[]).await
}

/// [`turn_server`] with `extra` flags.
async fn turn_server_with(extra: &[&str]) -> (TestServer, SocketAddr) {
    let mut args = vec![
        "--provider",
        "embedded",
        "--turn-secret",
        TURN_SECRET,
        "--turn-allow-peer",
        "127.0.0.0/8",
    ];
    args.extend_from_slice(extra);
    let server = start(&args).await;
    let addr = server.turn_addr.expect("embedded TURN address");
    (server, addr)
}

/// The TURN entry the endpoint hands out to `sub`.
async fn endpoint_turn_entry(server: &TestServer, sub: &str) -> serde_json::Value {
    let (status, _, body) = get(
        &http(),
        &server.url("/api/calls/ice-servers"),
        Some(&valid_token(sub)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    data(&body)["iceServers"][1].clone()
}

/// Credentials as the endpoint hands them out.
async fn endpoint_credentials(server: &TestServer, sub: &str) -> (String, String) {
    let turn = endpoint_turn_entry(server, sub).await;
    let field = |k: &str| turn[k].as_str().expect("credential field").to_owned();
    (field("username"), field("credential"))
}

async fn turn_client(addr: SocketAddr, username: &str, password: &str) -> Client {
    let conn = UdpSocket::bind("127.0.0.1:0")
        .await
        .expect("bind client socket");
    let client = Client::new(ClientConfig {
        stun_serv_addr: addr.to_string(),
        turn_serv_addr: addr.to_string(),
        username: username.to_owned(),
        password: password.to_owned(),
        realm: "ice-peer".to_owned(),
        software: String::new(),
        rto_in_ms: 0,
        conn: Arc::new(conn),
        vnet: None,
    })
    .await
    .expect("client");
    client.listen().await.expect("client listens");
    client
}

#[tokio::test]
async fn rust_client_allocates_and_relays_on_loopback() {
    let (server, addr) = turn_server().await;
    let (user, pass) = endpoint_credentials(&server, "alice").await;
    let client = turn_client(addr, &user, &pass).await;
    let relay = tokio::time::timeout(Duration::from_secs(10), client.allocate())
        .await
        .expect("allocation answered in time")
        .expect("fresh credential accepted");
    let relay_addr = relay.local_addr().expect("relay address");
    assert_eq!(
        relay_addr.ip().to_string(),
        "127.0.0.1",
        "relay must be reachable on loopback"
    );

    // A peer on loopback reaches the relayed address once permitted.
    let peer = UdpSocket::bind("127.0.0.1:0").await.expect("peer socket");
    let peer_addr = peer.local_addr().expect("peer addr");
    relay
        .send_to(b"hello peer", peer_addr)
        .await
        .expect("relay sends");
    let mut buf = [0u8; 64];
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), peer.recv_from(&mut buf))
        .await
        .expect("peer got data in time")
        .expect("peer recv");
    assert_eq!(&buf[..n], b"hello peer");
    assert_eq!(from, relay_addr);
    peer.send_to(b"hello relay", relay_addr)
        .await
        .expect("peer sends");
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), relay.recv_from(&mut buf))
        .await
        .expect("relay got data in time")
        .expect("relay recv");
    assert_eq!(&buf[..n], b"hello relay");
    assert_eq!(from, peer_addr);
    client.close().await.expect("close");
}

async fn rust_allocation_refused(username: &str, password: &str) {
    let (_server, addr) = turn_server().await;
    let client = turn_client(addr, username, password).await;
    let result = tokio::time::timeout(Duration::from_secs(15), client.allocate())
        .await
        .expect("refusal answered in time");
    assert!(
        result.is_err(),
        "allocation with {username} must be refused"
    );
    client.close().await.expect("close");
}

#[tokio::test]
async fn rust_client_wrong_password_refused() {
    let (user, _) = turn_rest::credentials(&Secret::new(TURN_SECRET), "alice", now() + 600);
    rust_allocation_refused(&user, "not-the-password").await;
}

#[tokio::test]
async fn rust_client_expired_username_refused() {
    let (user, pass) = turn_rest::credentials(&Secret::new(TURN_SECRET), "alice", now() - 10);
    rust_allocation_refused(&user, &pass).await;
}

/// Runs coturn's client in client-to-client mode (`-y`): it allocates two
/// relays and sends messages between them through our server.
/// Returns (exit success, messages received back, output).
async fn uclient(addr: SocketAddr, auth: &[&str]) -> (bool, u64, String) {
    uclient_over(addr, false, auth).await
}

/// [`uclient`], over TCP (`-t`) when `tcp`.
async fn uclient_over(addr: SocketAddr, tcp: bool, auth: &[&str]) -> (bool, u64, String) {
    let transport: &[&str] = if tcp { &["-t"] } else { &[] };
    uclient_run(addr.port(), transport, auth).await
}

/// Runs coturn's client against 127.0.0.1:`port` with `transport` flags.
async fn uclient_run(port: u16, transport: &[&str], auth: &[&str]) -> (bool, u64, String) {
    let bin = [
        "/usr/bin/turnutils_uclient",
        "/usr/local/bin/turnutils_uclient",
    ]
    .into_iter()
    .find(|p| std::path::Path::new(p).exists())
    .expect("turnutils_uclient is missing: apt-get install coturn (CI installs it)");
    let port = port.to_string();
    let mut args = vec!["-y", "-n", "2", "-m", "1", "-z", "5", "-p", &port];
    args.extend_from_slice(transport);
    args.extend_from_slice(auth);
    args.push("127.0.0.1");
    let child = tokio::process::Command::new(bin)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("turnutils_uclient starts");
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("turnutils_uclient finished in time")
        .expect("turnutils_uclient output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // Its summary line: "start_mclient: tot_send_msgs=8, tot_recv_msgs=8".
    let received = text
        .lines()
        .filter(|l| l.contains("start_mclient: tot_send_msgs="))
        .filter_map(|l| l.split("tot_recv_msgs=").nth(1))
        .filter_map(|n| n.trim().parse::<u64>().ok())
        .next_back()
        .unwrap_or(0);
    (out.status.success(), received, text)
}

#[tokio::test]
async fn coturn_client_accepts_endpoint_credentials() {
    let (server, addr) = turn_server().await;
    let (user, pass) = endpoint_credentials(&server, "alice").await;
    let (ok, received, out) = uclient(addr, &["-u", &user, "-w", &pass]).await;
    assert!(
        ok && received > 0,
        "expected success with relayed messages:\n{out}"
    );
}

#[tokio::test]
async fn coturn_client_own_turn_rest_derivation_accepted() {
    // -W makes uclient derive `<timestamp>:alice` and its HMAC itself.
    let (_server, addr) = turn_server().await;
    let (ok, received, out) = uclient(addr, &["-W", TURN_SECRET, "-u", "alice"]).await;
    assert!(
        ok && received > 0,
        "expected success with relayed messages:\n{out}"
    );
}

async fn uclient_refused(auth: &[&str]) {
    let (_server, addr) = turn_server().await;
    for tcp in [false, true] {
        let (ok, received, out) = uclient_over(addr, tcp, auth).await;
        assert!(!ok, "uclient (tcp: {tcp}) must exit non-zero:\n{out}");
        assert_eq!(received, 0, "nothing may be relayed (tcp: {tcp}):\n{out}");
        // Answered with 401s (see raw_allocate_* for the codes), uclient gives up.
        assert!(
            out.contains("Cannot complete Allocation"),
            "expected the allocation refused (tcp: {tcp}):\n{out}"
        );
    }
}

#[tokio::test]
async fn coturn_client_relays_over_tcp() {
    // The same server, reached over TCP on the same port: for firewalls that drop UDP.
    let (server, addr) = turn_server().await;
    let (user, pass) = endpoint_credentials(&server, "alice").await;
    let (ok, received, out) = uclient_over(addr, true, &["-u", &user, "-w", &pass]).await;
    assert!(
        ok && received > 0,
        "expected success with relayed messages over TCP:\n{out}"
    );
}

#[tokio::test]
async fn tcp_listener_serves_one_client_after_another() {
    // The end of one TCP client's allocation must not close the listener.
    let (server, addr) = turn_server().await;
    for run in 1..=3 {
        let (user, pass) = endpoint_credentials(&server, "alice").await;
        let (ok, received, out) = uclient_over(addr, true, &["-u", &user, "-w", &pass]).await;
        assert!(
            ok && received > 0,
            "TCP client {run} of 3 must relay:\n{out}"
        );
    }
}

#[tokio::test]
async fn coturn_client_wrong_password_refused() {
    let (user, _) = turn_rest::credentials(&Secret::new(TURN_SECRET), "alice", now() + 600);
    uclient_refused(&["-u", &user, "-w", "not-the-password"]).await;
}

#[tokio::test]
async fn coturn_client_wrong_secret_refused() {
    uclient_refused(&["-W", "not-the-secret", "-u", "alice"]).await;
}

#[tokio::test]
async fn coturn_client_expired_username_refused() {
    let (user, pass) = turn_rest::credentials(&Secret::new(TURN_SECRET), "alice", now() - 10);
    uclient_refused(&["-u", &user, "-w", &pass]).await;
}

// ---- raw STUN: the exact error codes, over UDP and TCP ----

use common::turn_wire::{allocate, error_code, text, Auth, Wire};
use stun::attributes::{ATTR_NONCE, ATTR_REALM};
use stun::error_code::CODE_UNAUTHORIZED;
use stun::message::{CLASS_ERROR_RESPONSE, CLASS_SUCCESS_RESPONSE};

/// Wrong password, expired username, unknown secret: each a 401 with REALM and
/// a NONCE; good credentials then allocate at once (no 438).
async fn raw_allocate(tcp: bool) {
    let (_server, addr) = turn_server().await;
    let secret = Secret::new(TURN_SECRET);
    let mut wire = Wire::open(addr, tcp).await;
    // No credentials yet: the server's own 401 hands out its nonce.
    let challenge = wire.ask(&allocate(None)).await;
    assert_eq!(error_code(&challenge), Some(CODE_UNAUTHORIZED.0));
    let nonce = text(&challenge, ATTR_NONCE).expect("a NONCE");

    let (user, pass) = turn_rest::credentials(&secret, "alice", now() + 600);
    let (old_user, old_pass) = turn_rest::credentials(&secret, "alice", now() - 10);
    let (alien_user, alien_pass) =
        turn_rest::credentials(&Secret::new("not-ours"), "alice", now() + 600);
    for (what, u, p) in [
        ("wrong password", user.as_str(), "not-the-password"),
        ("expired username", old_user.as_str(), old_pass.as_str()),
        ("other secret", alien_user.as_str(), alien_pass.as_str()),
    ] {
        let auth = Auth {
            user: u.to_owned(),
            pass: p.to_owned(),
            nonce: nonce.clone(),
        };
        let answer = wire.ask(&allocate(Some(&auth))).await;
        assert_eq!(answer.typ.class, CLASS_ERROR_RESPONSE, "{what}");
        assert_eq!(
            error_code(&answer),
            Some(CODE_UNAUTHORIZED.0),
            "{what}: RFC 8489 says 401"
        );
        assert_eq!(
            text(&answer, ATTR_REALM).as_deref(),
            Some("ice-peer"),
            "{what}: REALM"
        );
        // Stateless: the same client gets the same nonce within a second.
        let fresh = text(&answer, ATTR_NONCE).expect("a NONCE");
        assert_eq!(fresh.len(), 32, "{what}: a NONCE");
    }
    let auth = Auth { user, pass, nonce };
    let granted = wire.ask(&allocate(Some(&auth))).await;
    assert_eq!(
        granted.typ.class,
        CLASS_SUCCESS_RESPONSE,
        "good credentials allocate (error {:?})",
        error_code(&granted)
    );
}

#[tokio::test]
async fn raw_allocate_over_udp_gets_401_with_a_fresh_nonce() {
    raw_allocate(false).await;
}

#[tokio::test]
async fn raw_allocate_over_tcp_gets_401_with_a_fresh_nonce() {
    raw_allocate(true).await;
}

/// A self-signed certificate for 127.0.0.1 made with the openssl CLI;
/// removed when dropped.
struct TestCert {
    dir: std::path::PathBuf,
}

impl TestCert {
    fn new() -> Self {
        static COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("ice-peer-tls-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let status = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
            ])
            .args(["-nodes", "-days", "1", "-subj", "/CN=ice-peer test"])
            .args(["-addext", "subjectAltName=IP:127.0.0.1"])
            .arg("-keyout")
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("cert.pem"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl runs (apt-get install openssl)");
        assert!(status.success(), "openssl made a certificate");
        Self { dir }
    }

    fn path(&self, name: &str) -> String {
        self.dir.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TestCert {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test]
async fn coturn_client_relays_over_tls() {
    let cert = TestCert::new();
    let (cert_file, key_file) = (cert.path("cert.pem"), cert.path("key.pem"));
    let (server, _) = turn_server_with(&[
        "--turn-tls-listen",
        "127.0.0.1:0",
        "--turn-tls-cert",
        &cert_file,
        "--turn-tls-key",
        &key_file,
    ])
    .await;
    // The endpoint hands out the turns: URL, with the port TLS got.
    let turn = endpoint_turn_entry(&server, "alice").await;
    let turns = turn["urls"]
        .as_array()
        .expect("urls")
        .iter()
        .filter_map(|u| u.as_str())
        .find(|u| u.starts_with("turns:127.0.0.1:") && u.ends_with("?transport=tcp"))
        .unwrap_or_else(|| panic!("a turns: URL in {turn}"))
        .to_owned();
    let port: u16 = turns["turns:127.0.0.1:".len()..turns.len() - "?transport=tcp".len()]
        .parse()
        .expect("a port");
    let (user, pass) = endpoint_credentials(&server, "alice").await;
    for run in 1..=2 {
        let (ok, received, out) =
            uclient_run(port, &["-t", "-S"], &["-u", &user, "-w", &pass]).await;
        assert!(
            ok && received > 0,
            "TLS client {run} of 2 must relay through {turns}:\n{out}"
        );
    }
}
