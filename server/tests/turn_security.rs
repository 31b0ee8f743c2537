//! The embedded TURN server under attack, over real sockets: relaying into
//! the server's own networks, state for strangers, stalling TURN over TCP,
//! quotas. Each test failed on the server before issue 17.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::turn_wire::{
    allocate, channel_data, error_code, peer, relayed_address, request, send_indication, text,
    Auth, Wire,
};
use common::*;
use ice_peer_server::providers::turn_rest;
use ice_peer_server::providers::turn_tcp::MAX_PER_IP;
use ice_peer_server::secret::Secret;
use stun::attributes::ATTR_NONCE;
use stun::error_code::{CODE_FORBIDDEN, CODE_UNAUTHORIZED};
use stun::message::{CLASS_SUCCESS_RESPONSE, METHOD_CHANNEL_BIND, METHOD_CREATE_PERMISSION};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use turn::proto::channum::ChannelNumber;

const TURN_SECRET: &str = "north-star";

async fn turn_server(extra: &[&str]) -> (TestServer, SocketAddr) {
    let mut args = vec!["--provider", "embedded", "--turn-secret", TURN_SECRET];
    args.extend_from_slice(extra);
    let server = start(&args).await;
    let addr = server.turn_addr.expect("embedded TURN address");
    (server, addr)
}

fn credentials(sub: &str, valid_for: u64) -> (String, String) {
    turn_rest::credentials(&Secret::new(TURN_SECRET), sub, now() + valid_for)
}

/// A UDP socket on loopback that must hear nothing from the relay.
async fn listener() -> (UdpSocket, SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind victim");
    let addr = socket.local_addr().expect("victim address");
    (socket, addr)
}

async fn heard(socket: &UdpSocket, wait: Duration) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; 1500];
    let n = tokio::time::timeout(wait, socket.recv(&mut buf))
        .await
        .ok()?
        .ok()?;
    buf.truncate(n);
    Some(buf)
}

/// With the default policy, every private, loopback, link-local, unspecified
/// peer and the TURN port itself is refused with 403, and neither a Send
/// indication nor ChannelData reaches a UDP listener on 127.0.0.1.
async fn private_peers_refused(tcp: bool) {
    let (_server, turn) = turn_server(&[]).await;
    let (victim, victim_addr) = listener().await;
    let (user, pass) = credentials("mallory", 600);
    let mut wire = Wire::open(turn, tcp).await;
    let auth = wire.allocate(&user, &pass).await;

    let mapped = format!("[::ffff:127.0.0.1]:{}", victim_addr.port());
    let denied = [
        victim_addr.to_string(),
        mapped,
        "10.0.0.1:5000".into(),
        "192.168.1.1:5000".into(),
        "169.254.169.254:80".into(),
        format!("0.0.0.0:{}", victim_addr.port()),
        turn.to_string(),
    ];
    for target in &denied {
        let target: SocketAddr = target.parse().expect("address");
        let permission = request(METHOD_CREATE_PERMISSION, Some(&auth), vec![peer(target)]);
        let answer = wire.ask(&permission).await;
        assert_eq!(
            error_code(&answer),
            Some(CODE_FORBIDDEN.0),
            "CreatePermission to {target} (tcp: {tcp})"
        );
        let bind = request(
            METHOD_CHANNEL_BIND,
            Some(&auth),
            vec![Box::new(ChannelNumber(0x4000)), peer(target)],
        );
        let answer = wire.ask(&bind).await;
        assert_eq!(
            error_code(&answer),
            Some(CODE_FORBIDDEN.0),
            "ChannelBind to {target} (tcp: {tcp})"
        );
    }
    wire.send(&send_indication(victim_addr, b"ssrf")).await;
    wire.send(&channel_data(0x4000, b"ssrf")).await;
    assert_eq!(
        heard(&victim, Duration::from_secs(1)).await,
        None,
        "nothing may reach 127.0.0.1 through the relay (tcp: {tcp})"
    );

    // A public peer is still fine (no datagram is sent to it).
    let public: SocketAddr = "198.51.100.7:5000".parse().expect("address");
    let answer = wire.permit(&auth, public).await;
    assert_eq!(
        answer.typ.class, CLASS_SUCCESS_RESPONSE,
        "{public} permitted"
    );
}

#[tokio::test]
async fn relay_refuses_private_peers_over_udp() {
    private_peers_refused(false).await;
}

#[tokio::test]
async fn relay_refuses_private_peers_over_tcp() {
    private_peers_refused(true).await;
}

/// `--turn-allow-peer 127.0.0.0/8` lets a loopback peer hear the relay,
/// but the TURN port itself stays refused.
#[tokio::test]
async fn allowed_range_relays_but_never_to_the_turn_port() {
    let (_server, turn) = turn_server(&["--turn-allow-peer", "127.0.0.0/8"]).await;
    let (victim, victim_addr) = listener().await;
    let (user, pass) = credentials("alice", 600);
    let mut wire = Wire::open(turn, false).await;
    let auth = wire.allocate(&user, &pass).await;

    let own = wire.permit(&auth, turn).await;
    assert_eq!(error_code(&own), Some(CODE_FORBIDDEN.0), "the TURN port");

    let ok = wire.permit(&auth, victim_addr).await;
    assert_eq!(
        ok.typ.class, CLASS_SUCCESS_RESPONSE,
        "allowed loopback peer"
    );
    wire.send(&send_indication(victim_addr, b"hello")).await;
    assert_eq!(
        heard(&victim, Duration::from_secs(5)).await.as_deref(),
        Some(&b"hello"[..]),
        "the allowed peer hears the relay"
    );
}

/// The server's own address is a peer only on its relay ports (relay to
/// relay on one server): any other port there may be a service of the host
/// listening on every address (DNS, SNMP, memcached), which a relay would
/// reach from inside. Relays are made in --turn-relay-ports.
#[tokio::test]
async fn the_servers_own_address_is_a_peer_only_on_its_relay_ports() {
    let public = "198.51.100.9";
    let (_server, turn) = turn_server(&[
        "--turn-public-ip",
        public,
        "--turn-relay-ports",
        "40000-40099",
    ])
    .await;
    let (user, pass) = credentials("mallory", 600);
    let mut wire = Wire::open(turn, false).await;
    let (auth, granted) = wire.try_allocate(&user, &pass).await;
    assert_eq!(granted.typ.class, CLASS_SUCCESS_RESPONSE);
    let relayed = relayed_address(&granted);
    assert_eq!(relayed.ip().to_string(), public);
    assert!(
        (40000..=40099).contains(&relayed.port()),
        "relayed on {relayed}"
    );
    for service in [53, 161, 11211, 39999, 40100] {
        let target: SocketAddr = format!("{public}:{service}").parse().expect("address");
        let answer = wire.permit(&auth, target).await;
        assert_eq!(error_code(&answer), Some(CODE_FORBIDDEN.0), "{target}");
    }
    let answer = wire.permit(&auth, relayed).await;
    assert_eq!(answer.typ.class, CLASS_SUCCESS_RESPONSE, "relay to relay");
    // Other addresses are not limited to those ports.
    let elsewhere: SocketAddr = "198.51.100.10:11211".parse().expect("address");
    let answer = wire.permit(&auth, elsewhere).await;
    assert_eq!(answer.typ.class, CLASS_SUCCESS_RESPONSE);
}

/// A client whose first signed Allocate was refused (a stale credential)
/// retries with new credentials and the NONCE of that 401: it must be
/// granted at once, not sent round again with 438 Stale Nonce.
async fn retry_after_401_allocates_at_once(tcp: bool) {
    let (_server, turn) = turn_server(&[]).await;
    let mut wire = Wire::open(turn, tcp).await;
    let challenge = wire.ask(&allocate(None)).await;
    let first = Auth {
        user: credentials("alice", 600).0,
        pass: "an-old-password".into(),
        nonce: text(&challenge, ATTR_NONCE).expect("a NONCE"),
    };
    let refused = wire.ask(&allocate(Some(&first))).await;
    assert_eq!(error_code(&refused), Some(CODE_UNAUTHORIZED.0));
    let (user, pass) = credentials("alice", 600);
    let retry = Auth {
        user,
        pass,
        nonce: text(&refused, ATTR_NONCE).expect("a NONCE in the 401"),
    };
    let granted = wire.ask(&allocate(Some(&retry))).await;
    assert_eq!(
        granted.typ.class,
        CLASS_SUCCESS_RESPONSE,
        "the first good retry allocates (tcp: {tcp}), got error {:?}",
        error_code(&granted)
    );
}

#[tokio::test]
async fn first_signed_retry_allocates_without_438_over_udp() {
    retry_after_401_allocates_at_once(false).await;
}

#[tokio::test]
async fn first_signed_retry_allocates_without_438_over_tcp() {
    retry_after_401_allocates_at_once(true).await;
}

// ---- TURN over TCP: one client cannot stall or exhaust it ----

/// A Binding request: answered by the server without credentials.
fn binding() -> Vec<u8> {
    request(stun::message::METHOD_BINDING, None, vec![])
}

/// True when the server closes `stream` within `wait` (EOF or reset).
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let mut buf = [0u8; 64];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(wait, read).await.is_ok()
}

#[tokio::test]
async fn a_tcp_client_that_never_reads_does_not_stall_the_others() {
    let (_server, turn) = turn_server(&[]).await;
    // The attacker: a tiny receive window, Bindings sent and answers never read.
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("rcvbuf");
    let mut attacker = socket.connect(turn).await.expect("attacker connects");
    let flood: Vec<u8> = binding().repeat(200_000);
    let attack = tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(20), attacker.write_all(&flood)).await;
        attacker // kept open, never read
    });
    tokio::time::sleep(Duration::from_secs(3)).await;

    let mut victim = Wire::open(turn, true).await;
    let answer = victim.ask(&binding()).await;
    assert_eq!(
        answer.typ.class, CLASS_SUCCESS_RESPONSE,
        "the other client is served"
    );
    let (user, pass) = credentials("alice", 600);
    victim.allocate(&user, &pass).await;
    attack.abort();
}

#[tokio::test]
async fn one_ip_cannot_hold_every_tcp_slot() {
    let (_server, turn) = turn_server(&[]).await;
    let mut held = Vec::new();
    for _ in 0..MAX_PER_IP {
        let mut wire = Wire::open(turn, true).await;
        let answer = wire.ask(&binding()).await;
        assert_eq!(answer.typ.class, CLASS_SUCCESS_RESPONSE);
        held.push(wire);
    }
    let mut one_more = TcpStream::connect(turn).await.expect("connects");
    let _ = one_more.write_all(&binding()).await;
    assert!(
        closed_within(&mut one_more, Duration::from_secs(5)).await,
        "connection {} from one IP must be refused",
        MAX_PER_IP + 1
    );
    println!(
        "FIGURE turn tcp: {} connections from one IP granted of {} asked",
        held.len(),
        held.len() + 1
    );
}

#[tokio::test]
async fn a_half_sent_frame_is_dropped_after_a_timeout() {
    let (_server, turn) = turn_server(&[]).await;
    let mut stream = TcpStream::connect(turn).await.expect("connects");
    stream.write_all(&binding()[..3]).await.expect("writes");
    assert!(
        closed_within(&mut stream, Duration::from_secs(20)).await,
        "a connection that never finishes its frame must be closed"
    );
}

// ---- quotas and lifetimes ----

/// Asks for `asked` allocations, each from its own socket, the `i`th with
/// `credential(i)`; returns the error code of each refusal, and keeps the
/// granted ones open.
async fn allocations(
    turn: SocketAddr,
    asked: u64,
    credential: impl Fn(u64) -> (String, String),
) -> (Vec<Wire>, Vec<u16>) {
    let (mut granted, mut refused) = (Vec::new(), Vec::new());
    for i in 0..asked {
        let (user, pass) = credential(i);
        let mut wire = Wire::open(turn, false).await;
        let (_, answer) = wire.try_allocate(&user, &pass).await;
        if answer.typ.class == CLASS_SUCCESS_RESPONSE {
            granted.push(wire);
        } else {
            refused.push(error_code(&answer).unwrap_or(0));
        }
    }
    (granted, refused)
}

#[tokio::test]
async fn one_credential_gets_ten_allocations_and_no_more() {
    let (_server, turn) = turn_server(&[]).await;
    let (granted, refused) = allocations(turn, 12, |_| credentials("mallory", 600)).await;
    println!(
        "FIGURE turn quota: {} allocations granted of 12 asked with one credential",
        granted.len()
    );
    assert_eq!(granted.len(), 10, "the default per-credential quota");
    assert_eq!(refused, [486, 486], "486 Allocation Quota Reached");
    // Another credential still gets one.
    let (others, _) = allocations(turn, 1, |_| credentials("alice", 600)).await;
    assert_eq!(others.len(), 1);
}

/// The per-user quota counts the user, not the credential: the endpoint
/// hands out a fresh credential (a new expiry) every second, so a quota per
/// credential would let one user hold the whole server.
#[tokio::test]
async fn one_user_gets_ten_allocations_whatever_credentials_they_hold() {
    let (_server, turn) = turn_server(&[]).await;
    let (granted, refused) = allocations(turn, 12, |i| credentials("mallory", 600 + i)).await;
    println!(
        "FIGURE turn quota: {} allocations granted of 12 asked by one user with 12 credentials",
        granted.len()
    );
    assert_eq!(granted.len(), 10, "the default per-user quota");
    assert_eq!(refused, [486, 486], "486 Allocation Quota Reached");
}

#[tokio::test]
async fn the_total_quota_caps_every_credential_together() {
    let (_server, turn) = turn_server(&["--turn-total-quota", "3"]).await;
    let (granted, refused) = allocations(turn, 5, |i| credentials(&format!("user{i}"), 600)).await;
    println!(
        "FIGURE turn quota: {} allocations granted of 5 asked by 5 credentials (total quota 3)",
        granted.len()
    );
    assert_eq!(granted.len(), 3);
    assert_eq!(refused, [508, 508], "508 Insufficient Capacity");
}

#[tokio::test]
async fn permissions_per_allocation_are_capped() {
    let (_server, turn) = turn_server(&["--turn-permission-quota", "4"]).await;
    let (user, pass) = credentials("mallory", 600);
    let mut wire = Wire::open(turn, false).await;
    let auth = wire.allocate(&user, &pass).await;
    let mut codes = Vec::new();
    for host in 1..=6 {
        let target: SocketAddr = format!("198.51.100.{host}:5000").parse().expect("address");
        let answer = wire.permit(&auth, target).await;
        codes.push(error_code(&answer));
    }
    assert_eq!(codes, [None, None, None, None, Some(508), Some(508)]);
    // Refreshing one already held is fine.
    let again: SocketAddr = "198.51.100.1:6000".parse().expect("address");
    let answer = wire.permit(&auth, again).await;
    assert_eq!(answer.typ.class, CLASS_SUCCESS_RESPONSE);
}

/// Each ChannelBind to a new peer address is a binding the server keeps (and
/// a timer) for 10 minutes: one allocation may hold 64, however many
/// channel numbers the protocol allows, and refreshing one held is fine.
#[tokio::test]
async fn channel_bindings_per_allocation_are_capped() {
    let (_server, turn) = turn_server(&[]).await;
    let (user, pass) = credentials("mallory", 600);
    let mut wire = Wire::open(turn, false).await;
    let auth = wire.allocate(&user, &pass).await;
    let bind = |channel: u16, port: u16| {
        let target: SocketAddr = format!("198.51.100.1:{port}").parse().expect("address");
        request(
            METHOD_CHANNEL_BIND,
            Some(&auth),
            vec![Box::new(ChannelNumber(channel)), peer(target)],
        )
    };
    let mut bound = 0;
    let mut refused = Vec::new();
    for i in 0..66u16 {
        let answer = wire.ask(&bind(0x4000 + i, 5000 + i)).await;
        match error_code(&answer) {
            None => bound += 1,
            Some(code) => refused.push(code),
        }
    }
    println!("FIGURE turn quota: {bound} channels bound of 66 asked by one allocation");
    assert_eq!(bound, 64, "the default channel quota");
    assert_eq!(refused, [508, 508], "508 Insufficient Capacity");
    let refresh = wire.ask(&bind(0x4000, 5000)).await;
    assert_eq!(
        refresh.typ.class, CLASS_SUCCESS_RESPONSE,
        "a binding held is refreshed"
    );
}

/// An allocation made with a credential valid for 2 more seconds stops
/// relaying when it expires, and a Refresh is refused with 401.
#[tokio::test]
async fn an_allocation_does_not_outlive_its_credential() {
    let (_server, turn) = turn_server(&["--turn-allow-peer", "127.0.0.0/8"]).await;
    let (peer_socket, peer_addr) = listener().await;
    let (user, pass) = credentials("alice", 2);
    let mut wire = Wire::open(turn, false).await;
    let (auth, granted) = wire.try_allocate(&user, &pass).await;
    assert_eq!(granted.typ.class, CLASS_SUCCESS_RESPONSE);
    let relay = relayed_address(&granted);
    let answer = wire.permit(&auth, peer_addr).await;
    assert_eq!(answer.typ.class, CLASS_SUCCESS_RESPONSE);
    // Relays while the credential is valid.
    peer_socket
        .send_to(b"before", relay)
        .await
        .expect("peer sends");
    assert!(
        wire.recv(Duration::from_secs(2)).await.is_some(),
        "relayed before expiry"
    );

    tokio::time::sleep(Duration::from_secs(4)).await;
    peer_socket
        .send_to(b"after", relay)
        .await
        .expect("peer sends");
    assert_eq!(
        wire.recv(Duration::from_secs(1)).await,
        None,
        "nothing relayed after the credential expired"
    );
    let refresh = wire
        .ask(&request(stun::message::METHOD_REFRESH, Some(&auth), vec![]))
        .await;
    assert_eq!(error_code(&refresh), Some(CODE_UNAUTHORIZED.0));
}

#[tokio::test]
async fn a_bandwidth_cap_limits_what_one_allocation_relays() {
    let (_server, turn) = turn_server(&[
        "--turn-allow-peer",
        "127.0.0.0/8",
        "--turn-allocation-kbps",
        "80",
    ])
    .await;
    let (peer_socket, peer_addr) = listener().await;
    let (user, pass) = credentials("alice", 600);
    let mut wire = Wire::open(turn, false).await;
    let auth = wire.allocate(&user, &pass).await;
    let answer = wire.permit(&auth, peer_addr).await;
    assert_eq!(answer.typ.class, CLASS_SUCCESS_RESPONSE);
    // 200 datagrams of 1,000 bytes at once: 200 kB against 10 kB/s.
    let sent = 200 * 1000;
    for _ in 0..200 {
        wire.send(&send_indication(peer_addr, &[7u8; 1000])).await;
    }
    let mut received = 0;
    while let Some(datagram) = heard(&peer_socket, Duration::from_millis(500)).await {
        received += datagram.len();
    }
    println!("FIGURE turn bandwidth cap 80 kbit/s: {received} B relayed of {sent} B sent at once");
    assert!(received > 0, "some traffic passes");
    assert!(
        received <= 20_000,
        "at most about a second's worth passes: {received} B"
    );
}
