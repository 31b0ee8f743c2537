//! What replay buffers cost: the bytes a buffer's bound counts are the bytes
//! the server holds, and all buffers together stay within
//! `--signal-replay-budget-mib`.

use std::path::Path;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use super::*;
use crate::common::replica::{rss_kib, Replica};
use crate::common::JWT_SECRET;

pub(super) const BIN: &str = env!("CARGO_BIN_EXE_ice-peer-server");

/// `{"type":"x","a":[0,0,...]}` with `zeros` zeros, as JSON text, and the
/// same object as the server relays it (serde_json's order: keys sorted).
fn amplifying(zeros: usize) -> (String, String) {
    let array = vec!["0"; zeros].join(",");
    (
        format!(r#"{{"type":"x","a":[{array}]}}"#),
        format!(r#"{{"a":[{array}],"type":"x"}}"#),
    )
}

/// The next text frame, unparsed.
async fn next_text(socket: &mut Socket) -> String {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame in time");
        match frame {
            Some(Ok(Message::Text(text))) => return text.to_string(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// `sub` authenticates on a new socket to `room` of `replica`; returns it after `joined`.
pub(super) async fn join_replica(replica: &Replica, room: &str, sub: &str) -> Socket {
    let (mut socket, _) = tokio_tungstenite::connect_async(replica.signal_url(room))
        .await
        .expect("websocket connects");
    send(
        &mut socket,
        json!({ "type": "auth", "token": crate::common::valid_token(sub) }),
    )
    .await;
    assert!(matches!(next(&mut socket).await, Frame::Json(v) if v["type"] == "joined"));
    socket
}

/// The attack an auditor confirmed: one subject fills 32 rooms made for
/// peers who never come with 16 signals of 64 KB each, every one a JSON
/// array of 32,000 zeros, and leaves. Each seat's bound counts 1 MB of JSON
/// text; a server that keeps the parsed trees (about 16 times the text)
/// holds about 500 MiB until the rooms idle out. On its own process, so
/// that its resident memory is the server's alone.
pub async fn amplifying_signals_hold_what_the_bound_counts(args: &[&str]) {
    const ROOMS: usize = 32;
    const SIGNALS: u64 = 16;
    /// Twice what the text itself takes (32 MB), an eighth of the parsed trees.
    const MAX_GROWTH_KIB: u64 = 128 * 1024;
    // What one subject may hold is what this measures: its share must
    // not stop it first (32 MB here, 8 MiB by default).
    let share = ["--signal-replay-per-user-mib", "64"];
    let replica = Replica::start(Path::new(BIN), JWT_SECRET, &[args, &share].concat());
    let pid = replica.pid().expect("running");
    let token = crate::common::valid_token("mallory");
    let (data, relayed) = amplifying(32_000);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kib(pid).expect("server RSS");
    let mut rooms = Vec::new();
    for n in 0..ROOMS {
        let response = crate::common::http()
            .post(replica.url("/api/calls/rooms"))
            .bearer_auth(&token)
            .json(&json!({ "peer": format!("nobody-{n}") }))
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status().as_u16(), 201, "room {n}");
        let body: Value = response.json().await.expect("JSON");
        let room = body["data"]["room"].as_str().expect("room id").to_owned();
        let mut socket = join_replica(&replica, &room, "mallory").await;
        for seq in 1..=SIGNALS {
            let text = format!(r#"{{"type":"signal","seq":{seq},"data":{data}}}"#);
            assert!(text.len() <= 64 * 1024, "{} bytes", text.len());
            socket.send(Message::text(text)).await.expect("send");
            assert_eq!(
                next(&mut socket).await,
                Frame::Json(json!({ "type": "ack", "seq": seq })),
                "room {n}"
            );
        }
        socket.close(None).await.expect("close");
        rooms.push(room);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(pid).expect("server RSS");
    let growth = after.saturating_sub(before);
    eprintln!(
        "FIGURE replay-amplification {args:?}: {ROOMS} rooms x {SIGNALS} signals of {} B \
         ({} MB of JSON) held; server RSS {} MiB before, {} MiB after (+{} MiB)",
        data.len(),
        ROOMS * SIGNALS as usize * data.len() / 1_000_000,
        before / 1024,
        after / 1024,
        growth / 1024,
    );
    // Nothing was dropped to get there: a peer that comes gets all of it,
    // byte for byte as the server has always written it.
    let mut peer = join_replica(&replica, &rooms[0], "nobody-0").await;
    for seq in 1..=SIGNALS {
        assert_eq!(
            next_text(&mut peer).await,
            format!(r#"{{"type":"signal","seq":{seq},"data":{relayed}}}"#)
        );
    }
    assert!(
        growth < MAX_GROWTH_KIB,
        "{growth} KiB held for {} KB of replay",
        ROOMS * SIGNALS as usize * data.len() / 1000
    );
}

/// Signal `seq` of 60 KB (60,025 bytes as the server holds it).
fn big(seq: u64) -> Value {
    json!({ "type": "offer", "sdp": format!("{seq:05}{}", "x".repeat(59_995)) })
}

/// What [`alice_fills_two_rooms_until_refused`] leaves: her socket in the
/// room with Bob, the two rooms, and her resume key for the one with Carol.
struct AliceRefused {
    a: Socket,
    room_a: String,
    room_b: String,
    key: String,
}

/// Alice stores 10 signals of 60 KB in a room with Bob and 7 in one with
/// Carol, all acked; her 18th, in Carol's room, is refused with
/// `unavailable`, which closes that socket.
async fn alice_fills_two_rooms_until_refused(server: &TestServer) -> AliceRefused {
    let room_a = create_room(server, "alice", "bob").await;
    let (mut a, _) = join(server, &room_a, "alice").await;
    for seq in 1..=10 {
        send_acked(&mut a, seq, big(seq)).await;
    }
    let room_b = create_room(server, "alice", "carol").await;
    let (mut b, hello) = join(server, &room_b, "alice").await;
    let key = hello["resume"].as_str().expect("resume key").to_owned();
    for seq in 1..=7 {
        send_acked(&mut b, seq, big(seq)).await;
    }
    send(&mut b, signal(8, big(8))).await;
    expect_close(&mut b, "unavailable", 1011).await;
    AliceRefused {
        a,
        room_a,
        room_b,
        key,
    }
}

/// With a 1 MiB budget for all rooms: 10 signals in one room and 7 in
/// another fill it, the 18th is refused with `unavailable` (the socket
/// closes; the client resumes), and every signal stored before is kept and
/// replayed. Bob's ack gives his room's bytes back, and the refused signal
/// is stored when sent again.
pub async fn the_replay_budget_refuses_new_signals_and_keeps_the_stored(args: &[&str]) {
    let server = start_with(args, &["--signal-replay-budget-mib", "1"]).await;
    // Alice stays in room A: her socket is kept open, not dropped.
    let AliceRefused {
        a: _alice_in_room_a,
        room_a,
        room_b,
        key,
    } = alice_fills_two_rooms_until_refused(&server).await;

    let mut b = resume(&server, &room_b, "alice", &key, 0).await;
    match next(&mut b).await {
        Frame::Json(hello) => assert_eq!(hello["acked"], 7, "{hello}"),
        other => panic!("expected joined, got {other:?}"),
    }
    let (mut bob, _) = join(&server, &room_a, "bob").await;
    for seq in 1..=10 {
        expect_signal(&mut bob, seq, big(seq)).await;
    }
    send(&mut bob, json!({ "type": "ack", "seq": 10 })).await;
    // Bob's socket reads in order: its pong follows the ack's effect.
    send(&mut bob, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut bob).await, Frame::Json(json!({ "type": "pong" })));
    send_acked(&mut b, 8, big(8)).await;
    let (mut carol, _) = join(&server, &room_b, "carol").await;
    for seq in 1..=8 {
        expect_signal(&mut carol, seq, big(seq)).await;
    }
}

/// A room that expires gives its share of the budget back.
pub async fn an_expired_room_gives_its_replay_budget_back(args: &[&str]) {
    let flags = ["--signal-replay-budget-mib", "1", "--signal-idle-secs", "1"];
    let server = start_with(args, &flags).await;
    let room = create_room(&server, "alice", "bob").await;
    let (mut a, _) = join(&server, &room, "alice").await;
    for seq in 1..=17 {
        send_acked(&mut a, seq, big(seq)).await;
    }
    drop(a);
    let other = create_room(&server, "alice", "carol").await;
    let (mut b, _) = join(&server, &other, "alice").await;
    send(&mut b, signal(1, big(1))).await;
    expect_close(&mut b, "unavailable", 1011).await;
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let third = create_room(&server, "alice", "dave").await;
    let (mut c, _) = join(&server, &third, "alice").await;
    send_acked(&mut c, 1, big(1)).await;
}

/// With 4 MiB for all rooms and 1 MiB per subject: Alice's 10 signals in
/// one room and 7 in another fill her share, so her 18th is refused with
/// `unavailable` though the budget has room for three more of her. Bob, a
/// subject of his own, still sends (to her, in the same room), everything
/// Alice stored is kept and replayed, and Bob's ack gives her share back.
pub async fn a_subject_past_its_replay_share_is_refused_and_others_are_not(args: &[&str]) {
    let share = ["--signal-replay-per-user-mib", "1"];
    let flags = [&["--signal-replay-budget-mib", "4"][..], &share].concat();
    let server = start_with(args, &flags).await;
    let AliceRefused {
        mut a,
        room_a,
        room_b,
        key,
    } = alice_fills_two_rooms_until_refused(&server).await;

    let (mut bob, _) = join(&server, &room_a, "bob").await;
    expect_event(&mut a, "peer-joined", "bob").await;
    for seq in 1..=10 {
        expect_signal(&mut bob, seq, big(seq)).await;
    }
    for seq in 1..=10 {
        send_acked(&mut bob, seq, big(seq)).await;
    }
    for seq in 1..=10 {
        expect_signal(&mut a, seq, big(seq)).await;
    }
    send(&mut bob, json!({ "type": "ack", "seq": 10 })).await;
    // Bob's socket reads in order: its pong follows the ack's effect.
    send(&mut bob, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut bob).await, Frame::Json(json!({ "type": "pong" })));
    let mut b = resume(&server, &room_b, "alice", &key, 0).await;
    assert!(matches!(next(&mut b).await, Frame::Json(v) if v["acked"] == 7));
    send_acked(&mut b, 8, big(8)).await;
    let (mut carol, _) = join(&server, &room_b, "carol").await;
    for seq in 1..=8 {
        expect_signal(&mut carol, seq, big(seq)).await;
    }
}
