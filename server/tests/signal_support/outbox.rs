//! What a socket that does not read costs the server: its outbound queue
//! is bounded by the bytes it holds, not only by its number of messages.

use std::path::Path;
use std::time::Duration;

use futures_util::SinkExt;
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::replay::{join_replica, BIN};
use super::*;
use crate::common::replica::{peak_rss_kib, Replica};
use crate::common::JWT_SECRET;

/// `{"type":"x","n":[1e15,1e15,...]}`: 65 KB as sent, and about 247 KB as
/// the server relays it, since serde_json writes each `1e15` out in full
/// (`1000000000000000.0`).
fn growing_data() -> String {
    let numbers = vec!["1e15"; 13_000].join(",");
    format!(r#"{{"type":"x","n":[{numbers}]}}"#)
}

/// Bob sends signals that grow fourfold when relayed, as fast as the server
/// acks them, to Alice, who stopped reading. Counted in messages, her queue
/// held 64 of them (16 MB) before it closed her; counted in bytes, it holds
/// about `--signal-outbox-kib` (1 MiB by default). On its own process, so
/// that the peak of its resident memory is the server's alone.
pub async fn a_consumer_that_does_not_read_is_closed_past_its_outbox_bytes(args: &[&str]) {
    /// What a 1 MiB outbox, Alice's replay buffer (at most 1 MiB, sharing
    /// the same signals) and one signal being parsed take, with room for the
    /// allocator's slack (4.4 MiB measured); a queue of 64 of these signals
    /// takes 16 MB (+19 to +25 MiB measured before the byte bound).
    const MAX_PEAK_GROWTH_KIB: u64 = 10 * 1024;
    const MAX_SIGNALS: u64 = 300;
    let replica = Replica::start(Path::new(BIN), JWT_SECRET, args);
    let pid = replica.pid().expect("running");
    let response = crate::common::http()
        .post(replica.url("/api/calls/rooms"))
        .bearer_auth(crate::common::valid_token("alice"))
        .json(&json!({ "peer": "bob" }))
        .send()
        .await
        .expect("answered");
    let body: Value = response.json().await.expect("JSON");
    let room = body["data"]["room"].as_str().expect("room id").to_owned();
    let mut alice = join_replica(&replica, &room, "alice").await;
    let mut bob = join_replica(&replica, &room, "bob").await;
    assert!(matches!(next(&mut alice).await, Frame::Json(v) if v["type"] == "peer-joined"));
    let data = growing_data();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = peak_rss_kib(pid).expect("server's peak RSS");

    let mut closed_after = None;
    for seq in 1..=MAX_SIGNALS {
        let text = format!(r#"{{"type":"signal","seq":{seq},"data":{data}}}"#);
        assert!(text.len() <= 64 * 1024, "{} bytes", text.len());
        bob.send(Message::text(text)).await.expect("bob sends");
        // Until the ack; peer-left means Alice was closed.
        loop {
            match next_within(&mut bob, Duration::from_secs(10)).await {
                Frame::Json(v) if v["type"] == "ack" && v["seq"] == seq => break,
                Frame::Json(v) if v["type"] == "peer-left" => closed_after = Some(seq),
                other => panic!("bob got {other:?}"),
            }
        }
        if closed_after.is_some() {
            break;
        }
    }
    let after = peak_rss_kib(pid).expect("server's peak RSS");
    let growth = after.saturating_sub(before);
    eprintln!(
        "FIGURE outbox-bytes {args:?}: Alice closed after {closed_after:?} signals of {} B \
         (about 247 KB each as relayed); server's peak RSS {} MiB before, {} MiB after (+{} KiB)",
        data.len(),
        before / 1024,
        after / 1024,
        growth,
    );
    assert!(
        closed_after.is_some(),
        "Alice, who reads nothing, still has her socket after {MAX_SIGNALS} signals"
    );
    // Alice reads again: what was on its way, then the typed close.
    let code = loop {
        match next_within(&mut alice, Duration::from_secs(10)).await {
            Frame::Json(v) if v["type"] == "signal" => {}
            Frame::Json(v) => {
                assert_eq!(v["code"], "slow-consumer", "{v}");
                break next(&mut alice).await;
            }
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!(code, Frame::Closed(Some(4429)));
    assert!(
        growth < MAX_PEAK_GROWTH_KIB,
        "the server's peak RSS grew {growth} KiB for one socket that does not read"
    );
}
