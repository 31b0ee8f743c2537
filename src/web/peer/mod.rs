//! `PeerInner`: the driver of one [`PeerEngine`]. Browser events (reported
//! by `js/peer.js` through one closure, see `events.rs`) become inputs; the
//! engine's outputs become calls on the `RTCPeerConnection`, timers and the
//! app's handlers. Inputs that arrive while outputs are being
//! performed (a handler that calls back into the peer, a cached answer from
//! the manager) wait in a queue, so the engine is never re-entered and every
//! handler runs after the state it reports has been updated.

mod events;
pub(crate) mod host;
mod output;

use crate::core::engine::{EngineConfig, Input, Output, PeerEngine};
use crate::core::negotiation::Op;
use crate::core::network_quality::SAMPLE_INTERVAL_MS;
use crate::core::quality::IceState;
use crate::core::recovery::RecoveryConfig;
use crate::core::retry::timer_delay_ms;
use crate::core::servers::IceServer;
use crate::core::stats::{summarise, PeerStats};
use crate::web::bindings::{clear_interval, clear_timeout, ImplicitPeerConnection};
use crate::web::convert::{json_from_js, redacted_to_js, servers_to_js, stats_to_js};
use crate::web::handlers::{Handlers, PeerSetup};
use crate::web::log::debug;
use events::Notify;
use host::PeerHost;
use js_sys::{Array, Date, Promise, Set};
use output::emit;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use web_sys::{
    MediaStream, RtcConfiguration, RtcDataChannel, RtcIceTransportPolicy, RtcPeerConnection,
    RtcSignalingState,
};

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
    data_channel: RefCell<Option<RtcDataChannel>>,
    /// The ids of the engine's one timer and of the sampling clock.
    timer: RefCell<Option<JsValue>>,
    sampler: RefCell<Option<JsValue>>,
    /// Everything `peer.js` reports: connection events, settled operations,
    /// stats samples, timers. Owned here rather than per promise because a
    /// closed connection never settles the promises it still had.
    notify: Notify,
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
            data_channel: RefCell::new(None),
            timer: RefCell::new(None),
            sampler: RefCell::new(None),
            notify: events::notify(weak),
            to_stats: Closure::new(|report: JsValue| {
                stats_of(&report).map_or(JsValue::NULL, |s| stats_to_js(&s))
            }),
        });
        events::listen(&peer.pc, &peer.notify);
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
                // `signal()` called from inside a handler resolved at once
                // (its input waited in the queue): a failure goes to
                // `onError` instead of a promise nobody holds.
                let promise = self.run_op(op, reply && !first);
                if reply && first {
                    *self.reply.borrow_mut() = Some(promise);
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
                self.stop_sampling();
                if on {
                    let id = events::every(SAMPLE_INTERVAL_MS, true, &self.notify);
                    *self.sampler.borrow_mut() = Some(id);
                }
            }
            Output::Timer(ms) => {
                self.stop_timer();
                if let Some(ms) = ms {
                    let id = events::every(timer_delay_ms(ms), false, &self.notify);
                    *self.timer.borrow_mut() = Some(id);
                }
            }
            Output::Event(event) => emit(self, event),
            Output::Release => self.release(),
        }
    }

    /// Queues `op` on the connection; with `caller_gone`, its failure is
    /// reported to `onError` as well.
    fn run_op(&self, op: Op<JsValue>, caller_gone: bool) -> Promise {
        let none = JsValue::UNDEFINED;
        let (code, a, b) = match op {
            Op::SetLocal => (0, none.clone(), none),
            Op::SetRemote(description) => {
                (1, description.kind.as_str().into(), description.sdp.into())
            }
            Op::AddCandidate(candidate) => (2, candidate, none),
        };
        events::run(&self.pc, code, &a, &b, caller_gone, &self.notify)
    }

    fn sample(&self) {
        events::sample(&self.pc, &self.notify);
    }

    /// `peer.stats()`: a promise of the contract's `PeerStats`.
    pub(super) fn stats(&self) -> Promise {
        events::stats(&self.pc, &self.to_stats)
    }

    fn stop_timer(&self) {
        if let Some(id) = self.timer.take() {
            clear_timeout(&id);
        }
    }

    fn stop_sampling(&self) {
        if let Some(id) = self.sampler.take() {
            clear_interval(&id);
        }
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
        events::unlisten(&self.pc);
        self.stop_timer();
        self.stop_sampling();
        if let Some(channel) = self.data_channel.borrow_mut().take() {
            channel.close();
        }
        self.pc.close();
        if let Some(host) = self.host.upgrade() {
            host.forget_peer(self);
        }
    }
}

/// The engine's summary of a stats report's entries (`None` for a
/// rejected `getStats`).
pub(super) fn stats_of(reports: &JsValue) -> Option<PeerStats> {
    let reports: Vec<_> = Array::is_array(reports)
        .then(|| Array::from(reports))?
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
