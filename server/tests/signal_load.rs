//! Signaling load generator (a plain binary: `harness = false`).
//!
//! Starts the server binary (one process, or two replicas sharing a
//! redis-server of its own), creates N rooms through `POST /api/calls/rooms`,
//! opens two sockets per room (with two replicas, the two parties of a room on
//! different replicas), and has every party send `--signals` signals of
//! `--size` bytes. Prints the relay latency (p50, p99), the messages lost,
//! duplicated or out of order, the server's RSS per room and the time to set
//! up all rooms. Loopback only; every wait is bounded.
//!
//! `cargo test --workspace` runs it as a smoke test (10 rooms, both modes).
//! The README's table comes from
//! `cargo test --release -p ice-peer-server --test signal_load -- --rooms 1000`.

mod common;

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::redis_server::RedisServer;
use common::replica::{rss_kib, Replica};
use futures_util::{SinkExt, StreamExt};
use ice_peer_server::secret::Secret;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

const BIN: &str = env!("CARGO_BIN_EXE_ice-peer-server");
/// Rooms set up at once. The server caps unauthenticated sockets per IP
/// (16 by default) and every socket here comes from 127.0.0.1.
const SETUP_CONCURRENCY: usize = 8;
/// One step of setup (an HTTP request, a connect, a reply) may take this long.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug)]
struct Options {
    rooms: usize,
    signals: usize,
    size: usize,
    interval: Duration,
    timeout: Duration,
    /// 0: run both (one process, then two replicas).
    replicas: usize,
}

impl Options {
    /// Flags after `--`; anything unknown (cargo's own test flags) is ignored.
    fn parse() -> Result<Self, String> {
        let mut options = Self {
            rooms: 10,
            signals: 20,
            size: 2048,
            interval: Duration::from_millis(250),
            timeout: Duration::from_secs(300),
            replicas: 0,
        };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let mut value = |name: &str, max: u64| -> Result<u64, String> {
                let v = args.next().ok_or(format!("{name} needs a value"))?;
                v.parse::<u64>()
                    .ok()
                    .filter(|n| (1..=max).contains(n))
                    .ok_or(format!("{name}: {v} is not in 1..={max}"))
            };
            match flag.as_str() {
                "--rooms" => options.rooms = value("--rooms", 5000)? as usize,
                "--signals" => options.signals = value("--signals", 200)? as usize,
                "--size" => options.size = value("--size", 32 * 1024)? as usize,
                "--interval-ms" => {
                    options.interval = Duration::from_millis(value("--interval-ms", 10_000)?)
                }
                "--timeout-secs" => {
                    options.timeout = Duration::from_secs(value("--timeout-secs", 3600)?)
                }
                "--replicas" => options.replicas = value("--replicas", 2)? as usize,
                _ => {}
            }
        }
        Ok(options)
    }
}

/// What one run measured.
struct Report {
    replicas: usize,
    rooms: usize,
    setup: Duration,
    latencies_us: Vec<u64>,
    expected: usize,
    received: usize,
    duplicated: usize,
    out_of_order: usize,
    unacked: usize,
    rss_before_kib: u64,
    rss_after_kib: u64,
    /// redis-server's RSS (KiB) and CPU time (s) at the end of the run.
    redis: Option<(u64, f64)>,
    elapsed: Duration,
    interval: Duration,
    size: usize,
}

impl Report {
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let rank = (self.latencies_us.len() as f64 * p).ceil() as usize;
        self.latencies_us[rank.clamp(1, self.latencies_us.len()) - 1] as f64 / 1000.0
    }

    fn lost(&self) -> usize {
        self.expected.saturating_sub(self.received)
    }

    fn print(&self) {
        let per_room = (self.rss_after_kib.saturating_sub(self.rss_before_kib)) as f64
            / self.rooms.max(1) as f64;
        let redis = self
            .redis
            .map(|(kib, cpu)| {
                format!(
                    "\nFIGURE   redis-server: RSS {:.1} MiB, {cpu:.2} s of CPU",
                    kib as f64 / 1024.0
                )
            })
            .unwrap_or_default();
        eprintln!(
            "FIGURE signal-load replicas={} rooms={} sockets={} build={}\n\
             FIGURE   setup of all rooms: {:.2} s\n\
             FIGURE   relay latency: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} signals)\n\
             FIGURE   lost {}, duplicated {}, out of order {}, not acked by the server {}\n\
             FIGURE   server RSS: {:.1} MiB before, {:.1} MiB with all rooms open, {:.1} KiB per room{}\n\
             FIGURE   run time {:.2} s; offered {:.0} signals/s of {} B, one per {:?} per party",
            self.replicas,
            self.rooms,
            self.rooms * 2,
            if cfg!(debug_assertions) { "debug" } else { "release" },
            self.setup.as_secs_f64(),
            self.percentile_ms(0.50),
            self.percentile_ms(0.99),
            self.percentile_ms(1.0),
            self.expected,
            self.lost(),
            self.duplicated,
            self.out_of_order,
            self.unacked,
            self.rss_before_kib as f64 / 1024.0,
            self.rss_after_kib as f64 / 1024.0,
            per_room,
            redis,
            self.elapsed.as_secs_f64(),
            (self.rooms * 2) as f64 / self.interval.as_secs_f64(),
            self.size,
            self.interval,
        );
    }
}

fn main() -> ExitCode {
    // `cargo test -- --list` asks every test binary what it holds.
    if std::env::args().any(|a| a == "--list") {
        println!("signal_load: test");
        return ExitCode::SUCCESS;
    }
    let options = match Options::parse() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("signal_load: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let modes: &[usize] = match options.replicas {
        0 => &[1, 2],
        1 => &[1],
        _ => &[2],
    };
    let mut failed = false;
    for &replicas in modes {
        let run = runtime.block_on(async {
            tokio::time::timeout(options.timeout, run(options, replicas)).await
        });
        match run {
            Ok(Ok(report)) => {
                report.print();
                if report.lost() > 0 || report.duplicated > 0 || report.out_of_order > 0 {
                    eprintln!("signal_load: FAILED: messages lost, repeated or reordered");
                    failed = true;
                }
            }
            Ok(Err(e)) => {
                eprintln!("signal_load: FAILED with {replicas} replica(s): {e}");
                failed = true;
            }
            Err(_) => {
                eprintln!("signal_load: FAILED: not done within {:?}", options.timeout);
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The servers of one run; killed when dropped.
struct Servers {
    replicas: Vec<Replica>,
    redis: Option<RedisServer>,
}

impl Servers {
    fn start(count: usize, secret: &str) -> Self {
        let bin = std::path::Path::new(BIN);
        // Every socket of the run may sit on one process, all from one
        // address: above the default caps of 1024 connections and 64 per
        // address.
        let capacity = [
            "--http-max-connections",
            "16384",
            "--http-max-connections-per-ip",
            "16384",
        ];
        if count == 1 {
            return Self {
                replicas: vec![Replica::start(bin, secret, &capacity)],
                redis: None,
            };
        }
        let redis = RedisServer::start();
        let args = [&capacity[..], &redis.args()].concat();
        let replicas = (0..count)
            .map(|_| Replica::start(bin, secret, &args))
            .collect();
        Self {
            replicas,
            redis: Some(redis),
        }
    }

    fn rss_kib(&self) -> u64 {
        self.replicas
            .iter()
            .filter_map(|r| r.pid().and_then(rss_kib))
            .sum()
    }
}

async fn run(options: Options, replicas: usize) -> Result<Report, String> {
    let secret = Secret::random_hex();
    let servers = Servers::start(replicas, &secret);
    let secret = Arc::new(secret);
    let http = common::http();
    // Settle the allocator before the baseline.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rss_before_kib = servers.rss_kib();
    let started = Instant::now();

    // Setup: a room per pair, then both sockets, a few rooms at a time.
    let gate = Arc::new(Semaphore::new(SETUP_CONCURRENCY));
    let mut setups = JoinSet::new();
    for index in 0..options.rooms {
        let (gate, secret, http) = (Arc::clone(&gate), Arc::clone(&secret), http.clone());
        let urls = (
            servers.replicas[0].url("/api/calls/rooms"),
            servers.replicas[0].signal_url(""),
            servers.replicas[replicas - 1].signal_url(""),
        );
        setups.spawn(async move {
            let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            set_up_room(index, &secret, &http, urls).await
        });
    }
    let mut pairs = Vec::with_capacity(options.rooms);
    while let Some(result) = setups.join_next().await {
        pairs.push(result.map_err(|e| e.to_string())??);
    }
    let setup = started.elapsed();
    let rss_after_kib = servers.rss_kib();

    // Exchange: every party sends and receives at once.
    let clock = Instant::now();
    let mut parties = JoinSet::new();
    for (a, b) in pairs {
        parties.spawn(exchange(a, options, clock));
        parties.spawn(exchange(b, options, clock));
    }
    let mut report = Report {
        replicas,
        rooms: options.rooms,
        setup,
        latencies_us: Vec::with_capacity(options.rooms * 2 * options.signals),
        expected: options.rooms * 2 * options.signals,
        received: 0,
        duplicated: 0,
        out_of_order: 0,
        unacked: 0,
        rss_before_kib,
        rss_after_kib,
        redis: None,
        elapsed: Duration::ZERO,
        interval: options.interval,
        size: options.size,
    };
    while let Some(result) = parties.join_next().await {
        let party = result.map_err(|e| e.to_string())?;
        report.latencies_us.extend(party.latencies_us);
        report.received += party.received;
        report.duplicated += party.duplicated;
        report.out_of_order += party.out_of_order;
        report.unacked += options.signals - party.acked.min(options.signals);
    }
    report.latencies_us.sort_unstable();
    report.elapsed = started.elapsed();
    report.redis = servers.redis.as_ref().and_then(|r| {
        let info = r.command("INFO");
        let rss = info_field(&info, "used_memory_rss")? / 1024.0;
        let cpu = info_field(&info, "used_cpu_user")? + info_field(&info, "used_cpu_sys")?;
        Some((rss as u64, cpu))
    });
    Ok(report)
}

/// A numeric field of Redis's INFO text.
fn info_field(info: &str, name: &str) -> Option<f64> {
    info.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))?
        .trim()
        .parse()
        .ok()
}

/// Creates room `index` for `load-a-<index>` and `load-b-<index>` and seats
/// both: a on the first replica, b on the last.
async fn set_up_room(
    index: usize,
    secret: &str,
    http: &reqwest::Client,
    (rooms_url, signal_a, signal_b): (String, String, String),
) -> Result<(Socket, Socket), String> {
    let (a, b) = (format!("load-a-{index}"), format!("load-b-{index}"));
    let token =
        |sub: &str| common::sign(&json!({ "sub": sub, "exp": common::now() + 3600 }), secret);
    let (token_a, token_b) = (token(&a), token(&b));
    let response = http
        .post(&rooms_url)
        .bearer_auth(&token_a)
        .json(&json!({ "peer": b }))
        .send()
        .await
        .map_err(|e| format!("POST /api/calls/rooms: {e}"))?;
    let status = response.status();
    let body: Value = response
        .json()
        .await
        .map_err(|e| format!("POST /api/calls/rooms: {e}"))?;
    let Some(room) = body["data"]["room"].as_str().filter(|_| status == 201) else {
        return Err(format!("POST /api/calls/rooms: {status} {body}"));
    };
    let socket_a = join(&format!("{signal_a}{room}"), &token_a).await?;
    let socket_b = join(&format!("{signal_b}{room}"), &token_b).await?;
    Ok((socket_a, socket_b))
}

/// Connects, authenticates and waits for `joined`.
async fn join(url: &str, token: &str) -> Result<Socket, String> {
    let step = async {
        let (mut socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let auth = json!({ "type": "auth", "token": token }).to_string();
        socket
            .send(Message::text(auth))
            .await
            .map_err(|e| format!("auth: {e}"))?;
        loop {
            match socket.next().await {
                Some(Ok(Message::Text(text))) => {
                    let v: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                    if v["type"] == "joined" {
                        return Ok(socket);
                    }
                    return Err(format!("expected joined, got {v}"));
                }
                Some(Ok(_)) => continue,
                other => return Err(format!("socket closed before joined: {other:?}")),
            }
        }
    };
    tokio::time::timeout(STEP_TIMEOUT, step)
        .await
        .map_err(|_| format!("no joined within {STEP_TIMEOUT:?}"))?
}

/// What one party saw.
#[derive(Default)]
struct Party {
    latencies_us: Vec<u64>,
    received: usize,
    duplicated: usize,
    out_of_order: usize,
    acked: usize,
}

/// Sends `signals` signals, one per `interval` (the first after a random
/// part of it, so parties do not all send in the same instant), acks what
/// arrives, and stops once everything is sent, acked and received, or after
/// a bound.
async fn exchange(socket: Socket, options: Options, clock: Instant) -> Party {
    let (mut tx, mut rx) = socket.split();
    let mut party = Party::default();
    let padding = "x".repeat(options.size.saturating_sub(120));
    let offset = options.interval.mul_f64(rand::random::<f64>());
    let mut ticker =
        tokio::time::interval_at(tokio::time::Instant::now() + offset, options.interval);
    let mut sent = 0;
    let mut last_n = 0;
    let give_up =
        tokio::time::sleep(options.interval * options.signals as u32 + Duration::from_secs(60));
    tokio::pin!(give_up);
    while party.received < options.signals || party.acked < options.signals {
        tokio::select! {
            _ = ticker.tick(), if sent < options.signals => {
                sent += 1;
                let t = clock.elapsed().as_micros() as u64;
                let signal = json!({ "type": "signal", "seq": sent,
                    "data": { "type": "candidate", "n": sent, "t": t, "pad": padding } });
                if tx.send(Message::text(signal.to_string())).await.is_err() {
                    break;
                }
            }
            frame = rx.next() => {
                let Some(Ok(frame)) = frame else { break };
                let Message::Text(text) = frame else { continue };
                let Ok(v) = serde_json::from_str::<Value>(&text) else { continue };
                match v["type"].as_str() {
                    Some("ack") => {
                        let seq = v["seq"].as_u64().unwrap_or(0) as usize;
                        party.acked = party.acked.max(seq);
                    }
                    Some("signal") => {
                        let (n, t) = (v["data"]["n"].as_u64().unwrap_or(0), v["data"]["t"].as_u64().unwrap_or(0));
                        if n <= last_n {
                            party.duplicated += 1;
                        } else {
                            if n != last_n + 1 {
                                party.out_of_order += 1;
                            }
                            last_n = n;
                            party.received += 1;
                            party.latencies_us.push((clock.elapsed().as_micros() as u64).saturating_sub(t));
                        }
                        let ack = json!({ "type": "ack", "seq": v["seq"] });
                        if tx.send(Message::text(ack.to_string())).await.is_err() {
                            break;
                        }
                    }
                    _ => {}
                }
            }
            _ = &mut give_up => break,
        }
    }
    let _ = tx.send(Message::Close(None)).await;
    party
}
