//! `PeerInner`: the driver of one [`PeerEngine`]. Browser events become
//! inputs; the engine's outputs become calls on the `RTCPeerConnection`,
//! timers and the app's handlers. Inputs that arrive while outputs are being
//! performed (a handler that calls back into the peer, a cached answer from
//! the manager) wait in a queue, so the engine is never re-entered and every
//! handler runs after the state it reports has been updated.

mod events;
pub(crate) mod host;
mod output;

use crate::core::engine::{EngineConfig, Input, Output, PeerEngine};
use crate::core::negotiation::{Description, Op, SdpKind};
use crate::core::network_quality::SAMPLE_INTERVAL_MS;
use crate::core::quality::IceState;
use crate::core::recovery::RecoveryConfig;
use crate::core::servers::IceServer;
use crate::core::stats::{summarise, PeerStats};
use crate::web::bindings::{then_map, ImplicitPeerConnection};
use crate::web::convert::{json_from_js, redacted_to_js, servers_to_js, stats_to_js};
use crate::web::handlers::{Handlers, PeerSetup};
use crate::web::log::debug;
use crate::web::timer::{Interval, Timeout};
use events::PeerListeners;
use host::PeerHost;
use js_sys::{Array, Date, Promise, Set};
use output::emit;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use web_sys::{
    MediaStream, RtcConfiguration, RtcDataChannel, RtcIceCandidateInit, RtcIceTransportPolicy,
    RtcPeerConnection, RtcSdpType, RtcSessionDescriptionInit, RtcSignalingState, RtcStatsReport,
};

type Callback = Closure<dyn FnMut(JsValue)>;

/// One peer: its connection, its engine, and everything it hands to JS.
pub(crate) struct PeerInner {
    pub(super) pc: RtcPeerConnection,
    relay: bool,
    pub(super) debug: bool,
    host: Weak<dyn PeerHost>,
    stream: Option<MediaStream>,
    initiator: bool,
    pub(super) engine: RefCell<PeerEngine<JsValue>>,
    pub(super) handlers: RefCell<Handlers>,
    /// Listeners from `subscribe`; a JS Set so that unsubscribing needs no Rust closure.
    pub(super) subscribers: Set,
    inputs: RefCell<VecDeque<Input<JsValue>>>,
    running: Cell<bool>,
    /// The promise of the operation a `signal()` call waits for.
    reply: RefCell<Option<Promise>>,
    seen_streams: RefCell<Vec<String>>,
    listeners: RefCell<Option<PeerListeners>>,
    data_channel: RefCell<Option<RtcDataChannel>>,
    timer: RefCell<Option<Timeout>>,
    sampler: RefCell<Option<Interval>>,
    /// Continuations of the operations chain and of stats samples. Reused
    /// for every promise, and owned here rather than per promise because a
    /// closed connection never settles the promises it still had.
    op_done: Callback,
    op_failed: Callback,
    sampled: Callback,
    /// Reports the failure of an operation whose `signal()` caller did not
    /// get its promise.
    caller_gone: Callback,
    /// Maps a report to the contract's `PeerStats` for `peer.stats()`.
    to_stats: Closure<dyn FnMut(JsValue) -> JsValue>,
}

fn rtc_configuration(servers: &[IceServer], relay: bool) -> RtcConfiguration {
    let config = RtcConfiguration::new();
    config.set_ice_servers(&servers_to_js(servers));
    config.set_ice_transport_policy(if relay {
        RtcIceTransportPolicy::Relay
    } else {
        RtcIceTransportPolicy::All
    });
    config
}

/// A continuation that hands its argument to the peer while it lives.
fn callback(peer: &Weak<PeerInner>, f: fn(&Rc<PeerInner>, JsValue)) -> Callback {
    let peer = peer.clone();
    Closure::new(move |value| {
        if let Some(peer) = peer.upgrade() {
            f(&peer, value);
        }
    })
}

impl PeerInner {
    /// Makes the connection and attaches the listeners. A constructor error
    /// reaches `onError` and is returned, never a panic.
    pub(crate) fn create(
        host: Weak<dyn PeerHost>,
        setup: PeerSetup,
        servers: &[IceServer],
        uses_manager: bool,
        debug: bool,
        recovery: RecoveryConfig,
    ) -> Result<Rc<PeerInner>, JsValue> {
        let config = rtc_configuration(servers, setup.relay);
        let pc = RtcPeerConnection::new_with_configuration(&config).inspect_err(|error| {
            if let Some(on_error) = &setup.handlers.on_error {
                let _ = on_error.call1(&JsValue::UNDEFINED, error);
            }
        })?;
        let mut engine = PeerEngine::new(EngineConfig {
            initiator: setup.initiator,
            uses_manager,
            servers: servers.to_vec(),
            recovery,
        });
        engine.handle(
            Input::SignalSink(setup.handlers.on_signal.is_some()),
            Date::now(),
        );
        let peer = Rc::new_cyclic(|weak: &Weak<PeerInner>| PeerInner {
            pc,
            relay: setup.relay,
            debug,
            host,
            stream: setup.stream,
            initiator: setup.initiator,
            engine: RefCell::new(engine),
            handlers: RefCell::new(setup.handlers),
            subscribers: Set::new(&JsValue::UNDEFINED),
            inputs: RefCell::new(VecDeque::new()),
            running: Cell::new(false),
            reply: RefCell::new(None),
            seen_streams: RefCell::new(Vec::new()),
            listeners: RefCell::new(None),
            data_channel: RefCell::new(None),
            timer: RefCell::new(None),
            sampler: RefCell::new(None),
            op_done: callback(weak, |peer, _| {
                let local = peer.pc.local_description().and_then(|d| {
                    let kind = match d.type_() {
                        RtcSdpType::Offer => SdpKind::Offer,
                        RtcSdpType::Answer => SdpKind::Answer,
                        _ => return None,
                    };
                    Some(Description { kind, sdp: d.sdp() })
                });
                peer.input(Input::OpSettled(Ok(local)));
            }),
            op_failed: callback(weak, |peer, error| {
                peer.input(Input::OpSettled(Err(error)));
            }),
            caller_gone: callback(weak, |peer, error| peer.emit_error(&error)),
            sampled: callback(weak, |peer, report| {
                if let Some(stats) = stats_of(&report) {
                    peer.input(Input::Stats(stats));
                }
            }),
            to_stats: Closure::new(|report: JsValue| {
                stats_of(&report).map_or(JsValue::NULL, |s| stats_to_js(&s))
            }),
        });
        *peer.listeners.borrow_mut() = Some(PeerListeners::attach(&peer));
        Ok(peer)
    }

    /// Adds the local tracks. The first offer follows from `negotiationneeded`;
    /// an initiator without media opens a data channel so that there is
    /// something to negotiate.
    pub(crate) fn start(&self) {
        let tracks = self
            .stream
            .as_ref()
            .map(|s| s.get_tracks())
            .unwrap_or_default();
        for track in tracks.iter() {
            if let (Some(stream), Ok(track)) = (&self.stream, track.dyn_into()) {
                self.pc.add_track_0(&track, stream);
            }
        }
        if self.initiator && tracks.length() == 0 {
            *self.data_channel.borrow_mut() = Some(self.pc.create_data_channel("ice-peer"));
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.engine.borrow().is_closed()
    }

    pub(crate) fn uses_manager_servers(&self) -> bool {
        self.engine.borrow().uses_manager_servers()
    }

    /// New servers from the manager for the live connection (used by the
    /// next gathering or ICE restart).
    pub(crate) fn apply_servers(self: &Rc<Self>, servers: &[IceServer]) {
        self.input(Input::ServersUpdated(servers.to_vec()));
    }

    /// The answer to `PeerHost::refresh_servers`.
    pub(crate) fn servers_arrived(self: &Rc<Self>, servers: Option<Vec<IceServer>>) {
        self.input(Input::ServersArrived(servers));
    }

    /// The device's network changed (the manager listens for it).
    pub(crate) fn network_changed(self: &Rc<Self>) {
        self.input(Input::NetworkChanged);
    }

    pub(crate) fn close(self: &Rc<Self>) {
        self.input(Input::Close);
    }

    /// Feeds one input and performs what follows. Returns the promise of the
    /// operation a `signal()` caller waits for, when there is one.
    pub(super) fn input(self: &Rc<Self>, input: Input<JsValue>) -> Option<Promise> {
        self.inputs.borrow_mut().push_back(input);
        if self.running.replace(true) {
            return None; // the loop below, further up the stack, takes it
        }
        let mut first = true;
        loop {
            let next = self.inputs.borrow_mut().pop_front();
            let Some(input) = next else { break };
            self.engine.borrow_mut().handle(input, Date::now());
            loop {
                let output = self.engine.borrow_mut().poll();
                let Some(output) = output else { break };
                self.perform(output, first);
            }
            first = false;
        }
        self.running.set(false);
        self.reply.borrow_mut().take()
    }

    fn perform(self: &Rc<Self>, output: Output<JsValue>, first: bool) {
        match output {
            Output::Op { op, reply } => {
                let promise = self.run_op(op);
                let _ = promise.then2(&self.op_done, &self.op_failed);
                if reply && first {
                    *self.reply.borrow_mut() = Some(promise);
                } else if reply {
                    // `signal()` called from inside a handler resolved at
                    // once (its input waited in the queue): a failure goes
                    // to `onError` instead of a promise nobody holds.
                    let _ = promise.catch(&self.caller_gone);
                }
            }
            Output::Configure(servers) => {
                debug(
                    self.debug,
                    "Applying ICE servers to a live peer",
                    &redacted_to_js(&servers),
                );
                let config = rtc_configuration(&servers, self.relay);
                if let Err(error) = self.pc.set_configuration_with_configuration(&config) {
                    self.emit_error(&error);
                }
            }
            Output::RestartIce => {
                debug(self.debug, "Restarting ICE", &JsValue::UNDEFINED);
                self.pc
                    .unchecked_ref::<ImplicitPeerConnection>()
                    .restart_ice();
            }
            Output::FetchServers { rejected } => match self.host.upgrade() {
                Some(host) => host.refresh_servers(Rc::downgrade(self), rejected),
                None => self.servers_arrived(None),
            },
            Output::SampleStats => self.sample(),
            Output::Sampling(on) => {
                let sampler = on.then(|| {
                    let peer = Rc::downgrade(self);
                    Interval::new(SAMPLE_INTERVAL_MS, move || {
                        if let Some(peer) = peer.upgrade() {
                            peer.sample();
                        }
                    })
                });
                *self.sampler.borrow_mut() = sampler;
            }
            Output::Timer(ms) => {
                let timer = ms.map(|ms| {
                    let peer = Rc::downgrade(self);
                    Timeout::new(ms, move || {
                        if let Some(peer) = peer.upgrade() {
                            peer.input(Input::Timer);
                        }
                    })
                });
                *self.timer.borrow_mut() = timer;
            }
            Output::Event(event) => emit(self, event),
            Output::Release => self.release(),
        }
    }

    fn run_op(&self, op: Op<JsValue>) -> Promise {
        let pc = self.pc.unchecked_ref::<ImplicitPeerConnection>();
        match op {
            Op::SetLocal => pc.set_local_description_implicit(),
            Op::SetRemote(description) => {
                let kind = match description.kind {
                    SdpKind::Offer => RtcSdpType::Offer,
                    SdpKind::Answer => RtcSdpType::Answer,
                };
                let init = RtcSessionDescriptionInit::new(kind);
                init.set_sdp(&description.sdp);
                self.pc.set_remote_description(&init)
            }
            Op::AddCandidate(candidate) => self
                .pc
                .add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(
                    candidate.unchecked_ref::<RtcIceCandidateInit>(),
                )),
        }
    }

    fn sample(&self) {
        let _ = self.pc.get_stats().then2(&self.sampled, &self.sampled);
    }

    /// `peer.stats()`: a promise of the contract's `PeerStats`.
    pub(super) fn stats(&self) -> Promise {
        then_map(&self.pc.get_stats(), &self.to_stats)
    }

    /// The signaling state is "stable" (for the engine's collision check).
    pub(super) fn is_stable(&self) -> bool {
        self.pc.signaling_state() == RtcSignalingState::Stable
    }

    /// A remote stream for `onStream`, once per stream.
    pub(super) fn first_sight(&self, stream: &MediaStream) -> bool {
        let id = stream.id();
        let mut seen = self.seen_streams.borrow_mut();
        if seen.contains(&id) {
            return false;
        }
        seen.push(id);
        true
    }

    pub(super) fn emit_error(&self, error: &JsValue) {
        let handler = self.handlers.borrow().on_error.clone();
        if let Some(handler) = handler {
            let _ = handler.call1(&JsValue::UNDEFINED, error);
        }
    }

    /// Lets go of the connection: listeners detached, timers stopped, closed,
    /// and the manager told. Silent: the events come from the engine.
    fn release(&self) {
        drop(self.listeners.borrow_mut().take());
        drop(self.timer.borrow_mut().take());
        drop(self.sampler.borrow_mut().take());
        if let Some(channel) = self.data_channel.borrow_mut().take() {
            channel.close();
        }
        self.pc.close();
        if let Some(host) = self.host.upgrade() {
            host.forget_peer(self);
        }
    }
}

/// The engine's summary of a stats report (`None` for a rejected `getStats`).
pub(super) fn stats_of(report: &JsValue) -> Option<PeerStats> {
    let report = report.dyn_ref::<RtcStatsReport>()?;
    let reports: Vec<_> = Array::from(&report.values())
        .iter()
        .map(|r| json_from_js(&r))
        .collect();
    Some(summarise(&reports))
}

/// A peer whose last owner let go without `close()` (the app freed the
/// manager and the handle): release the connection so no listener is left
/// pointing at a dropped closure. No handler runs from here.
impl Drop for PeerInner {
    fn drop(&mut self) {
        if !self.engine.borrow().is_closed() {
            self.release();
        }
    }
}

impl PeerInner {
    /// The state for the getters.
    pub(super) fn state(&self) -> IceState {
        self.engine.borrow().ice_state()
    }
}
