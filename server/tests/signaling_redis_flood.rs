//! What a flood of published messages costs a replica. The script hands
//! every message for a seat to the channel of the replica holding its
//! socket; that replica may hold at most the seat's outbox (64 messages) of
//! them, so nothing between Redis and the outboxes may grow with the flood.
//!
//! Over real sockets: a redis-server of the test's own, the server binary as
//! a separate process (its resident memory read from /proc), a client that
//! never reads. The flood is published straight to the replica's channel, in
//! the format `redis.lua` publishes (`<socket> msg <ServerMessage JSON>`), as
//! the parties on other replicas could make it.

mod common;
mod signal_support;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::redis_server::RedisServer;
use common::replica::{rss_kib, Replica};
use common::{http, valid_token, JWT_SECRET};
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Script};
use serde_json::{json, Value};
use signal_support::{expect_close, expect_event, next, next_within, send, Frame, Socket};

const BIN: &str = env!("CARGO_BIN_EXE_ice-peer-server");
/// Every key and channel of the Redis registry starts with this.
const PREFIX: &str = "ice-peer:signal:";
/// About this many bytes of signals go out per script call.
const CHUNK_BYTES: usize = 1_000_000;
/// Redis may hold this much for the replica before the next chunk goes out:
/// half its 8 MB soft limit for pub/sub clients, so it never drops the
/// replica. The flood then goes as fast as the replica reads its socket,
/// the most Redis can push at it.
const REDIS_BACKLOG_BYTES: u64 = 4 * 1024 * 1024;
/// Most the replica's resident memory may grow under a flood: a 64-message
/// outbox of 60 KB signals is 3.8 MB, with room for the allocator.
const MAX_GROWTH_KIB: u64 = 8 * 1024;
/// One step (a Redis reply, the replica catching up) may take this long.
const STEP: Duration = Duration::from_secs(20);

/// Runs one command on the test's own connection (its replies time out after `STEP`).
async fn query<T: redis::FromRedisValue>(redis: &mut MultiplexedConnection, cmd: redis::Cmd) -> T {
    cmd.query_async(redis).await.expect("Redis answers in time")
}

/// `data` of a signal with `sdp_bytes` of SDP, as JSON text.
fn offer(sdp_bytes: usize) -> String {
    json!({ "type": "offer", "sdp": "x".repeat(sdp_bytes) }).to_string()
}

/// Frames of `frame_bytes` that can sit in a TCP connection's buffers on
/// this machine (the kernel's largest receive and send buffers together)
/// rather than in the server's outbox.
fn in_flight_at_most(frame_bytes: usize) -> u64 {
    let largest = |path: &str| {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|text| text.split_whitespace().nth(2)?.parse::<u64>().ok())
            .unwrap_or(6 << 20)
    };
    let buffers = largest("/proc/sys/net/ipv4/tcp_rmem") + largest("/proc/sys/net/ipv4/tcp_wmem");
    buffers / frame_bytes as u64 + 1
}

/// Publishes signals `from..=to`, each with `data` (JSON text), for
/// `socket` on `channel`, in one script call, as `redis.lua` would.
async fn publish(
    redis: &mut MultiplexedConnection,
    channel: &str,
    socket: &str,
    (from, to): (u64, u64),
    data: &str,
) {
    let script = Script::new(
        r#"
        for seq = tonumber(ARGV[2]), tonumber(ARGV[3]) do
          redis.call('PUBLISH', KEYS[1], ARGV[1] .. ' msg {"type":"signal","seq":' .. seq
            .. ',"data":' .. ARGV[4] .. '}')
        end
        return 1"#,
    );
    script
        .key(channel)
        .arg(socket)
        .arg(from)
        .arg(to)
        .arg(data)
        .invoke_async::<i64>(redis)
        .await
        .expect("the flood is published in time");
}

/// Bytes Redis holds for pub/sub clients, not yet written to their sockets
/// (`omem` in CLIENT LIST).
async fn subscriber_backlog(redis: &mut MultiplexedConnection) -> u64 {
    let mut cmd = redis::cmd("CLIENT");
    cmd.arg("LIST").arg("TYPE").arg("pubsub");
    let list: String = query(redis, cmd).await;
    let omem = |line: &str| {
        line.split_whitespace()
            .find_map(|field| field.strip_prefix("omem="))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    list.lines().map(omem).sum()
}

/// Subscribers of `channel` (PUBSUB NUMSUB).
async fn subscribers(redis: &mut MultiplexedConnection, channel: &str) -> u64 {
    let mut cmd = redis::cmd("PUBSUB");
    cmd.arg("NUMSUB").arg(channel);
    let (_, count): (String, u64) = query(redis, cmd).await;
    count
}

/// The highest resident memory of a process, sampled every 5 ms until dropped.
struct PeakRss {
    peak: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl PeakRss {
    fn watch(pid: u32) -> Self {
        let peak = Arc::new(AtomicU64::new(rss_kib(pid).unwrap_or(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let (peak_, stop_) = (Arc::clone(&peak), Arc::clone(&stop));
        std::thread::spawn(move || {
            // At most 10 minutes of samples.
            for _ in 0..120_000 {
                if stop_.load(Ordering::Relaxed) {
                    return;
                }
                if let Some(kib) = rss_kib(pid) {
                    peak_.fetch_max(kib, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        Self { peak, stop }
    }

    fn kib(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }
}

impl Drop for PeakRss {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

async fn redis_connection(redis: &RedisServer) -> MultiplexedConnection {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(STEP))
        .set_response_timeout(Some(STEP));
    redis::Client::open(redis.url())
        .expect("a Redis URL")
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .expect("the test connects to Redis")
}

async fn create_room(replica: &Replica) -> String {
    let response = http()
        .post(replica.url("/api/calls/rooms"))
        .bearer_auth(valid_token("alice"))
        .json(&json!({ "peer": "bob" }))
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.expect("JSON");
    body["data"]["room"].as_str().expect("room id").to_owned()
}

/// `sub` authenticates in `room` on `replica` (resuming with `key`, having
/// received nothing); returns the socket and the reply.
async fn join(replica: &Replica, room: &str, sub: &str, key: Option<&str>) -> (Socket, Value) {
    let (mut socket, _) = tokio_tungstenite::connect_async(replica.signal_url(room))
        .await
        .expect("websocket connects");
    let mut auth = json!({ "type": "auth", "token": valid_token(sub) });
    if let Some(key) = key {
        auth["resume"] = json!(key);
        auth["ack"] = json!(0);
    }
    send(&mut socket, auth).await;
    match next(&mut socket).await {
        Frame::Json(reply) => (socket, reply),
        closed => panic!("{sub}: no answer to auth but {closed:?}"),
    }
}

/// The socket token holding Alice's seat (seat 1: she created the room) and
/// the channel of the replica holding it.
async fn alice_route(redis: &mut MultiplexedConnection, room: &str) -> (String, String) {
    let mut cmd = redis::cmd("HMGET");
    cmd.arg(format!("{PREFIX}room:{room}"))
        .arg("live1")
        .arg("rep1");
    let (socket, replica): (String, String) = query(redis, cmd).await;
    (socket, format!("{PREFIX}replica:{replica}"))
}

fn signal_process(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill {signal} {pid}");
}

/// A fresh Redis, a replica (with `env`) on it, and Alice alone in a room
/// she created there, with her resume key and the route Redis holds for her.
struct AliceSeated {
    redis: RedisServer,
    replica: Replica,
    pid: u32,
    commands: MultiplexedConnection,
    room: String,
    alice: Socket,
    key: String,
    /// The socket token holding her seat.
    socket: String,
    /// The channel of the replica holding it.
    channel: String,
}

async fn seat_alice(env: &[(&str, &str)]) -> AliceSeated {
    let redis = RedisServer::start();
    let replica = Replica::start_with_env(Path::new(BIN), JWT_SECRET, &redis.args(), env);
    let pid = replica.pid().expect("running");
    let mut commands = redis_connection(&redis).await;
    let room = create_room(&replica).await;
    let (alice, hello) = join(&replica, &room, "alice", None).await;
    assert_eq!(hello["type"], "joined", "{hello}");
    let key = hello["resume"].as_str().expect("resume key").to_owned();
    let (socket, channel) = alice_route(&mut commands, &room).await;
    AliceSeated {
        redis,
        replica,
        pid,
        commands,
        room,
        alice,
        key,
        socket,
        channel,
    }
}

/// A replica with `env`; Alice seated on it, reading nothing while
/// `signals` signals with `data` are published for her, paced so that
/// Redis never holds more than `REDIS_BACKLOG_BYTES` for the replica. Then
/// the replica grew by less than `MAX_GROWTH_KIB`, Alice gets what her
/// outbox held and `slow-consumer`, and the replica's subscription is
/// intact: Alice resumes and hears Bob through it.
async fn flood_a_seat_that_does_not_read(env: &[(&str, &str)], signals: u64, data: &str) {
    let AliceSeated {
        redis: _redis,
        replica,
        pid,
        mut commands,
        room,
        mut alice,
        key,
        socket,
        channel,
    } = seat_alice(env).await;

    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib(pid).expect("replica RSS");
    let peak = PeakRss::watch(pid);
    let started = Instant::now();
    let chunk = (CHUNK_BYTES / data.len()).max(1) as u64;
    let mut held_most = 0;
    for from in (1..=signals).step_by(chunk as usize) {
        let to = (from + chunk - 1).min(signals);
        publish(&mut commands, &channel, &socket, (from, to), data).await;
        let deadline = Instant::now() + STEP;
        loop {
            let backlog = subscriber_backlog(&mut commands).await;
            held_most = held_most.max(backlog);
            if backlog < REDIS_BACKLOG_BYTES {
                break;
            }
            assert!(Instant::now() < deadline, "the replica stopped reading");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
    // Until the replica has read everything Redis held for it.
    let deadline = Instant::now() + STEP;
    while subscriber_backlog(&mut commands).await > 0 {
        assert!(Instant::now() < deadline, "the replica stopped reading");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let flood = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (peak, after) = (peak.kib(), rss_kib(pid).expect("replica RSS"));
    let growth = peak.saturating_sub(before);
    eprintln!(
        "FIGURE redis-flood {env:?}: {signals} signals with {} B of data ({} MB) for a \
         seat that does not read, in {:.1} s; Redis held at most {:.1} MB for the replica; \
         replica RSS {:.1} MiB before, {:.1} MiB at most (+{:.1}), {:.1} MiB after",
        data.len(),
        signals * data.len() as u64 / 1_000_000,
        flood.as_secs_f64(),
        held_most as f64 / 1e6,
        mib(before),
        mib(peak),
        mib(growth),
        mib(after),
    );

    // Alice gets what her outbox held, in order, then slow-consumer.
    let mut received = 0;
    loop {
        match next_within(&mut alice, STEP).await {
            Frame::Json(v) if v["type"] == "signal" => {
                received += 1;
                assert_eq!(v["seq"], received, "in order");
            }
            Frame::Json(v) => {
                assert_eq!(v["code"], "slow-consumer", "{v}");
                break;
            }
            closed => panic!("alice: {closed:?} after {received} signals"),
        }
    }
    assert_eq!(next(&mut alice).await, Frame::Closed(Some(4429)));
    // Besides the outbox, what the writer had already handed the kernel:
    // the two loopback sockets' buffers hold a few MB between them.
    let bound = 64 + in_flight_at_most(data.len() + 40);
    assert!(
        received <= bound,
        "{received} signals, more than a 64-message outbox and the socket buffers ({bound})"
    );
    assert!(
        growth < MAX_GROWTH_KIB,
        "the replica grew by {growth} KiB under the flood: something queued it"
    );

    // The flood cost the replica nothing else: it kept its subscription,
    // and Alice resumes and hears Bob join and signal through it.
    assert_eq!(subscribers(&mut commands, &channel).await, 1);
    let (mut alice, hello) = join(&replica, &room, "alice", Some(&key)).await;
    assert_eq!(hello["resumed"], true, "{hello}");
    let (mut bob, hello) = join(&replica, &room, "bob", None).await;
    assert_eq!(hello["type"], "joined", "{hello}");
    expect_event(&mut alice, "peer-joined", "bob").await;
    let offer = json!({ "type": "offer", "sdp": "v=0" });
    send(
        &mut bob,
        json!({ "type": "signal", "seq": 1, "data": offer }),
    )
    .await;
    assert_eq!(
        next(&mut alice).await,
        Frame::Json(json!({ "type": "signal", "seq": 1, "data": offer }))
    );
}

/// Small signals (the size of an ICE candidate) at a replica with one
/// worker thread, as on one core: 40 MB of them. A queue in front of the
/// outboxes (the `redis` crate's pub/sub stream, which this replaced) grew
/// by about 0.4 KiB per signal here, 85 MiB in all.
#[tokio::test]
async fn a_flood_of_small_signals_costs_a_one_core_replica_one_outbox() {
    let data = offer(200);
    flood_a_seat_that_does_not_read(&[("TOKIO_WORKER_THREADS", "1")], 200_000, &data).await;
}

/// Large signals: 240 MB of 60 KB ones; one outbox of them is 3.8 MB.
#[tokio::test]
async fn a_flood_of_large_signals_costs_the_replica_one_outbox() {
    flood_a_seat_that_does_not_read(&[], 4_000, &offer(60_000)).await;
}

/// Signals whose data is an array of 30,000 zeros (60 KB): one parsed
/// into a tree is about 1 MiB, so an outbox of them would be 64 MiB; kept
/// as the text that came, it is 3.8 MB.
#[tokio::test]
async fn a_flood_of_amplifying_signals_costs_the_replica_one_outbox_of_text() {
    let zeros = vec!["0"; 30_000].join(",");
    let data = format!(r#"{{"a":[{zeros}],"type":"x"}}"#);
    flood_a_seat_that_does_not_read(&[], 1_000, &data).await;
}

/// A replica that reads nothing at all (stopped, as if starved of CPU):
/// the backlog stays in Redis, which drops a pub/sub client holding more
/// than 32 MB (`client-output-buffer-limit pubsub`). The replica then
/// closes its sockets with `unavailable` and subscribes again.
#[tokio::test]
async fn a_stalled_replica_is_dropped_by_redis_then_closes_its_sockets_and_resubscribes() {
    const SDP_BYTES: usize = 60_000;
    let AliceSeated {
        redis: _redis,
        replica,
        pid,
        mut commands,
        room,
        mut alice,
        key,
        channel,
        ..
    } = seat_alice(&[]).await;

    // Signals for a socket the replica does not hold, so that Alice hears
    // only what the lost subscription does to her.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib(pid).expect("replica RSS");
    let peak = PeakRss::watch(pid);
    signal_process(pid, "-STOP");
    let nobody = format!("{:032x}", 0);
    let chunk = (CHUNK_BYTES / SDP_BYTES) as u64;
    let mut published = 0;
    for from in (1..).step_by(chunk as usize).take(1_000) {
        if subscribers(&mut commands, &channel).await == 0 {
            break;
        }
        let to = from + chunk - 1;
        publish(
            &mut commands,
            &channel,
            &nobody,
            (from, to),
            &offer(SDP_BYTES),
        )
        .await;
        published = to;
    }
    let dropped = subscribers(&mut commands, &channel).await == 0;
    signal_process(pid, "-CONT");
    assert!(
        dropped,
        "Redis kept a replica that read none of {published} signals"
    );

    // It may have missed a delivery: every socket it holds is closed with
    // unavailable, and it subscribes again (backoff 100 ms to 2 s).
    expect_close(&mut alice, "unavailable", 1011).await;
    let deadline = Instant::now() + STEP;
    while subscribers(&mut commands, &channel).await == 0 {
        assert!(
            Instant::now() < deadline,
            "the replica did not subscribe again"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (peak, after) = (peak.kib(), rss_kib(pid).expect("replica RSS"));
    let growth = peak.saturating_sub(before);
    eprintln!(
        "FIGURE redis-stall: Redis dropped the stopped replica after {published} signals of \
         {SDP_BYTES} B of SDP ({} MB); replica RSS {:.1} MiB before, {:.1} MiB at most \
         (+{:.1}), {:.1} MiB after",
        published * SDP_BYTES as u64 / 1_000_000,
        mib(before),
        mib(peak),
        mib(growth),
        mib(after),
    );
    assert!(growth < MAX_GROWTH_KIB, "the replica grew by {growth} KiB");

    // Alice resumes on it once it is back.
    let deadline = Instant::now() + STEP;
    let hello = loop {
        let (_, hello) = join(&replica, &room, "alice", Some(&key)).await;
        if hello["code"] != "unavailable" || Instant::now() > deadline {
            break hello;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(hello["resumed"], true, "{hello}");
}
