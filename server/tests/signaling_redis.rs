//! The shared signaling suite (`signal_support/`) against the Redis
//! registry: every scenario starts its own redis-server on a free loopback
//! port and servers with `--redis-url` pointing at it.

mod common;
mod signal_support;

use std::time::{Duration, Instant};

use common::redis_server::RedisServer;
use ice_peer_server::signal::redis::PURGE_MAX_ROOMS;

// The RedisServer is a temporary of each test's one statement, so it lives
// until the scenario's future completes and is killed right after.
signaling_suite!(&RedisServer::start().args());

/// Rooms that expire together leave the set of live rooms at most
/// `PURGE_MAX_ROOMS` per script call (here each `room_count` is one), so
/// that one call never blocks Redis for all of them; later calls remove
/// the rest.
#[tokio::test]
async fn expired_rooms_are_purged_a_bounded_number_per_call() {
    const ROOMS: usize = 250;
    let redis = RedisServer::start();
    const TTL: Duration = Duration::from_secs(15);
    let flags = ["--room-ttl-secs", "15", "--max-rooms-per-user", "1000"];
    let server = common::start(&[&redis.args()[..], &flags].concat()).await;
    for batch in (0..ROOMS).collect::<Vec<_>>().chunks(20) {
        let peers: Vec<String> = batch.iter().map(|n| format!("peer-{n}")).collect();
        let creating = peers
            .iter()
            .map(|peer| signal_support::create_room(&server, "alice", peer));
        futures_util::future::join_all(creating).await;
    }
    let made = Instant::now();
    let registry = &server.state().signal.registry;
    assert_eq!(registry.room_count().await, ROOMS, "made within their 15 s");
    tokio::time::sleep_until((made + TTL + Duration::from_millis(500)).into()).await;
    let mut counts = Vec::new();
    while counts.last() != Some(&0) && counts.len() < ROOMS {
        counts.push(registry.room_count().await);
    }
    let expected: Vec<usize> = (1..=ROOMS.div_ceil(PURGE_MAX_ROOMS))
        .map(|calls| ROOMS.saturating_sub(calls * PURGE_MAX_ROOMS))
        .collect();
    assert_eq!(counts, expected, "rooms left after each call");
}
