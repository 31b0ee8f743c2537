//! Log lines a stranger causes, over real sockets: TURN requests signed with
//! a wrong password, as fast as the server answers them, write one line a
//! second (with how many were left out), not one per packet.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use common::turn_wire::{allocate, error_code, text, Auth, Wire};
use common::*;
use ice_peer_server::providers::turn_rest;
use ice_peer_server::secret::Secret;
use stun::attributes::ATTR_NONCE;
use stun::error_code::CODE_UNAUTHORIZED;
use tracing_subscriber::fmt::MakeWriter;

const TURN_SECRET: &str = "north-star";
const REQUESTS: usize = 500;

/// Everything the server logs, in memory.
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<u8>>>);

impl Log {
    fn lines_with(&self, needle: &str) -> Vec<String> {
        let bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|line| line.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}

impl Write for Log {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut bytes = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Log {
    type Writer = Log;

    fn make_writer(&'a self) -> Log {
        self.clone()
    }
}

#[tokio::test]
async fn a_flood_of_wrong_credentials_writes_a_line_a_second() {
    let log = Log::default();
    tracing_subscriber::fmt()
        .with_writer(log.clone())
        .with_env_filter("info")
        .with_ansi(false)
        .init();
    let server = start(&["--provider", "embedded", "--turn-secret", TURN_SECRET]).await;
    let turn = server.turn_addr.expect("embedded TURN address");
    let (user, _) = turn_rest::credentials(&Secret::new(TURN_SECRET), "mallory", now() + 600);
    let mut wire = Wire::open(turn, false).await;
    let challenge = wire.ask(&allocate(None)).await;
    let auth = Auth {
        user,
        pass: "not-the-password".to_owned(),
        nonce: text(&challenge, ATTR_NONCE).expect("a NONCE in the 401"),
    };
    let started = Instant::now();
    for _ in 0..REQUESTS {
        let answer = wire.ask(&allocate(Some(&auth))).await;
        assert_eq!(error_code(&answer), Some(CODE_UNAUTHORIZED.0));
    }
    let took = started.elapsed();
    // One more after a second: its line counts the ones left out.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let answer = wire.ask(&allocate(Some(&auth))).await;
    assert_eq!(error_code(&answer), Some(CODE_UNAUTHORIZED.0));
    let lines = log.lines_with("refused with 401");
    println!(
        "FIGURE log flood: {} lines for {} refused requests in {} ms",
        lines.len(),
        REQUESTS + 1,
        took.as_millis()
    );
    let seconds = took.as_secs() as usize + 2;
    assert!(
        lines.len() <= seconds + 1,
        "{} lines in {seconds} s: {:?}",
        lines.len(),
        &lines[..lines.len().min(5)]
    );
    let last = lines.last().expect("a line at all");
    assert!(!last.contains("left_out=0"), "{last}");
    assert!(last.contains("left_out="), "{last}");
}
