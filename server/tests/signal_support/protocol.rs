//! The protocol's happy paths and typed errors, scenario by scenario.

use std::time::Duration;

use base64::Engine;
use serde_json::{json, Value};

use super::*;
use crate::common::{now, valid_token};

fn offer(n: u64) -> Value {
    json!({ "type": "offer", "sdp": format!("v=0 #{n}") })
}

pub async fn relays_signals_with_seq_and_acks(args: &[&str]) {
    let server = start_with(args, &[]).await;
    let (_, mut a, mut b, _, _) = pair(&server).await;
    let data = json!({ "type": "offer", "sdp": "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n" });
    send_acked(&mut b, 1, data.clone()).await;
    expect_signal(&mut a, 1, data).await;
    send(&mut a, json!({ "type": "ack", "seq": 1 })).await;
    let candidate = json!({ "type": "candidate", "candidate": { "candidate": "candidate:1 1 udp 1 198.51.100.7 5000 typ host", "sdpMid": "0", "sdpMLineIndex": 0 } });
    send_acked(&mut a, 1, candidate.clone()).await;
    expect_signal(&mut b, 1, candidate).await;
    send_acked(&mut b, 2, offer(2)).await;
    expect_signal(&mut a, 2, offer(2)).await;
    send(&mut a, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut a).await, Frame::Json(json!({ "type": "pong" })));
}

pub async fn rooms_api_binds_two_parties(args: &[&str]) {
    let server = start_with(args, &["--max-rooms-per-user", "2"]).await;
    let token = valid_token("alice");
    let (status, body) = post_room(&server, Some(&token), r#"{"peer":"bob"}"#).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["success"], true, "{body}");
    let room = body["data"]["room"].as_str().expect("room");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(room)
        .expect("base64url without padding");
    assert!(bytes.len() >= 16, "{room}: at least 128 bits");
    let expires = body["data"]["expiresAt"].as_u64().expect("expiresAt in ms");
    let hour = (now() + 3600) * 1000;
    assert!(expires.abs_diff(hour) < 5_000, "{expires} vs {hour}");
    // Ids differ.
    let second = create_room(&server, "alice", "carol").await;
    assert_ne!(second, room);
    // The creator's cap.
    let (status, body) = post_room(&server, Some(&token), r#"{"peer":"dave"}"#).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("too many rooms"))
    );
    // Bad requests.
    let bob = valid_token("bob");
    for bad in [
        "",
        "{}",
        r#"{"peer":""}"#,
        r#"{"peer":"bob"}"#,
        r#"{"peer":7}"#,
        "[",
        r#"{"peer":"a\nb"}"#,
    ] {
        let (status, body) = post_room(&server, Some(&bob), bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_eq!(body["success"], false, "{body}");
    }
    for token in [None, Some("not.a.jwt")] {
        let (status, _) = post_room(&server, token, r#"{"peer":"carol"}"#).await;
        assert_eq!(status, 401);
    }
}

pub async fn mallory_is_forbidden_and_unknown_rooms_not_found(args: &[&str]) {
    let server = start_with(args, &[]).await;
    let room = create_room(&server, "alice", "bob").await;
    let (mut a, hello) = join(&server, &room, "alice").await;
    check_joined(&hello, &room, 1, false, false);
    // Mallory, with a perfectly valid token, comes before Bob.
    let mut mallory = auth(&server, &room, "mallory", json!({})).await;
    expect_close(&mut mallory, "forbidden", 4403).await;
    // Nor can she take a seat with a resume key that is not hers.
    let key = hello["resume"].as_str().expect("key");
    let mut mallory = resume(&server, &room, "mallory", key, 0).await;
    expect_close(&mut mallory, "forbidden", 4403).await;
    // Bob still gets the seat and the offering role; Alice learns it is Bob.
    let (_b, hello) = join(&server, &room, "bob").await;
    check_joined(&hello, &room, 2, true, false);
    assert_eq!(hello["peer"], "alice");
    expect_event(&mut a, "peer-joined", "bob").await;
    // A room that does not exist.
    let mut lost = auth(&server, "AAAAAAAAAAAAAAAAAAAAAA", "alice", json!({})).await;
    expect_close(&mut lost, "not-found", 4404).await;
}

pub async fn a_live_seat_is_not_taken_twice(args: &[&str]) {
    let server = start_with(args, &[]).await;
    let (room, _a, mut b, key_a, _) = pair(&server).await;
    let mut again = auth(&server, &room, "alice", json!({})).await;
    expect_close(&mut again, "seat-taken", 4409).await;
    let mut wrong = resume(&server, &room, "alice", &"0".repeat(32), 0).await;
    expect_close(&mut wrong, "resume-expired", 4412).await;
    // Bob cannot use Alice's key.
    let mut bob = resume(&server, &room, "bob", &key_a, 0).await;
    expect_close(&mut bob, "resume-expired", 4412).await;
    // None of that disturbed the call.
    send(&mut b, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut b).await, Frame::Json(json!({ "type": "pong" })));
}

pub async fn duplicates_are_acked_once_and_gaps_refused(args: &[&str]) {
    let server = start_with(args, &[]).await;
    let (_, mut a, mut b, _, _) = pair(&server).await;
    send_acked(&mut a, 1, offer(1)).await;
    send_acked(&mut a, 1, offer(1)).await;
    send(&mut a, signal(3, offer(3))).await;
    expect_error(&mut a, "bad-seq").await;
    send_acked(&mut a, 2, offer(2)).await;
    // Bob got 1 and 2, once each, numbered by his seat.
    for seq in 1..=2 {
        expect_signal(&mut b, seq, offer(seq)).await;
    }
    send(&mut b, json!({ "type": "ping" })).await;
    assert_eq!(next(&mut b).await, Frame::Json(json!({ "type": "pong" })));
}

pub async fn bad_messages_close_nothing(args: &[&str]) {
    use futures_util::SinkExt;
    use tokio_tungstenite::tungstenite::Message;
    let server = start_with(args, &[]).await;
    let (_, mut a, mut b, _, _) = pair(&server).await;
    a.send(Message::text("{not json")).await.expect("send");
    expect_error(&mut a, "bad-message").await;
    for bad in [
        json!({ "type": "shout" }),
        json!({ "type": "signal", "seq": 1 }),
        json!({ "type": "signal", "data": { "type": "offer" } }),
        json!({ "type": "signal", "seq": 1, "data": "offer" }),
        json!({ "type": "signal", "seq": 1, "data": { "sdp": "no type" } }),
        json!({ "type": "auth", "token": valid_token("alice") }),
        json!([1, 2]),
    ] {
        send(&mut a, bad.clone()).await;
        expect_error(&mut a, "bad-message").await;
    }
    a.send(Message::binary(vec![1, 2, 3])).await.expect("send");
    expect_error(&mut a, "bad-message").await;
    send_acked(&mut a, 1, offer(1)).await;
    expect_signal(&mut b, 1, offer(1)).await;
}

pub async fn signals_before_the_peer_joins_are_replayed(args: &[&str]) {
    let server = start_with(args, &[]).await;
    let room = create_room(&server, "alice", "bob").await;
    let (mut a, _) = join(&server, &room, "alice").await;
    for seq in 1..=2 {
        send_acked(&mut a, seq, offer(seq)).await;
    }
    let (mut b, hello) = join(&server, &room, "bob").await;
    check_joined(&hello, &room, 2, true, false);
    for seq in 1..=2 {
        expect_signal(&mut b, seq, offer(seq)).await;
    }
}

pub async fn resume_replays_what_was_missed(args: &[&str]) {
    let server = start_with(args, &[]).await;
    let (room, mut a, mut b, key_a, _) = pair(&server).await;
    send_acked(&mut b, 1, offer(1)).await;
    assert!(matches!(next(&mut a).await, Frame::Json(v) if v["seq"] == 1));
    send_acked(&mut a, 1, offer(10)).await;
    assert!(matches!(next(&mut b).await, Frame::Json(v) if v["seq"] == 1));
    // Alice's socket goes; Bob hears it, and sends two more meanwhile.
    drop(a);
    expect_event(&mut b, "peer-left", "alice").await;
    for seq in 2..=3 {
        send_acked(&mut b, seq, offer(seq)).await;
    }
    // Alice received seq 1 only: the replay starts at 2, same key, same role.
    let mut again = resume(&server, &room, "alice", &key_a, 1).await;
    let hello = match next(&mut again).await {
        Frame::Json(v) => v,
        other => panic!("expected joined, got {other:?}"),
    };
    assert_eq!(check_joined(&hello, &room, 2, false, true), key_a);
    assert_eq!(hello["acked"], 1, "{hello}");
    assert_eq!(hello["peer"], "bob", "{hello}");
    for seq in 2..=3 {
        expect_signal(&mut again, seq, offer(seq)).await;
    }
    expect_event(&mut b, "peer-resumed", "alice").await;
    // A resume that finds the old socket still open replaces it.
    let mut third = resume(&server, &room, "alice", &key_a, 3).await;
    assert!(matches!(next(&mut third).await, Frame::Json(v) if v["resumed"] == true));
    expect_close(&mut again, "replaced", 4000).await;
    expect_event(&mut b, "peer-resumed", "alice").await;
    send_acked(&mut b, 4, offer(4)).await;
    expect_signal(&mut third, 4, offer(4)).await;
}

pub async fn resume_expires_past_the_replay_bound(args: &[&str]) {
    let server = start_with(args, &[]).await;
    let (room, a, mut b, key_a, _) = pair(&server).await;
    drop(a);
    assert!(matches!(next(&mut b).await, Frame::Json(v) if v["type"] == "peer-left"));
    // 257 signals for an absent Alice: one more than her buffer keeps.
    for seq in 1..=257 {
        send_acked(&mut b, seq, offer(seq)).await;
    }
    let mut again = resume(&server, &room, "alice", &key_a, 0).await;
    expect_close(&mut again, "resume-expired", 4412).await;
    // Starting over works at once: a new key, counters from 0, Bob told to renegotiate.
    let (mut fresh, hello) = join(&server, &room, "alice").await;
    let key = check_joined(&hello, &room, 2, true, false);
    assert_ne!(key, key_a);
    assert_eq!(hello["acked"], 0);
    expect_event(&mut b, "peer-joined", "alice").await;
    send_acked(&mut b, 258, offer(258)).await;
    expect_signal(&mut fresh, 1, offer(258)).await;
}

pub async fn idle_rooms_expire_and_activity_keeps_them(args: &[&str]) {
    let server = start_with(args, &["--signal-idle-secs", "1"]).await;
    let (_, mut a, mut b, _, _) = pair(&server).await;
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        send(&mut a, json!({ "type": "ping" })).await;
        assert_eq!(next(&mut a).await, Frame::Json(json!({ "type": "pong" })));
    }
    expect_close(&mut a, "room-expired", 4410).await;
    expect_close(&mut b, "room-expired", 4410).await;
    assert_eq!(server.state().signal.registry.room_count().await, 0);
}

pub async fn an_unused_room_expires_even_under_failed_joins(args: &[&str]) {
    let server = start_with(args, &["--room-ttl-secs", "1"]).await;
    let room = create_room(&server, "alice", "bob").await;
    let created = std::time::Instant::now();
    // Mallory knocks every 100 ms for 1.5 s; her failures are not activity,
    // so the room goes at its TTL all the same.
    let mut knocks = Vec::new();
    while created.elapsed() < Duration::from_millis(1500) {
        let mut mallory = auth(&server, &room, "mallory", json!({})).await;
        match next(&mut mallory).await {
            Frame::Json(v) => knocks.push(v["code"].as_str().unwrap_or("?").to_owned()),
            other => panic!("{other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        knocks.first().map(String::as_str),
        Some("forbidden"),
        "{knocks:?}"
    );
    let mut late = auth(&server, &room, "alice", json!({})).await;
    expect_close(&mut late, "not-found", 4404).await;
    assert_eq!(server.state().signal.registry.room_count().await, 0);
}
