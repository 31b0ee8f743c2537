//! `PeerInner`: the driver of one [`PeerEngine`]. Browser events become
//! inputs; the engine's outputs become calls on the `RTCPeerConnection`,
//! timers and the app's handlers. Inputs that arrive while outputs are being
//! performed (a handler that calls back into the peer, a cached answer from
//! the manager) wait in a queue, so the engine is never re-entered and every
//! handler runs after the state it reports has been updated.

mod connection;
pub(crate) mod host;
mod notify;
mod output;

use crate::core::engine::{EngineConfig, Input, Output, PeerEngine, PROBE_INTERVAL_MS};
use crate::core::negotiation::Op;
use crate::core::quality::IceState;
use crate::core::recovery::RecoveryConfig;
use crate::core::retry::timer_delay_ms;
use crate::core::servers::IceServer;
use crate::web::convert::servers_to_js;
use crate::web::handlers::{Handlers, PeerSetup};
use crate::web::log::{debug, debug_servers};
use connection::{Notify, PeerConnection};
use host::PeerHost;
use js_sys::{Date, Promise, Set};
use output::emit;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use web_sys::{MediaStream, RtcPeerConnection};

/// One peer: its connection, its engine, and everything it hands to JS.
pub(crate) struct PeerInner {
    connection: PeerConnection,
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
    /// The one function the connection's plumbing reports through. Owned
    /// here, not per promise or event: a closed connection never settles the
    /// promises it still had, and a freed peer must leave nothing behind.
    notify: Notify,
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
        let connection =
            PeerConnection::new(&servers_to_js(servers), setup.relay).inspect_err(|error| {
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
            connection,
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
            notify: notify::notify(weak.clone()),
        });
        peer.connection.attach(&peer.notify);
        Ok(peer)
    }

    /// Adds the local tracks. The first offer follows from `negotiationneeded`;
    /// an initiator without media opens a data channel so that there is
    /// something to negotiate.
    pub(crate) fn start(&self) {
        self.connection.start(self.stream.clone(), self.initiator);
    }

    /// The state for the getters.
    pub(super) fn state(&self) -> IceState {
        self.engine.borrow().ice_state()
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
                debug_servers(self.debug, "Applying ICE servers to a live peer", &servers);
                if let Err(error) = self
                    .connection
                    .configure(&servers_to_js(&servers), self.relay)
                {
                    self.emit_error(&error);
                }
            }
            Output::RestartIce => {
                debug(self.debug, "Restarting ICE", &JsValue::UNDEFINED);
                self.connection.restart_ice();
            }
            Output::FetchServers { rejected } => match self.host.upgrade() {
                Some(host) => host.refresh_servers(Rc::downgrade(self), rejected),
                None => self.servers_arrived(None),
            },
            Output::SampleStats => self.connection.sample(),
            Output::Sampling(on) => {
                self.connection
                    .sampling(if on { PROBE_INTERVAL_MS } else { 0.0 })
            }
            // Clamped: a delay above 2^31 - 1 ms would fire at once.
            Output::Timer(ms) => self.connection.timer(ms.map_or(-1.0, timer_delay_ms)),
            Output::Event(event) => emit(self, event),
            Output::Release => self.release(),
        }
    }

    fn run_op(&self, op: Op<JsValue>, orphan: bool) -> Promise {
        let connection = &self.connection;
        match op {
            Op::SetLocal => connection.op(0, &JsValue::UNDEFINED, "", orphan),
            Op::SetRemote(description) => connection.op(
                1,
                &description.kind.as_str().into(),
                &description.sdp,
                orphan,
            ),
            Op::AddCandidate(candidate) => connection.op(2, &candidate, "", orphan),
        }
    }

    /// `peer.stats()`: a promise of the contract's `PeerStats`.
    pub(super) fn stats(&self) -> Promise {
        self.connection.stats()
    }

    /// The signaling state is "stable" (for the engine's collision check).
    pub(super) fn is_stable(&self) -> bool {
        self.connection.is_stable()
    }

    /// The connection, for `peer.connection`.
    pub(super) fn rtc(&self) -> RtcPeerConnection {
        self.connection.pc()
    }

    pub(super) fn emit_error(&self, error: &JsValue) {
        let handler = self.handlers.borrow().on_error.clone();
        if let Some(handler) = handler {
            let _ = handler.call1(&JsValue::UNDEFINED, error);
        }
    }

    /// Lets go of the connection: handlers detached, timers stopped, closed,
    /// and the manager told. Silent: the events come from the engine.
    fn release(&self) {
        self.connection.close();
        if let Some(host) = self.host.upgrade() {
            host.forget_peer(self);
        }
    }
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
