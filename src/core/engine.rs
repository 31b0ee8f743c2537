//! The peer engine: everything one call decides, as a sans-IO state machine
//! in the manner of str0m. The browser edge turns events into [`Input`]s
//! (with the time, in ms, as part of every input) and performs the
//! [`Output`]s it polls afterwards; the engine never calls out and never
//! waits. So the negotiation, the restart policy, held signals, the
//! candidate queue, TURN 401 handling and network quality are all tested
//! natively (tests/core_engine.rs), without a browser.
//!
//! `P` is whatever the edge uses for opaque browser values (candidates,
//! errors): `JsValue` in the browser, plain values in tests.

use super::liveness::Liveness;
use super::negotiation::{Description, Negotiation, Op, RemoteStep, Report, SdpKind, Settled};
use super::network_quality::{NetworkQuality, NetworkQualityMeter, Score, SAMPLE_INTERVAL_MS};
use super::quality::IceState;
use super::recovery::{Action, Recovery, RecoveryConfig};
use super::servers::IceServer;
use super::stats::{received_since, PeerStats};
use std::collections::VecDeque;

/// How often the edge samples stats while the call is up
/// ([`Output::Sampling`]): the clock of the liveness checks, fine enough to
/// see media stop within half a second. Network quality takes a sample
/// every [`SAMPLE_INTERVAL_MS`] of these.
pub const PROBE_INTERVAL_MS: f64 = 500.0;
/// Nothing at all arriving (no RTP, no RTCP, nothing on any candidate pair)
/// for this long, after media flowed, while ICE says connected means the
/// path is gone: an audio call alone carries 50 packets a second, and
/// Chromium takes 5 s or more to say `disconnected`. A sender that stops
/// its media altogether (`replaceTrack(null)`) may cost one ICE restart,
/// which does not interrupt a working path; once per silence.
pub const SILENCE_MS: f64 = 1_000.0;
/// A probe that finds no new media after this long counts as a stall.
pub const STALL_MS: f64 = 1_000.0;
/// An offer unanswered for this long may be sent again (`restartIce()`):
/// an answer takes one round trip, so it was probably lost.
pub const RESEND_AFTER_MS: f64 = 2_000.0;
/// How often one offer is sent again by itself (see `resend_unanswered_offer`).
pub const MAX_RESENDS: u32 = 3;
/// How long after a network change `disconnected` needs no grace.
pub const NETWORK_CHANGE_WINDOW_MS: f64 = 10_000.0;

/// Something that happened to the peer.
#[derive(Debug)]
pub enum Input<P> {
    /// `negotiationneeded`.
    NegotiationNeeded,
    /// An offer or answer from the other side; `stable`: the connection's
    /// signaling state is "stable" as it arrives.
    RemoteDescription {
        /// The description.
        description: Description,
        /// `signalingState === "stable"`.
        stable: bool,
    },
    /// A candidate from the other side.
    RemoteCandidate(P),
    /// A local candidate was gathered.
    LocalCandidate(P),
    /// The oldest [`Output::Op`] settled: `Ok` with the connection's local
    /// description after it (if any), or `Err` with the browser's error.
    OpSettled(Result<Option<Description>, P>),
    /// `iceconnectionstatechange`.
    IceState(IceState),
    /// The timer armed by [`Output::Timer`] fired.
    Timer,
    /// A stats sample asked for with [`Output::SampleStats`].
    Stats(PeerStats),
    /// `icecandidateerror` with this code; `turn`: from a turn:/turns: server.
    CandidateError {
        /// The STUN error code (401: credentials refused).
        code: u16,
        /// The failing server is a TURN server.
        turn: bool,
    },
    /// The answer to [`Output::FetchServers`] (`None`: none could be had).
    ServersArrived(Option<Vec<IceServer>>),
    /// The manager fetched new servers (applies to peers on the manager's servers).
    ServersUpdated(Vec<IceServer>),
    /// The device's network changed (`online`, `offline`, connection `change`).
    NetworkChanged,
    /// The app called `restartIce()` (typically after its signaling
    /// channel reconnected). With an offer of ours still unanswered, that
    /// offer is sent again instead.
    RestartRequested,
    /// Whether the app has an `onSignal` handler now.
    SignalSink(bool),
    /// Close the peer (the app, the manager, or giving up).
    Close,
}

/// A message for the other side.
#[derive(Clone, Debug, PartialEq)]
pub enum Signal<P> {
    /// An offer or answer.
    Description(Description),
    /// A trickled candidate.
    Candidate(P),
}

/// What the app hears, in order, after the state has changed.
#[derive(Clone, Debug, PartialEq)]
pub enum Event<P> {
    /// `onSignal`.
    Signal(Signal<P>),
    /// `onIceStateChange` (and the subscribers).
    IceState(IceState),
    /// `onConnect`: the first connection.
    Connect,
    /// `onNetworkQualityChange` (and the subscribers).
    NetworkQuality(NetworkQuality, Score),
    /// `onError`.
    Error(P),
    /// `onClose`: the last event.
    Closed,
}

/// What the edge must do, in order.
#[derive(Clone, Debug, PartialEq)]
pub enum Output<P> {
    /// Queue this operation on the connection; report its result with
    /// [`Input::OpSettled`]. `reply`: the app's `signal()` promise is this
    /// operation's promise (a failure reaches the app there, not `onError`).
    Op {
        /// The operation.
        op: Op<P>,
        /// Hand its promise to the `signal()` caller.
        reply: bool,
    },
    /// `setConfiguration` with these servers.
    Configure(Vec<IceServer>),
    /// `restartIce()` (the offer follows from `negotiationneeded`).
    RestartIce,
    /// Ask the manager for servers; `rejected`: the ones TURN refused.
    FetchServers {
        /// Servers a TURN server refused with 401, to drop from the cache.
        rejected: Option<Vec<IceServer>>,
    },
    /// Take one stats sample now and report it with [`Input::Stats`].
    SampleStats,
    /// Start (true) or stop (false) a stats sample every [`PROBE_INTERVAL_MS`].
    Sampling(bool),
    /// Arm the one timer for this many ms (replacing it); `None` cancels it.
    Timer(Option<f64>),
    /// Tell the app.
    Event(Event<P>),
    /// Detach every listener and close the connection.
    Release,
}

/// The engine's fixed setup.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// The initiator is the impolite side; the other is polite.
    pub initiator: bool,
    /// The peer uses the manager's servers (not explicit ones).
    pub uses_manager: bool,
    /// The servers the connection was created with.
    pub servers: Vec<IceServer>,
    /// The restart policy's tuning.
    pub recovery: RecoveryConfig,
}

/// One peer's decisions. Feed it with [`PeerEngine::handle`]; drain
/// [`PeerEngine::poll`] after every input.
#[derive(Debug)]
pub struct PeerEngine<P> {
    negotiation: Negotiation<P>,
    recovery: Recovery,
    meter: NetworkQualityMeter,
    liveness: Liveness,
    state: IceState,
    connected_once: bool,
    closed: bool,
    uses_manager: bool,
    applied: Vec<IceServer>,
    /// Bumped whenever different servers are applied; a 401 is acted on once per version.
    servers_version: u32,
    rejection_handled_for: Option<u32>,
    credentials_rejected: bool,
    restart_waits_for_servers: bool,
    network_changed_at: Option<f64>,
    /// When our last offer went out (or out again).
    offered_at: f64,
    /// How often the current offer went out again by itself.
    resends: u32,
    /// What had arrived when the current restart attempt began.
    attempt_mark: (Vec<(u64, f64)>, f64),
    /// When the current restart attempt began (ms).
    attempt_began_at: f64,
    /// The attempt's timer fired; the next stats sample decides.
    alive_check: bool,
    /// When network quality last took a sample (it grades 2 s windows).
    quality_sampled_at: Option<f64>,
    /// The time of the input being handled.
    now: f64,
    sink: bool,
    held: Vec<Signal<P>>,
    out: VecDeque<Output<P>>,
}

impl<P: Clone> PeerEngine<P> {
    /// A new engine for a connection just created with `config.servers`.
    pub fn new(config: EngineConfig) -> Self {
        PeerEngine {
            negotiation: Negotiation::new(!config.initiator),
            recovery: Recovery::new(config.recovery),
            meter: NetworkQualityMeter::new(),
            liveness: Liveness::default(),
            state: IceState::New,
            connected_once: false,
            closed: false,
            uses_manager: config.uses_manager,
            applied: config.servers,
            servers_version: 0,
            rejection_handled_for: None,
            credentials_rejected: false,
            restart_waits_for_servers: false,
            network_changed_at: None,
            offered_at: 0.0,
            resends: 0,
            attempt_mark: (Vec::new(), 0.0),
            attempt_began_at: 0.0,
            alive_check: false,
            quality_sampled_at: None,
            now: 0.0,
            sink: false,
            held: Vec::new(),
            out: VecDeque::new(),
        }
    }

    /// The last ICE state ("closed" once closed).
    pub fn ice_state(&self) -> IceState {
        self.state
    }

    /// The graded network quality.
    pub fn network_quality(&self) -> NetworkQuality {
        self.meter.level()
    }

    /// Closed: every later input is ignored.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// The peer follows the manager's servers and is open.
    pub fn uses_manager_servers(&self) -> bool {
        self.uses_manager && !self.closed
    }

    /// A drop is being recovered.
    pub fn is_recovering(&self) -> bool {
        self.recovery.is_recovering()
    }

    /// Queues one output. Kept out of line: inlined, each of its 23 callers
    /// would carry its own copy of the queue's growth path, and the package
    /// has a size budget (docs/size.md).
    #[inline(never)]
    fn put(&mut self, output: Output<P>) {
        self.out.push_back(output);
    }

    /// The next thing to do, in order.
    pub fn poll(&mut self) -> Option<Output<P>> {
        self.out.pop_front()
    }

    /// One input at time `now` (ms).
    pub fn handle(&mut self, input: Input<P>, now: f64) {
        if self.closed {
            return;
        }
        self.now = now;
        match input {
            Input::NegotiationNeeded => {
                if let Some(op) = self.negotiation.on_negotiation_needed() {
                    self.op(op);
                }
            }
            Input::RemoteDescription {
                description,
                stable,
            } => match self.negotiation.on_remote_description(description, stable) {
                RemoteStep::Ignore => {}
                RemoteStep::SendAgain(answer) => {
                    self.signal(Signal::Description(answer));
                    // Its sender was waiting for that answer, so it ignored
                    // any offer of ours meanwhile: that one goes again too.
                    if let Some(offer) = self.negotiation.unanswered_offer() {
                        let offer = offer.clone();
                        self.offered_at = now;
                        self.signal(Signal::Description(offer));
                    }
                }
                RemoteStep::Apply { ops, restart } => {
                    for op in ops {
                        self.op(op);
                    }
                    if restart {
                        let action = self.recovery.on_remote_restart();
                        if action != Action::Keep {
                            self.mark_attempt();
                        }
                        self.act(action);
                    }
                }
            },
            Input::RemoteCandidate(candidate) => {
                if let Some(op) = self.negotiation.on_remote_candidate(candidate) {
                    self.op(op);
                }
            }
            Input::LocalCandidate(candidate) => self.signal(Signal::Candidate(candidate)),
            Input::OpSettled(result) => self.settled(result, now),
            Input::IceState(state) => self.ice_state_changed(state, now),
            Input::Timer => {
                if self.recovery.is_restarting() && self.state.is_connected() {
                    // ICE says connected at the end of an attempt, which
                    // proves nothing: a fresh sample decides (see `stats`).
                    self.alive_check = true;
                    self.put(Output::SampleStats);
                } else {
                    let action = self.recovery.on_timer(false);
                    self.act(action);
                }
            }
            Input::Stats(stats) => self.stats(&stats, now),
            Input::CandidateError { code, turn } => self.candidate_error(code, turn),
            Input::ServersArrived(servers) => {
                if let Some(servers) = servers {
                    self.configure(servers);
                }
                if std::mem::take(&mut self.restart_waits_for_servers) {
                    self.put(Output::RestartIce);
                }
            }
            Input::ServersUpdated(servers) => {
                if self.uses_manager {
                    self.configure(servers);
                }
            }
            Input::NetworkChanged => {
                // Not a reason by itself: a healthy call stays as it is.
                // The probe below tells whether the path survived.
                self.network_changed_at = Some(now);
                if self.connected_once {
                    self.put(Output::SampleStats);
                }
            }
            Input::RestartRequested => match self.negotiation.unanswered_offer() {
                // No restart can start before that offer is settled. Long
                // unanswered, it was probably lost in the outage the app has
                // just come back from: sending it again resumes the exchange.
                Some(offer) if now - self.offered_at >= RESEND_AFTER_MS => {
                    let offer = offer.clone();
                    self.signal(Signal::Description(offer));
                }
                _ => self.restart(),
            },
            Input::SignalSink(present) => {
                self.sink = present;
                if present {
                    for signal in std::mem::take(&mut self.held) {
                        self.put(Output::Event(Event::Signal(signal)));
                    }
                }
            }
            Input::Close => self.close(),
        }
    }

    /// While a drop is being recovered, signaling is as likely to have
    /// failed as the media path (an address change kills both): an offer
    /// unanswered for [`RESEND_AFTER_MS`] goes again, at most
    /// [`MAX_RESENDS`] times (the other side answers a repeat once, and
    /// ignores it otherwise). The stats samples are its clock.
    fn resend_unanswered_offer(&mut self, now: f64) {
        if !self.recovery.is_recovering() || self.resends >= MAX_RESENDS {
            return;
        }
        if let Some(offer) = self.negotiation.unanswered_offer() {
            if now - self.offered_at >= RESEND_AFTER_MS {
                let offer = offer.clone();
                self.resends += 1;
                self.offered_at = now;
                self.signal(Signal::Description(offer));
            }
        }
    }

    fn op(&mut self, (op, report): (Op<P>, Report)) {
        self.put(Output::Op {
            op,
            reply: report == Report::Caller,
        });
    }

    /// Sends `signal` when the app listens; holds it until then. Out of
    /// line for the same reason as `put`.
    #[inline(never)]
    fn signal(&mut self, signal: Signal<P>) {
        if self.sink {
            self.put(Output::Event(Event::Signal(signal)));
        } else {
            self.held.push(signal);
        }
    }

    fn settled(&mut self, result: Result<Option<Description>, P>, now: f64) {
        let (ok, local, error) = match result {
            Ok(local) => (true, local, None),
            Err(error) => (false, None, Some(error)),
        };
        let (settled, report) = self.negotiation.on_settled(ok, local);
        match settled {
            Settled::Send(description) => {
                if description.kind == SdpKind::Offer {
                    self.offered_at = now;
                    self.resends = 0;
                }
                self.signal(Signal::Description(description));
            }
            Settled::Answer => {
                let op = self.negotiation.answer();
                self.op(op);
            }
            Settled::Nothing => {}
        }
        if let (Some(error), Report::Event) = (error, report) {
            self.put(Output::Event(Event::Error(error)));
        }
    }

    fn ice_state_changed(&mut self, state: IceState, now: f64) {
        self.state = state;
        self.put(Output::Event(Event::IceState(state)));
        if state.is_connected() && !self.connected_once {
            self.connected_once = true;
            self.put(Output::Sampling(true));
            self.put(Output::Event(Event::Connect));
        }
        if state == IceState::Disconnected {
            // Fresh evidence for the grace decision.
            self.put(Output::SampleStats);
        }
        let urgent = self
            .network_changed_at
            .is_some_and(|at| now - at <= NETWORK_CHANGE_WINDOW_MS);
        let action = self.recovery.on_state(state, urgent);
        self.act(action);
    }

    /// Notes what had arrived as a restart attempt began, for its end.
    fn mark_attempt(&mut self) {
        self.attempt_mark = (self.liveness.received.clone(), self.liveness.packets);
        self.attempt_began_at = self.now;
    }

    fn stats(&mut self, stats: &PeerStats, now: f64) {
        self.resend_unanswered_offer(now);
        if std::mem::take(&mut self.alive_check) {
            // Anything at all since the attempt began (an idle call's
            // consent checks, the new session's own checks) means a live path.
            let (received, packets) = &self.attempt_mark;
            let alive = received_since(received, &stats.received_by_pair)
                || stats.packets_received.unwrap_or(0.0) > *packets;
            let action = self.recovery.on_timer(alive && self.state.is_connected());
            self.act(action);
        }
        let before = self.liveness.progress_at;
        let previous_sample_at = self.liveness.sampled_at;
        let advanced = self.liveness.sample(stats, now);
        self.sample_quality(stats, now);
        if advanced {
            // Arrivals between two samples both taken after the attempt
            // began (not ones from before it, counted by the first sample
            // after it), on a path ICE calls connected: the attempt worked,
            // or the path never died. Either way the drop is over.
            if self.state.is_connected()
                && previous_sample_at.is_some_and(|at| at >= self.attempt_began_at)
            {
                let action = self.recovery.on_alive();
                self.act(action);
            }
            return;
        }
        if self.liveness.silence_reported || !self.liveness.media_seen {
            return;
        }
        let stalled = now - before;
        let changed_recently = self
            .network_changed_at
            .is_some_and(|at| now - at <= NETWORK_CHANGE_WINDOW_MS);
        let lost = match self.state {
            // ICE has not noticed yet; the media has.
            IceState::Connected | IceState::Completed => stalled >= SILENCE_MS,
            // ICE noticed too: no need to wait out the grace.
            IceState::Disconnected => stalled >= STALL_MS || changed_recently,
            _ => false,
        };
        if lost {
            self.liveness.silence_reported = true;
            let action = self.recovery.on_path_lost();
            self.act(action);
        }
    }

    /// Network quality grades windows of [`SAMPLE_INTERVAL_MS`]; the
    /// liveness probes come more often, so it takes the first probe of each
    /// window (half a probe early counts: timers drift).
    fn sample_quality(&mut self, stats: &PeerStats, now: f64) {
        let window = SAMPLE_INTERVAL_MS - PROBE_INTERVAL_MS / 2.0;
        if self.quality_sampled_at.is_some_and(|at| now - at < window) {
            return;
        }
        self.quality_sampled_at = Some(now);
        if let (Some(level), Some(score)) = (self.meter.sample(stats), self.meter.last_score()) {
            self.put(Output::Event(Event::NetworkQuality(level, score)));
        }
    }

    /// A 401 from TURN: expired or wrong credentials. ICE then stays `new`
    /// and never reports `failed`, so this is the only sign. Acted on once
    /// per set of servers: refetch (dropping the refused ones) and restart.
    fn candidate_error(&mut self, code: u16, turn: bool) {
        if code != 401 || !turn {
            return;
        }
        if self.rejection_handled_for.replace(self.servers_version) == Some(self.servers_version) {
            return;
        }
        self.credentials_rejected = true;
        match self.recovery.on_path_lost() {
            Action::Keep => {
                // A drop is already being recovered; its next restart refetches.
            }
            action => self.act(action),
        }
    }

    fn act(&mut self, action: Action) {
        match action {
            Action::Keep => {}
            Action::CancelTimer => self.put(Output::Timer(None)),
            Action::ArmTimer(ms) => self.put(Output::Timer(Some(ms))),
            Action::Restart { timeout_ms, .. } => {
                self.mark_attempt();
                self.put(Output::Timer(Some(timeout_ms)));
                self.restart();
            }
            Action::GiveUp => self.close(),
        }
    }

    /// An ICE restart: fresh servers first (the manager's, when this peer
    /// uses them), then `restartIce()`; the offer follows from `negotiationneeded`.
    fn restart(&mut self) {
        if !self.uses_manager {
            self.put(Output::RestartIce);
            return;
        }
        if self.restart_waits_for_servers {
            return;
        }
        self.restart_waits_for_servers = true;
        let rejected = std::mem::take(&mut self.credentials_rejected).then(|| self.applied.clone());
        self.put(Output::FetchServers { rejected });
    }

    fn configure(&mut self, servers: Vec<IceServer>) {
        if servers.is_empty() || servers == self.applied {
            return;
        }
        self.applied = servers.clone();
        self.servers_version = self.servers_version.wrapping_add(1);
        self.put(Output::Configure(servers));
    }

    fn close(&mut self) {
        self.closed = true;
        self.recovery.close();
        self.negotiation.clear();
        self.held.clear();
        self.state = IceState::Closed;
        self.put(Output::Timer(None));
        self.put(Output::Sampling(false));
        self.put(Output::Release);
        self.put(Output::Event(Event::IceState(IceState::Closed)));
        self.put(Output::Event(Event::Closed));
    }
}
