//! An unauthenticated flood leaves the embedded TURN server's memory flat:
//! its 401 nonces are computed, not stored (issue 17). Alone in its test
//! binary, so the process's RSS is the server's.

mod common;

use std::time::Duration;

use common::turn_wire::allocate;
use common::*;
use tokio::net::UdpSocket;

/// Requests sent, in batches that wait for their answers (so the server
/// handles them rather than the kernel dropping them).
const FLOOD: usize = 150_000;
const BATCH: usize = 100;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Sends `count` unsigned Allocates and returns (answered, bytes answered).
async fn flood(socket: &UdpSocket, count: usize) -> (usize, usize) {
    let request = allocate(None);
    let (mut answered, mut bytes) = (0, 0);
    let mut buf = vec![0u8; 1500];
    for _ in 0..count / BATCH {
        for _ in 0..BATCH {
            socket.send(&request).await.expect("send");
        }
        let mut got = 0;
        while got < BATCH {
            match tokio::time::timeout(Duration::from_millis(50), socket.recv(&mut buf)).await {
                Ok(Ok(n)) => {
                    got += 1;
                    bytes += n;
                }
                _ => break,
            }
        }
        answered += got;
    }
    (answered, bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthenticated_allocate_flood_leaves_memory_flat() {
    let server = start(&["--provider", "embedded", "--turn-secret", "north-star"]).await;
    let turn = server.turn_addr.expect("embedded TURN address");
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    socket.connect(turn).await.expect("connect");
    // Warm up: buffers, allocator pools, the runtime's threads.
    flood(&socket, 10_000).await;
    let before = rss_kib();
    let (answered, bytes) = flood(&socket, FLOOD).await;
    let after = rss_kib();
    let growth_mib = (after.saturating_sub(before)) as f64 / 1024.0;
    println!(
        "FIGURE turn flood: {FLOOD} unsigned Allocates ({} B each), {answered} answered with 401 \
         ({:.1}x the request), RSS {:.1} MiB before, {:.1} MiB after (+{growth_mib:.1} MiB)",
        allocate(None).len(),
        bytes as f64 / answered.max(1) as f64 / allocate(None).len() as f64,
        before as f64 / 1024.0,
        after as f64 / 1024.0,
    );
    assert!(
        answered >= FLOOD / 2,
        "the server answered only {answered} of {FLOOD}"
    );
    assert!(
        growth_mib < 10.0,
        "RSS grew by {growth_mib:.1} MiB over {FLOOD} unsigned requests"
    );
}
