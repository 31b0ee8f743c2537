//! A client that does what the protocol asks of one (an outbox of unacked
//! signals sent again after a resume, cumulative acks, duplicates dropped),
//! and the test that cuts sockets mid-stream under it.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::{json, Value};
use tokio_tungstenite::MaybeTlsStream;

use super::*;
use crate::common::TestServer;

/// One party of a call, as a well-behaved client.
pub struct Party {
    sub: String,
    room: String,
    socket: Socket,
    key: String,
    /// The last client seq used.
    sent: u64,
    /// Sent but not yet acked by the server.
    unacked: VecDeque<(u64, Value)>,
    /// The highest server seq received in order.
    received: u64,
    /// Every `data` received, in order.
    pub got: Vec<Value>,
    /// Sockets this party abandoned without closing them.
    abandoned: Vec<Socket>,
    pub resumes: u32,
}

/// How a socket dies.
#[derive(Debug, Clone, Copy)]
pub enum Cut {
    /// TCP reset: whatever either side had in flight is lost.
    Reset,
    /// The socket is left open but unused, as a dead network leaves it;
    /// the resume on a new socket replaces it.
    Abandon,
}

impl Party {
    /// Joins afresh (the seat must be free).
    pub async fn join(server: &TestServer, room: &str, sub: &str) -> Self {
        let (socket, hello) = join(server, room, sub).await;
        Self {
            sub: sub.to_owned(),
            room: room.to_owned(),
            socket,
            key: hello["resume"].as_str().expect("key").to_owned(),
            sent: 0,
            unacked: VecDeque::new(),
            received: 0,
            got: Vec::new(),
            abandoned: Vec::new(),
            resumes: 0,
        }
    }

    /// Sends a signal, keeping it until the server acks it.
    pub async fn send_data(&mut self, data: Value) {
        self.sent += 1;
        self.unacked.push_back((self.sent, data.clone()));
        send(&mut self.socket, signal(self.sent, data)).await;
    }

    /// Handles one server message.
    pub async fn on_message(&mut self, message: Value) {
        match message["type"].as_str() {
            Some("ack") => {
                let seq = message["seq"].as_u64().expect("seq");
                while self.unacked.front().is_some_and(|(s, _)| *s <= seq) {
                    self.unacked.pop_front();
                }
            }
            Some("signal") => {
                let seq = message["seq"].as_u64().expect("seq");
                assert!(
                    seq <= self.received + 1,
                    "{}: gap before {message}",
                    self.sub
                );
                if seq == self.received + 1 {
                    self.received = seq;
                    self.got.push(message["data"].clone());
                    send(&mut self.socket, json!({ "type": "ack", "seq": seq })).await;
                }
            }
            Some("peer-joined" | "peer-left" | "peer-resumed" | "pong") => {}
            _ => panic!("{}: unexpected {message}", self.sub),
        }
    }

    /// Kills the socket as `cut` says, then resumes on a new one.
    pub async fn cut_and_resume(&mut self, server: &TestServer, cut: Cut) {
        let old = std::mem::replace(&mut self.socket, open(server, &self.room).await);
        match cut {
            Cut::Reset => {
                if let MaybeTlsStream::Plain(tcp) = old.get_ref() {
                    tcp.set_zero_linger().expect("SO_LINGER 0");
                }
                drop(old);
            }
            Cut::Abandon => self.abandoned.push(old),
        }
        self.resume().await;
    }

    /// Resumes on the current (new) socket and sends again what the
    /// server has not stored.
    async fn resume(&mut self) {
        let token = crate::common::valid_token(&self.sub);
        let auth =
            json!({ "type": "auth", "token": token, "resume": self.key, "ack": self.received });
        send(&mut self.socket, auth).await;
        let hello = match next(&mut self.socket).await {
            Frame::Json(v) if v["type"] == "joined" => v,
            other => panic!("{}: expected joined, got {other:?}", self.sub),
        };
        assert_eq!(hello["resumed"], true, "{hello}");
        self.resumes += 1;
        let acked = hello["acked"].as_u64().expect("acked");
        while self.unacked.front().is_some_and(|(s, _)| *s <= acked) {
            self.unacked.pop_front();
        }
        let again: Vec<_> = self.unacked.iter().cloned().collect();
        for (seq, data) in again {
            send(&mut self.socket, signal(seq, data)).await;
        }
    }

    /// Sends `count` numbered signals, one per `pace`, cutting the socket
    /// after the `cut_after`th; returns once all are acked and `expect`
    /// signals have arrived from the other party.
    pub async fn exchange(
        mut self,
        server: &TestServer,
        count: u64,
        cut_after: Option<(u64, Cut)>,
        expect: usize,
    ) -> Self {
        let mut pace = tokio::time::interval(Duration::from_millis(2));
        loop {
            if self.sent == count && self.unacked.is_empty() && self.got.len() >= expect {
                return self;
            }
            tokio::select! {
                frame = next_within(&mut self.socket, Duration::from_secs(10)) => match frame {
                    Frame::Json(v) => self.on_message(v).await,
                    Frame::Closed(code) => panic!("{}: socket closed ({code:?})", self.sub),
                },
                _ = pace.tick(), if self.sent < count => {
                    let n = self.sent + 1;
                    self.send_data(json!({ "type": "candidate", "from": self.sub, "n": n })).await;
                    if let Some((after, cut)) = cut_after.filter(|(after, _)| *after == n) {
                        let _ = after;
                        self.cut_and_resume(server, cut).await;
                    }
                }
            }
        }
    }
}

/// The numbers `1..=count` that `from` sent, as the other party must see them.
fn expected(from: &str, count: u64) -> Vec<Value> {
    (1..=count)
        .map(|n| json!({ "type": "candidate", "from": from, "n": n }))
        .collect()
}

pub async fn a_cut_socket_loses_nothing_both_ways(args: &[&str]) {
    const COUNT: u64 = 200;
    let server = start_with(args, &[]).await;
    let room = create_room(&server, "alice", "bob").await;
    let alice = Party::join(&server, &room, "alice").await;
    let bob = Party::join(&server, &room, "bob").await;
    // Alice's TCP is reset at 70, Bob's network goes silent at 140.
    let run = async {
        tokio::join!(
            alice.exchange(&server, COUNT, Some((70, Cut::Reset)), COUNT as usize),
            bob.exchange(&server, COUNT, Some((140, Cut::Abandon)), COUNT as usize),
        )
    };
    let (alice, bob) = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("the exchange ends within 60 s");
    assert_eq!((alice.resumes, bob.resumes), (1, 1));
    assert_eq!(
        alice.got,
        expected("bob", COUNT),
        "alice got each once, in order"
    );
    assert_eq!(
        bob.got,
        expected("alice", COUNT),
        "bob got each once, in order"
    );
}
