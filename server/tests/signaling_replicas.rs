//! Two replicas of the server binary sharing rooms through a redis-server of
//! the test's own: parties on different replicas, a replica killed mid-call,
//! Redis restarted under live replicas.

mod common;
mod signal_support;

use std::path::Path;
use std::time::{Duration, Instant};

use common::redis_server::RedisServer;
use common::replica::Replica;
use common::{http, valid_token, JWT_SECRET};
use serde_json::{json, Value};
use signal_support::{
    expect_close, expect_event, expect_signal, next, send, send_acked, Frame, Socket,
};

const BIN: &str = env!("CARGO_BIN_EXE_ice-peer-server");

fn replicas(redis: &RedisServer) -> (Replica, Replica) {
    let start = || Replica::start(Path::new(BIN), JWT_SECRET, &redis.args());
    (start(), start())
}

/// `POST /api/calls/rooms` on `replica`: the status and the room id, if any.
async fn try_create_room(replica: &Replica, creator: &str, peer: &str) -> (u16, Option<String>) {
    let response = http()
        .post(replica.url("/api/calls/rooms"))
        .bearer_auth(valid_token(creator))
        .json(&json!({ "peer": peer }))
        .send()
        .await
        .expect("answered");
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    (status, body["data"]["room"].as_str().map(str::to_owned))
}

async fn create_room(replica: &Replica, creator: &str, peer: &str) -> String {
    match try_create_room(replica, creator, peer).await {
        (201, Some(room)) => room,
        other => panic!("room not created: {other:?}"),
    }
}

/// Authenticates `sub` in `room` on `replica` (resuming with `resume`);
/// returns the socket and its first message.
async fn join(
    replica: &Replica,
    room: &str,
    sub: &str,
    resume: Option<(&str, u64)>,
) -> (Socket, Value) {
    let (mut socket, _) = tokio_tungstenite::connect_async(replica.signal_url(room))
        .await
        .expect("websocket connects");
    let mut auth = json!({ "type": "auth", "token": valid_token(sub) });
    if let Some((key, ack)) = resume {
        auth["resume"] = json!(key);
        auth["ack"] = json!(ack);
    }
    send(&mut socket, auth).await;
    match next(&mut socket).await {
        Frame::Json(hello) => (socket, hello),
        closed => panic!("{sub}: no answer to auth but {closed:?}"),
    }
}

fn offer(n: u64) -> Value {
    json!({ "type": "offer", "sdp": format!("sdp-{n}") })
}

/// Receives server seq `seq` carrying `data`, and acks it.
async fn receive(socket: &mut Socket, seq: u64, data: Value) {
    expect_signal(socket, seq, data).await;
    send(socket, json!({ "type": "ack", "seq": seq })).await;
}

/// Alice on `a`, Bob on `b`, in a new room: (room, alice, bob, alice's key).
async fn call(a: &Replica, b: &Replica) -> (String, Socket, Socket, String) {
    let room = create_room(a, "alice", "bob").await;
    let (mut alice, hello) = join(a, &room, "alice", None).await;
    assert_eq!(hello["type"], "joined", "{hello}");
    let key = hello["resume"].as_str().expect("resume key").to_owned();
    let (bob, hello) = join(b, &room, "bob", None).await;
    assert_eq!(hello["type"], "joined", "{hello}");
    assert_eq!(
        (&hello["initiator"], &hello["peer"]),
        (&json!(true), &json!("alice"))
    );
    expect_event(&mut alice, "peer-joined", "bob").await;
    (room, alice, bob, key)
}

#[tokio::test]
async fn parties_on_two_replicas_signal_both_ways() {
    let redis = RedisServer::start();
    let (one, two) = replicas(&redis);
    let (_, mut alice, mut bob, _) = call(&one, &two).await;
    for n in 1..=3 {
        send_acked(&mut alice, n, offer(n)).await;
        receive(&mut bob, n, offer(n)).await;
        let answer = json!({ "type": "answer", "sdp": format!("answer-{n}") });
        send_acked(&mut bob, n, answer.clone()).await;
        receive(&mut alice, n, answer).await;
    }
    bob.close(None).await.expect("bob closes");
    expect_event(&mut alice, "peer-left", "bob").await;
}

#[tokio::test]
async fn a_killed_replica_costs_the_call_nothing() {
    let redis = RedisServer::start();
    let (mut one, two) = replicas(&redis);
    let (room, mut alice, mut bob, key) = call(&one, &two).await;
    send_acked(&mut alice, 1, offer(1)).await;
    receive(&mut bob, 1, offer(1)).await;
    send_acked(&mut bob, 1, offer(101)).await;
    receive(&mut alice, 1, offer(101)).await;

    one.kill();
    drop(alice);
    // Bob keeps talking while Alice is away: each signal is stored (acked).
    for n in 2..=6 {
        send_acked(&mut bob, n, offer(100 + n)).await;
    }
    let (mut alice, hello) = join(&two, &room, "alice", Some((&key, 1))).await;
    assert_eq!(hello["type"], "joined", "{hello}");
    assert_eq!(
        (&hello["resumed"], &hello["acked"], &hello["initiator"]),
        (&json!(true), &json!(1), &json!(false)),
        "{hello}"
    );
    for n in 2..=6 {
        receive(&mut alice, n, offer(100 + n)).await;
    }
    expect_event(&mut bob, "peer-resumed", "alice").await;
    // The call goes on through the surviving replica.
    send_acked(&mut alice, 2, offer(2)).await;
    receive(&mut bob, 2, offer(2)).await;
}

#[tokio::test]
async fn replicas_reconnect_after_redis_restarts() {
    let mut redis = RedisServer::start();
    let (one, two) = replicas(&redis);
    let (room, mut alice, mut bob, key) = call(&one, &two).await;
    send_acked(&mut alice, 1, offer(1)).await;
    receive(&mut bob, 1, offer(1)).await;

    redis.restart();
    // Both sockets may have missed a delivery: closed with "unavailable".
    for socket in [&mut alice, &mut bob] {
        expect_close(socket, "unavailable", 1011).await;
    }
    // New rooms work again once the replicas are back (bounded backoff).
    let deadline = Instant::now() + Duration::from_secs(20);
    let new_room = loop {
        match try_create_room(&one, "alice", "bob").await {
            (201, Some(room)) => break room,
            (503, _) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            other => panic!("no new room after Redis restarted: {other:?}"),
        }
    };
    let mut alice = join_when_up(&one, &new_room, "alice", deadline).await;
    let mut bob = join_when_up(&two, &new_room, "bob", deadline).await;
    expect_event(&mut alice, "peer-joined", "bob").await;
    send_acked(&mut alice, 1, offer(1)).await;
    receive(&mut bob, 1, offer(1)).await;
    send_acked(&mut bob, 1, offer(2)).await;
    receive(&mut alice, 1, offer(2)).await;
    // What the old room held went with Redis: it is gone.
    let (_, hello) = join(&one, &room, "alice", Some((&key, 0))).await;
    assert_eq!(hello["code"], "not-found", "{hello}");
}

/// Joins, trying again while the replica answers "unavailable" (its
/// subscription is not back yet), until `deadline`.
async fn join_when_up(replica: &Replica, room: &str, sub: &str, deadline: Instant) -> Socket {
    loop {
        let (socket, hello) = join(replica, room, sub, None).await;
        match hello["type"].as_str() {
            Some("joined") => return socket,
            _ if hello["code"] == "unavailable" && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            _ => panic!("{sub} not seated after Redis restarted: {hello}"),
        }
    }
}

#[tokio::test]
async fn a_seat_held_by_a_killed_replica_is_free_once_its_heartbeat_lapses() {
    let redis = RedisServer::start();
    let (mut one, two) = replicas(&redis);
    let (room, _alice, mut bob, _) = call(&one, &two).await;
    one.kill();
    // Alice lost her key with the page: a fresh auth. At first her seat
    // still looks held (the dead replica's heartbeat has not lapsed).
    let (_, hello) = join(&two, &room, "alice", None).await;
    assert_eq!(hello["code"], "seat-taken", "{hello}");
    // Then it is free: the heartbeat key lives 6 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut alice = loop {
        let (socket, hello) = join(&two, &room, "alice", None).await;
        match hello["type"].as_str() {
            Some("joined") => break socket,
            _ if hello["code"] == "seat-taken" && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(250)).await
            }
            _ => panic!("alice's seat not freed: {hello}"),
        }
    };
    expect_event(&mut bob, "peer-joined", "alice").await;
    send_acked(&mut alice, 1, offer(1)).await;
    receive(&mut bob, 1, offer(1)).await;
}
