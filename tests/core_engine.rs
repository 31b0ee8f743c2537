//! The peer engine without a browser: unit tests of its decisions, and two
//! engines wired through a model of `RTCPeerConnection`'s signaling (the
//! operations chain, implicit rollback, `restartIce`, `negotiationneeded`)
//! so that property tests can try every interleaving of crossing offers.

#![cfg(not(target_arch = "wasm32"))]

use ice_peer::core::engine::{EngineConfig, Event, Input, Output, PeerEngine, Signal, SILENCE_MS};
use ice_peer::core::negotiation::{Description, Op, SdpKind};
use ice_peer::core::network_quality::NetworkQuality;
use ice_peer::core::quality::IceState;
use ice_peer::core::recovery::RecoveryConfig;
use ice_peer::core::servers::IceServer;
use ice_peer::core::stats::{stats_id, PeerStats};
use proptest::prelude::*;
use std::collections::VecDeque;

/// Opaque browser values in these tests: a candidate is the ice-ufrag it
/// belongs to; an error is its message.
type Value = String;

fn turn(credential: &str) -> IceServer {
    IceServer {
        urls: vec!["turn:turn.example.org:3478".into()],
        username: Some("u".into()),
        credential: Some(credential.into()),
    }
}

fn engine(initiator: bool, uses_manager: bool) -> PeerEngine<Value> {
    PeerEngine::new(EngineConfig {
        initiator,
        uses_manager,
        servers: vec![turn("old")],
        recovery: RecoveryConfig::default(),
    })
}

fn drain(e: &mut PeerEngine<Value>) -> Vec<Output<Value>> {
    std::iter::from_fn(|| e.poll()).collect()
}

fn media(packets: f64) -> PeerStats {
    PeerStats {
        local_candidate_type: Some("relay".into()),
        round_trip_time_ms: Some(40.0),
        packets_lost: Some(0.0),
        packets_received: Some(packets),
        jitter_ms: Some(5.0),
        bytes_sent: 0.0,
        bytes_received: 0.0,
        received_by_pair: Vec::new(),
        sent: Default::default(),
    }
}

fn restarts(outputs: &[Output<Value>]) -> usize {
    outputs
        .iter()
        .filter(|o| matches!(o, Output::RestartIce | Output::FetchServers { .. }))
        .count()
}

/// An engine that has connected and seen media flowing until `now`.
fn connected_with_media(initiator: bool, now: f64) -> PeerEngine<Value> {
    let mut e = engine(initiator, false);
    e.handle(Input::SignalSink(true), 0.0);
    e.handle(Input::IceState(IceState::Connected), 0.0);
    let mut t = 0.0;
    let mut packets = 0.0;
    while t <= now {
        packets += 100.0;
        e.handle(Input::Stats(media(packets)), t);
        t += 2000.0;
    }
    drain(&mut e);
    e
}

#[test]
fn signals_made_before_on_signal_are_held_then_sent_in_order() {
    let mut e = engine(true, false);
    e.handle(Input::NegotiationNeeded, 0.0);
    assert!(matches!(
        drain(&mut e)[..],
        [Output::Op {
            op: Op::SetLocal,
            reply: false
        }]
    ));
    let offer = Description {
        kind: SdpKind::Offer,
        sdp: "a=ice-ufrag:A1\r\n".into(),
    };
    e.handle(Input::OpSettled(Ok(Some(offer.clone()))), 1.0);
    e.handle(Input::LocalCandidate("A1".into()), 2.0);
    assert!(
        drain(&mut e).is_empty(),
        "nothing goes out without onSignal"
    );
    e.handle(Input::SignalSink(true), 3.0);
    assert_eq!(
        drain(&mut e),
        vec![
            Output::Event(Event::Signal(Signal::Description(offer))),
            Output::Event(Event::Signal(Signal::Candidate("A1".into()))),
        ]
    );
    e.handle(Input::LocalCandidate("A1".into()), 4.0);
    assert_eq!(drain(&mut e).len(), 1, "sent at once from now on");
}

#[test]
fn remote_candidates_wait_for_the_remote_description() {
    let mut e = engine(false, false);
    e.handle(Input::RemoteCandidate("B1".into()), 0.0);
    e.handle(Input::RemoteCandidate("B1-2".into()), 0.0);
    assert!(drain(&mut e).is_empty());
    let offer = Description {
        kind: SdpKind::Offer,
        sdp: "a=ice-ufrag:B1\r\n".into(),
    };
    e.handle(
        Input::RemoteDescription {
            description: offer.clone(),
            stable: true,
        },
        1.0,
    );
    assert_eq!(
        drain(&mut e),
        vec![
            Output::Op {
                op: Op::SetRemote(offer),
                reply: true
            },
            Output::Op {
                op: Op::AddCandidate("B1".into()),
                reply: false
            },
            Output::Op {
                op: Op::AddCandidate("B1-2".into()),
                reply: false
            },
        ]
    );
    // The offer is set: answer it. Then the candidates settle; one fails → onError.
    e.handle(Input::OpSettled(Ok(None)), 2.0);
    assert_eq!(
        drain(&mut e),
        vec![Output::Op {
            op: Op::SetLocal,
            reply: false
        }]
    );
    e.handle(Input::OpSettled(Ok(None)), 2.0);
    e.handle(Input::OpSettled(Err("bad candidate".into())), 2.0);
    assert_eq!(
        drain(&mut e),
        vec![Output::Event(Event::Error("bad candidate".into()))]
    );
    // The answer settles (set: sent), later candidates go straight in, and their promise is the caller's.
    let answer = Description {
        kind: SdpKind::Answer,
        sdp: "a=ice-ufrag:A1\r\n".into(),
    };
    e.handle(Input::SignalSink(true), 2.5);
    e.handle(Input::OpSettled(Ok(Some(answer.clone()))), 2.5);
    assert_eq!(
        drain(&mut e),
        vec![Output::Event(Event::Signal(Signal::Description(answer)))]
    );
    e.handle(Input::RemoteCandidate("B1".into()), 3.0);
    assert_eq!(
        drain(&mut e),
        vec![Output::Op {
            op: Op::AddCandidate("B1".into()),
            reply: true
        }]
    );
    e.handle(Input::OpSettled(Err("caller hears it".into())), 3.0);
    assert!(
        drain(&mut e).is_empty(),
        "a caller's failure is not also an onError"
    );
}

#[test]
fn the_polite_side_does_not_offer_before_the_first_exchange() {
    let mut e = engine(false, false);
    e.handle(Input::NegotiationNeeded, 0.0);
    assert!(drain(&mut e).is_empty());
}

#[test]
fn the_impolite_side_ignores_a_crossing_offer_and_the_polite_side_yields() {
    let offer = |ufrag: &str| Description {
        kind: SdpKind::Offer,
        sdp: format!("a=ice-ufrag:{ufrag}\r\n"),
    };
    let mut impolite = engine(true, false);
    impolite.handle(Input::NegotiationNeeded, 0.0);
    drain(&mut impolite);
    impolite.handle(
        Input::RemoteDescription {
            description: offer("B"),
            stable: true,
        },
        1.0,
    );
    assert!(
        drain(&mut impolite).is_empty(),
        "making an offer: the remote one is ignored"
    );
    // Its candidates fail quietly.
    impolite.handle(Input::RemoteCandidate("B".into()), 1.0);
    assert!(
        drain(&mut impolite).is_empty(),
        "no remote description yet: queued"
    );

    let mut polite = connected_with_media(false, 0.0);
    // (a first exchange happened)
    polite.handle(
        Input::RemoteDescription {
            description: offer("A0"),
            stable: true,
        },
        0.0,
    );
    polite.handle(Input::OpSettled(Ok(None)), 0.0);
    drain(&mut polite);
    polite.handle(
        Input::OpSettled(Ok(Some(Description {
            kind: SdpKind::Answer,
            sdp: "a=ice-ufrag:B0\r\n".into(),
        }))),
        0.0,
    );
    drain(&mut polite);
    polite.handle(Input::NegotiationNeeded, 1.0);
    assert_eq!(
        drain(&mut polite),
        vec![Output::Op {
            op: Op::SetLocal,
            reply: false
        }]
    );
    polite.handle(
        Input::RemoteDescription {
            description: offer("A1"),
            stable: false,
        },
        2.0,
    );
    let out = drain(&mut polite);
    assert!(
        matches!(&out[0], Output::Op { op: Op::SetRemote(d), reply: true } if d.kind == SdpKind::Offer)
    );
}

#[test]
fn a_healthy_call_survives_a_network_change() {
    let mut e = connected_with_media(true, 10_000.0);
    e.handle(Input::NetworkChanged, 10_100.0);
    assert_eq!(drain(&mut e), vec![Output::SampleStats], "it only looks");
    e.handle(Input::Stats(media(10_000.0)), 10_300.0);
    e.handle(Input::Stats(media(10_100.0)), 12_000.0);
    assert_eq!(restarts(&drain(&mut e)), 0);
    assert!(!e.is_recovering());
}

#[test]
fn a_network_change_then_disconnected_restarts_without_grace() {
    let mut e = connected_with_media(false, 10_000.0);
    e.handle(Input::NetworkChanged, 10_100.0);
    drain(&mut e);
    e.handle(Input::IceState(IceState::Disconnected), 11_000.0);
    let out = drain(&mut e);
    assert_eq!(restarts(&out), 1, "{out:?}");
    // Without the network change: grace first.
    let mut e = connected_with_media(false, 10_000.0);
    e.handle(Input::IceState(IceState::Disconnected), 11_000.0);
    let out = drain(&mut e);
    assert_eq!(restarts(&out), 0, "{out:?}");
    assert!(out.contains(&Output::Timer(Some(3000.0))));
    // ...unless the probe shows the media stopped.
    e.handle(Input::Stats(media(600.0)), 12_500.0);
    assert_eq!(restarts(&drain(&mut e)), 1);
}

#[test]
fn silent_media_while_ice_says_connected_restarts_once_per_silence() {
    let mut e = connected_with_media(true, 10_000.0);
    let last = 600.0; // what connected_with_media ended at
    e.handle(Input::Stats(media(last)), 10_000.0 + SILENCE_MS - 1.0);
    assert_eq!(restarts(&drain(&mut e)), 0, "not yet");
    e.handle(Input::Stats(media(last)), 10_000.0 + SILENCE_MS + 1000.0);
    assert_eq!(restarts(&drain(&mut e)), 1);
    // Reconnected, still silent (the other side put the call on hold): no loop.
    e.handle(Input::IceState(IceState::Connected), 15_000.0);
    e.handle(Input::Stats(media(last)), 30_000.0);
    assert_eq!(restarts(&drain(&mut e)), 0);
}

#[test]
fn a_muted_other_side_is_not_a_lost_path() {
    // The other side stops sending media (replaceTrack(null)); RTCP and
    // consent checks still arrive on the pair.
    let mut e = connected_with_media(false, 10_000.0);
    let mut t = 10_000.0;
    for n in 1..20 {
        t += 2000.0;
        let mut muted = media(600.0);
        muted.received_by_pair = vec![(stats_id("pair"), 1000.0 * f64::from(n))];
        e.handle(Input::Stats(muted), t);
    }
    assert_eq!(restarts(&drain(&mut e)), 0);
    assert!(!e.is_recovering());
}

#[test]
fn after_a_remote_restart_only_arrivals_prove_an_idle_call_alive() {
    let offer = |ufrag: &str| Description {
        kind: SdpKind::Offer,
        sdp: format!("a=ice-ufrag:{ufrag}\r\n"),
    };
    let idle = |n: f64| PeerStats {
        received_by_pair: vec![(stats_id("pair"), n)],
        ..media(0.0)
    };
    for consent_checks_arrive in [true, false] {
        let mut e = engine(true, false);
        e.handle(Input::IceState(IceState::Connected), 0.0);
        e.handle(Input::Stats(idle(100.0)), 1000.0);
        for (t, ufrag) in [(1000.0, "B1"), (2000.0, "B2")] {
            e.handle(
                Input::RemoteDescription {
                    description: offer(ufrag),
                    stable: true,
                },
                t,
            );
            e.handle(Input::OpSettled(Ok(None)), t);
        }
        assert!(e.is_recovering(), "the other side's restart is under way");
        drain(&mut e);
        // ICE still says connected as the attempt's timer ends: a probe decides.
        e.handle(Input::Timer, 12_000.0);
        assert_eq!(drain(&mut e), vec![Output::SampleStats]);
        let later = if consent_checks_arrive { 200.0 } else { 100.0 };
        e.handle(Input::Stats(idle(later)), 12_010.0);
        let out = drain(&mut e);
        assert_eq!(e.is_recovering(), !consent_checks_arrive, "{out:?}");
    }
}

#[test]
fn a_401_refetches_once_per_set_of_servers_and_restarts() {
    let mut e = engine(true, true);
    e.handle(
        Input::CandidateError {
            code: 401,
            turn: true,
        },
        0.0,
    );
    let out = drain(&mut e);
    assert!(
        out.contains(&Output::FetchServers {
            rejected: Some(vec![turn("old")])
        }),
        "{out:?}"
    );
    e.handle(
        Input::CandidateError {
            code: 401,
            turn: true,
        },
        1.0,
    );
    assert_eq!(restarts(&drain(&mut e)), 0, "the same servers: once");
    e.handle(Input::ServersArrived(Some(vec![turn("new")])), 2.0);
    assert_eq!(
        drain(&mut e),
        vec![Output::Configure(vec![turn("new")]), Output::RestartIce]
    );
    // Other errors, or a STUN server's, are not about our credentials.
    let mut e = engine(true, true);
    e.handle(
        Input::CandidateError {
            code: 701,
            turn: true,
        },
        0.0,
    );
    e.handle(
        Input::CandidateError {
            code: 401,
            turn: false,
        },
        0.0,
    );
    assert!(drain(&mut e).is_empty());
}

#[test]
fn explicit_servers_are_never_replaced() {
    let mut e = engine(true, false);
    e.handle(Input::ServersUpdated(vec![turn("new")]), 0.0);
    assert!(drain(&mut e).is_empty());
    e.handle(Input::RestartRequested, 0.0);
    assert_eq!(
        drain(&mut e),
        vec![Output::RestartIce],
        "no fetch for explicit servers"
    );
    let mut e = engine(true, true);
    e.handle(Input::ServersUpdated(vec![turn("new")]), 0.0);
    e.handle(Input::ServersUpdated(vec![turn("new")]), 0.0);
    assert_eq!(drain(&mut e), vec![Output::Configure(vec![turn("new")])]);
}

#[test]
fn failed_attempts_end_in_close_with_the_last_events() {
    let mut e = engine(true, false);
    e.handle(Input::SignalSink(true), 0.0);
    e.handle(Input::IceState(IceState::Failed), 0.0);
    let mut restarts_seen = restarts(&drain(&mut e));
    for _ in 0..10 {
        e.handle(Input::Timer, 0.0);
        restarts_seen += restarts(&drain(&mut e));
        if e.is_closed() {
            break;
        }
    }
    assert_eq!(restarts_seen, 3);
    assert!(e.is_closed());
    e.handle(Input::IceState(IceState::Connected), 1.0);
    assert!(drain(&mut e).is_empty(), "nothing after close");
    let mut e = engine(true, false);
    e.handle(Input::Close, 0.0);
    let out = drain(&mut e);
    assert_eq!(
        &out[out.len() - 3..],
        &[
            Output::Release,
            Output::Event(Event::IceState(IceState::Closed)),
            Output::Event(Event::Closed)
        ]
    );
}

#[test]
fn network_quality_events_follow_the_samples() {
    let mut e = engine(true, false);
    e.handle(Input::IceState(IceState::Connected), 0.0);
    let out = drain(&mut e);
    assert!(out.contains(&Output::Sampling(true)) && out.contains(&Output::Event(Event::Connect)));
    e.handle(Input::Stats(media(100.0)), 2000.0);
    let out = drain(&mut e);
    assert!(
        matches!(
            out[..],
            [Output::Event(Event::NetworkQuality(
                NetworkQuality::Excellent,
                _
            ))]
        ),
        "{out:?}"
    );
    assert_eq!(e.network_quality(), NetworkQuality::Excellent);
}

// ---- two engines through a model of the browser's signaling ----

#[derive(Clone, Copy, Debug, PartialEq)]
enum Signaling {
    Stable,
    HaveLocalOffer,
    HaveRemoteOffer,
}

/// `RTCPeerConnection` as far as signaling goes. SDP is just the ice-ufrag.
struct ModelPc {
    name: char,
    signaling: Signaling,
    ufrags: u32,
    local: Option<Description>,
    /// The local description of the last stable state (what a rollback restores).
    stable_local: Option<Description>,
    remote: Option<Description>,
    /// Every ice-ufrag the other side ever had set here.
    remote_ufrags: Vec<String>,
    restart_wanted: bool,
    chain: VecDeque<Op<Value>>,
}

fn ufrag(d: &Description) -> &str {
    d.sdp.trim_start_matches("a=ice-ufrag:").trim_end()
}

impl ModelPc {
    fn new(name: char) -> Self {
        ModelPc {
            name,
            signaling: Signaling::Stable,
            ufrags: 0,
            local: None,
            stable_local: None,
            remote: None,
            remote_ufrags: Vec::new(),
            restart_wanted: false,
            chain: VecDeque::new(),
        }
    }

    /// A new description: new credentials when `fresh` (or the first
    /// ones), else those of the last stable state (a rolled-back offer's are gone).
    fn description(&mut self, kind: SdpKind, fresh: bool) -> Description {
        let current = match &self.stable_local {
            Some(stable) if !fresh => ufrag(stable).to_owned(),
            _ => {
                self.ufrags += 1;
                format!("{}{}", self.name, self.ufrags)
            }
        };
        Description {
            kind,
            sdp: format!("a=ice-ufrag:{current}\r\n"),
        }
    }

    /// Runs the oldest operation of the chain, as the browser does.
    fn run(&mut self) -> Result<Option<Description>, Value> {
        let op = self.chain.pop_front().expect("an operation to run");
        match op {
            Op::SetLocal => match self.signaling {
                Signaling::Stable | Signaling::HaveLocalOffer => {
                    let fresh = std::mem::take(&mut self.restart_wanted);
                    let offer = self.description(SdpKind::Offer, fresh);
                    self.local = Some(offer);
                    self.signaling = Signaling::HaveLocalOffer;
                }
                Signaling::HaveRemoteOffer => {
                    // An answer has new credentials only when the offer restarted ICE.
                    let n = self.remote_ufrags.len();
                    let fresh = n >= 2 && self.remote_ufrags[n - 1] != self.remote_ufrags[n - 2];
                    if fresh {
                        self.restart_wanted = false;
                    }
                    let answer = self.description(SdpKind::Answer, fresh);
                    self.local = Some(answer);
                    self.stable_local = self.local.clone();
                    self.signaling = Signaling::Stable;
                }
            },
            Op::SetRemote(d) => {
                match (d.kind, self.signaling) {
                    (SdpKind::Offer, Signaling::HaveLocalOffer) => {
                        self.local = self.stable_local.clone(); // implicit rollback
                        self.signaling = Signaling::HaveRemoteOffer;
                    }
                    (SdpKind::Offer, _) => self.signaling = Signaling::HaveRemoteOffer,
                    (SdpKind::Answer, Signaling::HaveLocalOffer) => {
                        self.stable_local = self.local.clone();
                        self.signaling = Signaling::Stable;
                    }
                    (SdpKind::Answer, _) => {
                        return Err(format!("{}: answer in {:?}", self.name, self.signaling))
                    }
                }
                self.remote_ufrags.push(ufrag(&d).to_owned());
                self.remote = Some(d);
            }
            Op::AddCandidate(c) => {
                // Browsers drop candidates of an earlier generation without error.
                if !self.remote_ufrags.contains(&c) {
                    return Err(format!(
                        "{}: candidate {c} for another description",
                        self.name
                    ));
                }
                return Ok(self.local.clone());
            }
        }
        Ok(self.local.clone())
    }
}

/// One side of a simulated call: the model connection and its engine.
struct Side {
    pc: ModelPc,
    engine: PeerEngine<Value>,
    /// Messages from the other side, in order (signaling channels are ordered).
    inbox: VecDeque<Signal<Value>>,
    /// `negotiationneeded` already fired in this stable period.
    fired: bool,
    failures: Vec<Value>,
    /// Operations whose failure the `signal()` caller hears, by position in the chain.
    replies: VecDeque<bool>,
    offers: usize,
    answers: usize,
    /// The time inputs carry (ms).
    now: f64,
}

impl Side {
    fn new(name: char, initiator: bool) -> Self {
        let mut engine = engine(initiator, false);
        engine.handle(Input::SignalSink(true), 0.0);
        Side {
            pc: ModelPc::new(name),
            engine,
            inbox: VecDeque::new(),
            fired: false,
            failures: Vec::new(),
            replies: VecDeque::new(),
            offers: 0,
            answers: 0,
            now: 0.0,
        }
    }

    /// Performs the engine's outputs; returns the signals for the other side.
    fn perform(&mut self) -> Vec<Signal<Value>> {
        let mut sent = Vec::new();
        while let Some(output) = self.engine.poll() {
            match output {
                Output::Op { op, reply } => {
                    self.pc.chain.push_back(op);
                    self.replies.push_back(reply);
                }
                Output::RestartIce => {
                    self.pc.restart_wanted = true;
                    self.fired = false;
                }
                Output::Event(Event::Signal(signal)) => {
                    if let Signal::Description(d) = &signal {
                        match d.kind {
                            SdpKind::Offer => self.offers += 1,
                            SdpKind::Answer => self.answers += 1,
                        }
                    }
                    sent.push(signal);
                }
                Output::Event(Event::Error(error)) => self.failures.push(error),
                _ => {}
            }
        }
        sent
    }

    fn wants_negotiation(&self) -> bool {
        self.pc.signaling == Signaling::Stable
            && self.pc.chain.is_empty()
            && !self.fired
            && (self.pc.restart_wanted || self.pc.local.is_none())
    }

    /// One step of kind `task`, if it can happen now; returns whether it did.
    fn step(&mut self, task: u8) -> Option<Vec<Signal<Value>>> {
        match task {
            0 if !self.pc.chain.is_empty() => {
                let before = self.pc.signaling;
                let sets_local = self.pc.chain.front() == Some(&Op::SetLocal);
                let result = self.pc.run();
                if self.pc.signaling != before {
                    self.fired = false;
                }
                let reply = self.replies.pop_front().unwrap_or(false);
                if let (Err(error), true) = (&result, reply) {
                    self.failures.push(error.clone());
                }
                let gathered = result
                    .as_ref()
                    .ok()
                    .filter(|_| sets_local)
                    .and_then(|local| local.as_ref().map(|d| ufrag(d).to_owned()));
                self.engine.handle(Input::OpSettled(result), self.now);
                if let Some(ufrag) = gathered {
                    self.engine.handle(Input::LocalCandidate(ufrag), self.now);
                }
            }
            1 if !self.inbox.is_empty() => {
                let stable = self.pc.signaling == Signaling::Stable;
                let input = match self.inbox.pop_front()? {
                    Signal::Description(description) => Input::RemoteDescription {
                        description,
                        stable,
                    },
                    Signal::Candidate(c) => Input::RemoteCandidate(c),
                };
                self.engine.handle(input, self.now);
            }
            2 if self.wants_negotiation() => {
                self.fired = true;
                self.engine.handle(Input::NegotiationNeeded, self.now);
            }
            3 => self.engine.handle(Input::RestartRequested, self.now),
            // Time passes; a stats sample finds the media dead and, while
            // recovering, an unanswered offer may go again.
            5 => {
                self.now += 2_500.0;
                self.engine
                    .handle(Input::IceState(IceState::Disconnected), self.now);
                self.engine.handle(Input::Stats(media(0.0)), self.now);
            }
            _ => return None,
        }
        Some(self.perform())
    }
}

struct Call {
    sides: [Side; 2],
}

impl Call {
    fn new() -> Self {
        Call {
            sides: [Side::new('A', true), Side::new('B', false)],
        }
    }

    /// Side `who` does `task`; its signals travel to the other side's inbox.
    fn step(&mut self, who: usize, task: u8) -> bool {
        let Some(sent) = self.sides[who].step(task) else {
            return false;
        };
        self.sides[1 - who].inbox.extend(sent);
        true
    }

    /// Moves both sides' clocks to `now`.
    fn at(&mut self, now: f64) {
        for side in &mut self.sides {
            side.now = now;
        }
    }

    /// Runs every pending step (never a new restart) until nothing is left.
    fn settle(&mut self) -> usize {
        let mut steps = 0;
        while steps < 10_000 {
            let progressed = (0..2).any(|who| (0..3).any(|task| self.step(who, task)));
            if !progressed {
                break;
            }
            steps += 1;
        }
        steps
    }

    fn local(&self, who: usize) -> String {
        self.sides[who]
            .pc
            .local
            .as_ref()
            .map(|d| ufrag(d).to_owned())
            .unwrap_or_default()
    }

    fn assert_converged(&self) {
        for (who, side) in self.sides.iter().enumerate() {
            let other = &self.sides[1 - who];
            assert_eq!(
                side.pc.signaling,
                Signaling::Stable,
                "{} not stable",
                side.pc.name
            );
            assert!(side.pc.chain.is_empty() && side.inbox.is_empty());
            assert!(
                !side.pc.restart_wanted,
                "{}: a restart never happened",
                side.pc.name
            );
            assert_eq!(
                other.pc.remote.as_ref().map(|d| ufrag(d).to_owned()),
                Some(self.local(who)),
                "{}'s credentials did not reach the other side",
                side.pc.name
            );
            // A candidate that overtakes, or outlives, the description it
            // belongs to (an offer ignored or rolled back, an answer lost in
            // an outage) fails to add, as in browsers; no description may fail.
            let real: Vec<_> = side
                .failures
                .iter()
                .filter(|f| !f.contains("for another description"))
                .collect();
            assert!(real.is_empty(), "{}: {:?}", side.pc.name, real);
        }
    }
}

#[test]
fn first_exchange_then_simultaneous_restarts_converge() {
    let mut call = Call::new();
    call.settle();
    call.assert_converged();
    let before = [call.local(0), call.local(1)];
    // Both restart in the same tick; both offers cross in flight.
    call.step(0, 3);
    call.step(1, 3);
    call.step(0, 2);
    call.step(1, 2);
    call.step(0, 0);
    call.step(1, 0);
    call.settle();
    call.assert_converged();
    assert_ne!(call.local(0), before[0]);
    assert_ne!(call.local(1), before[1]);
    let answers = call.sides[0].answers + call.sides[1].answers;
    assert!(answers <= 3, "{answers} answers");
}

#[test]
fn the_callee_restarts_alone() {
    let mut call = Call::new();
    call.settle();
    let before = [call.local(0), call.local(1)];
    call.step(1, 3);
    call.settle();
    call.assert_converged();
    assert_eq!(call.sides[1].offers, 1, "the callee offered");
    assert_ne!(call.local(0), before[0]);
    assert_ne!(call.local(1), before[1]);
}

#[test]
fn an_offer_lost_in_a_signaling_outage_is_sent_again_on_restart_ice() {
    let mut call = Call::new();
    call.settle();
    let before = [call.local(0), call.local(1)];
    // The initiator restarts, and its offer is lost with the signaling socket.
    call.step(0, 3);
    call.step(0, 2);
    call.step(0, 0);
    assert!(call.sides[1]
        .inbox
        .iter()
        .any(|m| matches!(m, Signal::Description(_))));
    call.sides[1].inbox.clear();
    call.settle();
    assert_eq!(
        call.sides[0].pc.signaling,
        Signaling::HaveLocalOffer,
        "stuck without its answer"
    );
    // The app's signaling is back (later): it asks both sides to restart.
    call.at(5_000.0);
    call.step(1, 3);
    call.step(0, 3);
    call.settle();
    call.assert_converged();
    assert_ne!(call.local(0), before[0]);
    assert_ne!(call.local(1), before[1]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    /// Any interleaving of operations, deliveries, `negotiationneeded` and
    /// restarts on either side (the first exchange included), with messages
    /// lost in signaling outages, ends with both sides stable, on each
    /// other's current credentials, with every requested restart done and
    /// no error, once the app asks both sides to restart after an outage
    /// (as it does when its signaling channel is back).
    #[test]
    fn any_interleaving_converges(script in prop::collection::vec((0usize..2, 0u8..6), 0..80)) {
        let mut call = Call::new();
        let mut restarts = 0;
        let mut lost = false;
        for (who, task) in script {
            match task {
                3 if restarts >= 6 => continue,
                3 => restarts += 1,
                4 => {
                    lost |= call.sides[who].inbox.pop_front().is_some();
                    continue;
                }
                _ => {}
            }
            call.step(who, task);
        }
        let mut steps = call.settle();
        if lost {
            call.at(100_000.0);
            call.step(1, 3);
            call.step(0, 3);
            steps += call.settle();
        }
        // The library's own re-sends while recovering, a few ticks apart.
        for _ in 0..3 {
            for who in 0..2 {
                call.step(who, 5);
                steps += call.settle();
            }
        }
        prop_assert!(steps < 10_000, "did not settle");
        call.assert_converged();
    }
}

/// The lab's second move: the first drop's restart worked while ICE kept
/// saying `connected` (the browser found the new path without a state
/// change), so no state change ended that attempt. The next drop's evidence
/// (a network change, then `disconnected`) must still restart at once, not
/// wait for the old attempt's timer.
#[test]
fn an_attempt_that_worked_while_connected_does_not_swallow_the_next_drop() {
    let offer = |ufrag: &str| Description {
        kind: SdpKind::Offer,
        sdp: format!("a=ice-ufrag:{ufrag}\r\n"),
    };
    for remote in [true, false] {
        let mut e = connected_with_media(false, 10_000.0);
        // What connected_with_media ended at.
        let mut packets = 600.0;
        // The first drop: media stops, then a restart (the other side's or ours).
        let mut t = 10_500.0;
        while t < 10_000.0 + SILENCE_MS + 500.0 {
            e.handle(Input::Stats(media(packets)), t);
            t += 500.0;
        }
        if remote {
            e.handle(
                Input::RemoteDescription {
                    description: offer("B1"),
                    stable: true,
                },
                t,
            );
            e.handle(Input::OpSettled(Ok(None)), t);
        } else {
            e.handle(Input::Stats(media(packets)), t);
        }
        assert!(
            e.is_recovering(),
            "remote {remote}: the first drop's restart"
        );
        drain(&mut e);
        // The restart worked: media arrives again, ICE never left `connected`.
        for _ in 0..4 {
            t += 500.0;
            packets += 25.0;
            e.handle(Input::Stats(media(packets)), t);
        }
        assert!(
            !e.is_recovering(),
            "remote {remote}: media again ends the drop"
        );
        drain(&mut e);
        // The second drop, well inside the first attempt's 10 s.
        t += 1000.0;
        e.handle(Input::NetworkChanged, t);
        e.handle(Input::IceState(IceState::Disconnected), t + 500.0);
        let out = drain(&mut e);
        assert_eq!(restarts(&out), 1, "remote {remote}: {out:?}");
    }
}

/// The liveness probes come every 500 ms; network quality still grades
/// windows of about 2 s, so a loss burst shows once a window has passed.
#[test]
fn network_quality_takes_one_probe_per_window() {
    let lossy = |packets: f64, lost: f64| PeerStats {
        packets_lost: Some(lost),
        ..media(packets)
    };
    let quality_events = |out: &[Output<Value>]| {
        out.iter()
            .filter(|o| matches!(o, Output::Event(Event::NetworkQuality(..))))
            .count()
    };
    let mut e = engine(true, false);
    e.handle(Input::IceState(IceState::Connected), 0.0);
    e.handle(Input::Stats(media(100.0)), 500.0);
    assert_eq!(quality_events(&drain(&mut e)), 1, "the first sample grades");
    // Half the packets lost from here on: not graded until the window is over.
    for (t, packets, lost) in [
        (1000.0, 125.0, 25.0),
        (1500.0, 150.0, 50.0),
        (2000.0, 175.0, 75.0),
    ] {
        e.handle(Input::Stats(lossy(packets, lost)), t);
        assert_eq!(quality_events(&drain(&mut e)), 0, "at {t}");
    }
    assert_eq!(e.network_quality(), NetworkQuality::Excellent);
    e.handle(Input::Stats(lossy(200.0, 100.0)), 2500.0);
    assert_eq!(quality_events(&drain(&mut e)), 1);
    assert_ne!(e.network_quality(), NetworkQuality::Excellent);
}
