//! A bounded load test on loopback: 10 000 authenticated requests, 50 at a time.
//! Prints requests/s and latency percentiles; asserts only that every answer is correct.

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;

const REQUESTS: usize = 10_000;
const CONCURRENCY: usize = 50;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_ice_servers_endpoint() {
    let server = start(&["--provider", "embedded"]).await;
    let url = Arc::new(server.url("/api/calls/ice-servers"));
    let token = Arc::new(valid_token("load-user"));
    let client = http();
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (client, url, token, next) = (
                client.clone(),
                Arc::clone(&url),
                Arc::clone(&token),
                Arc::clone(&next),
            );
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut failures = Vec::new();
                while next.fetch_add(1, Ordering::Relaxed) < REQUESTS {
                    let t = Instant::now();
                    let result = client
                        .get(url.as_str())
                        .bearer_auth(token.as_str())
                        .send()
                        .await;
                    let ok = match result {
                        Ok(res) if res.status() == 200 => res
                            .bytes()
                            .await
                            .is_ok_and(|b| b.starts_with(br#"{"success":true"#)),
                        Ok(res) => {
                            failures.push(format!("HTTP {}", res.status()));
                            false
                        }
                        Err(e) => {
                            failures.push(e.to_string());
                            false
                        }
                    };
                    if ok {
                        latencies.push(t.elapsed());
                    }
                }
                (latencies, failures)
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(REQUESTS);
    let mut failures = Vec::new();
    let joined = tokio::time::timeout(
        Duration::from_secs(300),
        futures_util::future::join_all(workers),
    )
    .await
    .expect("load test finished within its bound");
    for worker in joined {
        let (l, f) = worker.expect("worker did not panic");
        latencies.extend(l);
        failures.extend(f);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| {
        latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
    };
    assert!(
        failures.is_empty(),
        "{} failed requests, first: {:?}",
        failures.len(),
        failures.first()
    );
    assert_eq!(latencies.len(), REQUESTS);
    // Straight to stderr, not println!: the test harness would capture that.
    let _ = writeln!(
        std::io::stderr(),
        "load: {REQUESTS} requests, {CONCURRENCY} concurrent, {:.2?} total, {:.0} requests/s, p50 {:.2?}, p99 {:.2?}, max {:.2?} ({} build)",
        elapsed,
        REQUESTS as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        pct(1.0),
        if cfg!(debug_assertions) { "debug" } else { "release" },
    );
}
