//! `Peer`: one `RTCPeerConnection`, its handlers, state and recovery.

use super::bindings::RestartablePeerConnection;
use super::convert::{json_from_js, network_score_to_js, redacted_to_js, servers_to_js};
use super::error::get;
use super::handlers::{Handlers, PeerSetup};
use super::log::debug;
use super::negotiation;
use super::peer_events::{detach, PeerCallbacks};
use super::peer_host::PeerHost;
use super::timer::{Interval, Timeout};
use crate::core::json::Json;
use crate::core::network_quality::{NetworkQualityMeter, SAMPLE_INTERVAL_MS};
use crate::core::quality::{IceState, Quality};
use crate::core::recovery::{Action, Recovery, RecoveryConfig};
use crate::core::servers::IceServer;
use crate::core::stats::{received_by_id, received_since, summarise};
use js_sys::{Array, Function, Map, Set};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{
    MediaStream, RtcConfiguration, RtcDataChannel, RtcIceTransportPolicy, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcTrackEvent,
};

/// State shared by the exported handle, the connection's callbacks and the manager.
pub(crate) struct PeerInner {
    pub(super) pc: RtcPeerConnection,
    pub(super) initiator: bool,
    relay: bool,
    uses_manager: bool,
    pub(super) debug: bool,
    host: Weak<dyn PeerHost>,
    stream: Option<MediaStream>,
    pub(super) handlers: RefCell<Handlers>,
    /// Listeners from `subscribe`; a JS Set so that unsubscribing needs no Rust closure.
    pub(super) subscribers: Set,
    pub(super) state: Cell<IceState>,
    connected_once: Cell<bool>,
    seen_streams: RefCell<Vec<String>>,
    /// Remote candidates that arrived before the remote description.
    pub(super) pending_candidates: RefCell<Vec<JsValue>>,
    /// Local signals made while the app had no `onSignal` yet (it may wire
    /// handlers after `createPeer` resolves); sent as soon as it has one.
    unsent_signals: RefCell<Vec<JsValue>>,
    callbacks: RefCell<Option<PeerCallbacks>>,
    data_channel: RefCell<Option<RtcDataChannel>>,
    recovery: RefCell<Recovery>,
    recovery_timer: RefCell<Option<Timeout>>,
    /// Follower: what the connection had received when the current watch began.
    received_mark: RefCell<Option<Vec<(String, f64)>>>,
    /// TURN refused our credentials: the next restart drops the cache first.
    credentials_rejected: Cell<bool>,
    /// A restart waits for `servers_arrived`.
    restart_waiting: Cell<bool>,
    /// The servers the connection was last configured with.
    applied_servers: RefCell<Vec<IceServer>>,
    /// Bumped whenever different servers are applied; a 401 is acted on once per version.
    servers_version: Cell<u32>,
    rejection_handled_for: Cell<Option<u32>>,
    pub(super) offering: Cell<bool>,
    pub(super) closed: Cell<bool>,
    /// Network quality from stats samples, taken while `network_sampler` runs
    /// (from the first connection until close).
    pub(super) network: RefCell<NetworkQualityMeter>,
    network_sampler: RefCell<Option<Interval>>,
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
    /// Makes the connection and attaches the callbacks. A constructor error
    /// reaches `onError` and is returned, never a panic.
    pub(crate) fn create(
        host: Weak<dyn PeerHost>,
        setup: PeerSetup,
        servers: &[IceServer],
        uses_manager: bool,
        debug: bool,
        recovery: RecoveryConfig,
    ) -> Result<Rc<PeerInner>, JsValue> {
        let pc = match RtcPeerConnection::new_with_configuration(&rtc_configuration(
            servers,
            setup.relay,
        )) {
            Ok(pc) => pc,
            Err(error) => {
                if let Some(on_error) = &setup.handlers.on_error {
                    let _ = on_error.call1(&JsValue::UNDEFINED, &error);
                }
                return Err(error);
            }
        };
        let peer = Rc::new(PeerInner {
            pc,
            initiator: setup.initiator,
            relay: setup.relay,
            uses_manager,
            debug,
            host,
            stream: setup.stream,
            handlers: RefCell::new(setup.handlers),
            subscribers: Set::new(&JsValue::UNDEFINED),
            state: Cell::new(IceState::New),
            connected_once: Cell::new(false),
            seen_streams: RefCell::new(Vec::new()),
            pending_candidates: RefCell::new(Vec::new()),
            unsent_signals: RefCell::new(Vec::new()),
            callbacks: RefCell::new(None),
            data_channel: RefCell::new(None),
            recovery: RefCell::new(if setup.initiator {
                Recovery::new(recovery)
            } else {
                Recovery::follower(recovery)
            }),
            recovery_timer: RefCell::new(None),
            received_mark: RefCell::new(None),
            credentials_rejected: Cell::new(false),
            restart_waiting: Cell::new(false),
            applied_servers: RefCell::new(servers.to_vec()),
            servers_version: Cell::new(0),
            rejection_handled_for: Cell::new(None),
            offering: Cell::new(false),
            closed: Cell::new(false),
            network: RefCell::new(NetworkQualityMeter::new()),
            network_sampler: RefCell::new(None),
        });
        *peer.callbacks.borrow_mut() = Some(PeerCallbacks::attach(&peer));
        Ok(peer)
    }

    /// Adds the local tracks. The initiator's offer follows from `negotiationneeded`;
    /// without media it opens a data channel so that there is something to negotiate.
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

    pub(crate) fn connection(&self) -> &RtcPeerConnection {
        &self.pc
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.get()
    }

    pub(crate) fn uses_manager_servers(&self) -> bool {
        self.uses_manager && !self.closed.get()
    }

    /// New servers for the live connection (used by the next gathering or ICE restart).
    pub(crate) fn apply_servers(&self, servers: &[IceServer]) {
        if self.closed.get() || *self.applied_servers.borrow() == servers {
            return;
        }
        debug(
            self.debug,
            "Applying ICE servers to a live peer",
            &redacted_to_js(servers),
        );
        match self
            .pc
            .set_configuration_with_configuration(&rtc_configuration(servers, self.relay))
        {
            Ok(()) => {
                *self.applied_servers.borrow_mut() = servers.to_vec();
                self.servers_version
                    .set(self.servers_version.get().wrapping_add(1));
            }
            Err(error) => self.emit_error(&error),
        }
    }

    /// Calls one handler (never `onError`, see `emit_error`) with no RefCell
    /// borrow held, so that it may call back into the peer. A handler that
    /// throws is reported through `onError`.
    pub(super) fn emit(&self, pick: fn(&Handlers) -> &Option<Function>, args: &[JsValue]) {
        let Some(handler) = pick(&self.handlers.borrow()).clone() else {
            return;
        };
        let this = JsValue::UNDEFINED;
        let result = match args {
            [] => handler.call0(&this),
            [a] => handler.call1(&this, a),
            [a, b, ..] => handler.call2(&this, a, b),
        };
        if let Err(error) = result {
            self.emit_error(&error);
        }
    }

    pub(super) fn emit_error(&self, error: &JsValue) {
        let handler = self.handlers.borrow().on_error.clone();
        if let Some(handler) = handler {
            let _ = handler.call1(&JsValue::UNDEFINED, error);
        }
    }

    pub(super) fn emit_signal(&self, signal: &JsValue) {
        if self.closed.get() {
            return;
        }
        if self.handlers.borrow().on_signal.is_none() {
            self.unsent_signals.borrow_mut().push(signal.clone());
            return;
        }
        self.emit(|h| &h.on_signal, std::slice::from_ref(signal));
    }

    /// New handlers from `setEventHandlers`; held signals go out through the new `onSignal`.
    pub(super) fn replace_handlers(&self, handlers: Handlers) {
        if self.closed.get() {
            return;
        }
        *self.handlers.borrow_mut() = handlers;
        if self.handlers.borrow().on_signal.is_some() {
            let held = std::mem::take(&mut *self.unsent_signals.borrow_mut());
            for signal in held {
                self.emit_signal(&signal);
            }
        }
    }

    /// Calls every `subscribe` listener; one that throws is reported through `onError`.
    fn notify_subscribers(&self) {
        for listener in Array::from(&self.subscribers).iter() {
            if let Err(error) = listener
                .unchecked_into::<Function>()
                .call0(&JsValue::UNDEFINED)
            {
                self.emit_error(&error);
            }
        }
    }

    pub(super) fn on_local_candidate(&self, event: RtcPeerConnectionIceEvent) {
        if let Some(candidate) = event.candidate() {
            self.emit_signal(&negotiation::candidate_signal(&candidate.to_json().into()));
        }
    }

    pub(super) fn on_ice_state(self: &Rc<Self>) {
        let Some(state) = get(&self.pc, "iceConnectionState")
            .as_string()
            .and_then(|s| IceState::parse(&s))
        else {
            return;
        };
        if self.closed.get() {
            return;
        }
        self.state.set(state);
        let quality = Quality::of(state);
        debug(
            self.debug,
            &["ICE state: ", state.as_str(), " (", quality.as_str(), ")"].concat(),
            &JsValue::UNDEFINED,
        );
        self.emit(
            |h| &h.on_ice_state_change,
            &[state.as_str().into(), quality.as_str().into()],
        );
        self.notify_subscribers();
        if state.is_connected() && !self.connected_once.replace(true) && !self.closed.get() {
            self.start_network_sampler();
            self.emit(|h| &h.on_connect, &[]);
        }
        if !self.closed.get() {
            let action = self.recovery.borrow_mut().on_state(state);
            self.perform(action);
        }
    }

    pub(super) fn on_track(&self, event: RtcTrackEvent) {
        let stream = match event.streams().get(0).dyn_into::<MediaStream>() {
            Ok(stream) => stream,
            Err(_) => match MediaStream::new_with_tracks(&Array::of1(&event.track())) {
                Ok(stream) => stream,
                Err(_) => return,
            },
        };
        let id = stream.id();
        if self.seen_streams.borrow().contains(&id) {
            return;
        }
        self.seen_streams.borrow_mut().push(id);
        self.emit(|h| &h.on_stream, &[stream.into()]);
    }

    pub(super) fn on_negotiation_needed(self: &Rc<Self>) {
        if self.initiator {
            spawn_local(negotiation::offer(self.clone(), false));
        }
    }

    /// `icecandidateerror`: a 401 from a TURN server means expired or wrong
    /// credentials. ICE then stays `new` and never reports `failed`, so this is
    /// the only signal: refetch, apply, and (initiator) restart.
    pub(super) fn on_candidate_error(self: &Rc<Self>, event: JsValue) {
        let code = get(&event, "errorCode").as_f64();
        let url = get(&event, "url").as_string().unwrap_or_default();
        if code != Some(401.0) || !url.to_ascii_lowercase().starts_with("turn") || self.closed.get()
        {
            return;
        }
        let version = self.servers_version.get();
        if self.rejection_handled_for.replace(Some(version)) == Some(version) {
            return;
        }
        debug(
            self.debug,
            "TURN rejected the credentials (401); refreshing ICE servers",
            &JsValue::UNDEFINED,
        );
        self.credentials_rejected.set(true);
        if self.initiator {
            let action = self.recovery.borrow_mut().on_credentials_rejected();
            self.perform(action);
        } else {
            self.refresh_servers();
        }
    }

    fn perform(self: &Rc<Self>, action: Action) {
        match action {
            Action::Keep => {}
            Action::CancelTimer => drop(self.recovery_timer.borrow_mut().take()),
            Action::ArmTimer(ms) => self.arm_recovery_timer(ms),
            Action::Restart {
                attempt,
                timeout_ms,
            } => {
                self.arm_recovery_timer(timeout_ms);
                debug(
                    self.debug,
                    &["Restarting ICE, attempt ", &attempt.to_string()].concat(),
                    &JsValue::UNDEFINED,
                );
                spawn_local(self.clone().restart());
            }
            Action::Watch(ms) => {
                self.arm_recovery_timer(ms);
                self.received_mark.replace(None);
                let peer = self.clone();
                spawn_local(async move {
                    let mark = peer.received().await;
                    peer.received_mark.replace(mark);
                });
            }
            Action::CheckAlive => {
                let peer = self.clone();
                spawn_local(async move {
                    let now = peer.received().await;
                    // Unknown counts as alive: never close a call on a failed measurement.
                    let received = match (peer.received_mark.take(), now) {
                        (Some(before), Some(now)) => received_since(&before, &now),
                        _ => true,
                    };
                    if !peer.closed.get() {
                        let action = peer.recovery.borrow_mut().on_liveness(received);
                        peer.perform(action);
                    }
                });
            }
            Action::GiveUp => {
                debug(
                    self.debug,
                    "ICE could not recover; closing the peer",
                    &JsValue::UNDEFINED,
                );
                self.close();
            }
        }
    }

    fn arm_recovery_timer(self: &Rc<Self>, ms: f64) {
        let peer = Rc::downgrade(self);
        // The timer's own closure is replaced by what it triggers, so the
        // work runs in a fresh task rather than inside that closure.
        let timeout = Timeout::new(ms, move || {
            spawn_local(async move {
                if let Some(peer) = peer.upgrade() {
                    if !peer.closed.get() {
                        let action = peer.recovery.borrow_mut().on_timer();
                        peer.perform(action);
                    }
                }
            })
        });
        *self.recovery_timer.borrow_mut() = Some(timeout);
    }

    /// Samples stats every [`SAMPLE_INTERVAL_MS`] for the network quality.
    fn start_network_sampler(self: &Rc<Self>) {
        let peer = Rc::downgrade(self);
        let interval = Interval::new(SAMPLE_INTERVAL_MS, move || {
            if let Some(peer) = peer.upgrade() {
                spawn_local(peer.sample_network());
            }
        });
        *self.network_sampler.borrow_mut() = Some(interval);
    }

    /// One sample; a changed level reaches `onNetworkQualityChange` and the
    /// subscribers after the meter has settled.
    async fn sample_network(self: Rc<Self>) {
        let Ok(reports) = stats_reports(&self.pc).await else {
            return;
        };
        if self.closed.get() {
            return;
        }
        let changed = self.network.borrow_mut().sample(&summarise(&reports));
        let score = self.network.borrow().last_score();
        if let (Some(level), Some(score)) = (changed, score) {
            debug(
                self.debug,
                &["Network quality: ", level.as_str()].concat(),
                &JsValue::UNDEFINED,
            );
            self.emit(
                |h| &h.on_network_quality_change,
                &[level.as_str().into(), network_score_to_js(&score)],
            );
            self.notify_subscribers();
        }
    }

    /// What the connection has received so far (`None` if getStats failed).
    async fn received(&self) -> Option<Vec<(String, f64)>> {
        stats_reports(&self.pc)
            .await
            .ok()
            .map(|r| received_by_id(&r))
    }

    /// The initiator sent an ICE-restart offer (see `Recovery::on_remote_restart`).
    pub(super) fn on_remote_restart(self: &Rc<Self>) {
        if !self.closed.get() {
            let action = self.recovery.borrow_mut().on_remote_restart();
            self.perform(action);
        }
    }

    /// Asks the host for fresh servers (it drops the cache first when TURN
    /// refused them); they come back through `servers_arrived`.
    fn refresh_servers(self: &Rc<Self>) {
        let Some(host) = self.host.upgrade().filter(|_| self.uses_manager) else {
            return self.servers_arrived(None);
        };
        let rejected = self
            .credentials_rejected
            .replace(false)
            .then(|| self.applied_servers.borrow().clone());
        host.refresh_servers(Rc::downgrade(self), rejected);
    }

    /// The host's answer to `refresh_servers` (`None`: none could be had).
    /// A restart that waited for it goes ahead now.
    pub(crate) fn servers_arrived(self: &Rc<Self>, servers: Option<Vec<IceServer>>) {
        if let Some(servers) = servers {
            self.apply_servers(&servers);
        }
        if self.restart_waiting.replace(false) && !self.closed.get() {
            self.pc
                .unchecked_ref::<RestartablePeerConnection>()
                .restart_ice();
            spawn_local(negotiation::offer(self.clone(), true));
        }
    }

    /// An ICE restart: fresh servers first, then `restartIce()` and a new offer.
    pub(super) async fn restart(self: Rc<Self>) {
        self.restart_waiting.set(true);
        self.refresh_servers();
    }

    /// The network changed (online, offline, another connection type).
    /// The coordinator's engine acts on it; this interim peer waits for its
    /// own ICE state to tell it.
    pub(crate) fn network_changed(self: &Rc<Self>) {}

    pub(crate) fn close(&self) {
        self.shut(true);
    }

    /// Closes the connection; `notify` is false when dropped, so that no
    /// user handler runs from `Drop`.
    fn shut(&self, notify: bool) {
        if self.closed.replace(true) {
            return;
        }
        self.state.set(IceState::Closed);
        drop(self.recovery_timer.borrow_mut().take());
        drop(self.network_sampler.borrow_mut().take());
        detach(&self.pc);
        drop(self.callbacks.borrow_mut().take());
        if let Some(channel) = self.data_channel.borrow_mut().take() {
            channel.close();
        }
        self.pc.close();
        self.pending_candidates.borrow_mut().clear();
        self.unsent_signals.borrow_mut().clear();
        if let Some(host) = self.host.upgrade() {
            host.forget_peer(self);
        }
        if !notify {
            self.handlers.replace(Handlers::default());
            self.subscribers.clear();
            return;
        }
        // The last callbacks: the final state, then onClose. Nothing after.
        // Taken out first, so that nothing reaches them afterwards.
        let handlers = self.handlers.replace(Handlers::default());
        let this = JsValue::UNDEFINED;
        if let Some(f) = &handlers.on_ice_state_change {
            let closed = IceState::Closed;
            let _ = f.call2(
                &this,
                &closed.as_str().into(),
                &Quality::of(closed).as_str().into(),
            );
        }
        self.notify_subscribers();
        self.subscribers.clear();
        if let Some(f) = &handlers.on_close {
            let _ = f.call0(&this);
        }
    }
}

/// A peer whose last owner let go without `close()` (the app freed the
/// manager and the handle): close it, so no callback is left on a live
/// connection pointing at a dropped closure. No user handler runs here.
impl Drop for PeerInner {
    fn drop(&mut self) {
        self.shut(false);
    }
}

/// Every stats object of the connection's report, as JSON trees.
pub(super) async fn stats_reports(pc: &RtcPeerConnection) -> Result<Vec<Json>, JsValue> {
    let report: Map = JsFuture::from(pc.get_stats()).await?.unchecked_into();
    Ok(Array::from(&report.values())
        .iter()
        .map(|r| json_from_js(&r))
        .collect())
}
