//! `Peer` as JavaScript sees it: a thin handle over [`PeerInner`].

use super::bindings::{PeerEventHandlers, RestartablePeerConnection, SignalData};
use super::convert::stats_to_js;
use super::error::{get, set, type_error};
use super::handlers::Handlers;
use super::negotiation;
use super::peer::{stats_reports, PeerInner};
use crate::core::quality::Quality;
use crate::core::stats::summarise;
use js_sys::{Function, Promise};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local};
use web_sys::RtcPeerConnection;

/// A call to one remote peer. Signaling goes through `onSignal` and `signal()`.
#[wasm_bindgen]
pub struct Peer {
    inner: Rc<PeerInner>,
}

/// Methods apps pass around as callbacks (`useSyncExternalStore(peer.subscribe, …)`,
/// `socket.on("signal", peer.signal)`): each JS `Peer` gets them bound to itself.
const BOUND_METHODS: [&str; 3] = ["subscribe", "signal", "close"];

impl Peer {
    /// The JS object for a new peer, with [`BOUND_METHODS`] bound to it.
    pub(crate) fn into_js(inner: Rc<PeerInner>) -> JsValue {
        let js = JsValue::from(Peer { inner });
        for name in BOUND_METHODS {
            if let Ok(method) = get(&js, name).dyn_into::<Function>() {
                let bound: JsValue = method.bind0(&js).into();
                set(&js, name, &bound);
            }
        }
        js
    }
}

#[wasm_bindgen]
impl Peer {
    /// The underlying connection, for anything this API does not wrap.
    #[wasm_bindgen(getter)]
    pub fn connection(&self) -> RtcPeerConnection {
        self.inner.pc.clone()
    }

    /// The last `iceConnectionState` seen ("closed" once closed).
    #[wasm_bindgen(getter, js_name = iceConnectionState, unchecked_return_type = "IceConnectionState")]
    pub fn ice_connection_state(&self) -> JsValue {
        self.inner.state.get().as_str().into()
    }

    /// The quality for that state.
    #[wasm_bindgen(getter, unchecked_return_type = "Quality")]
    pub fn quality(&self) -> JsValue {
        Quality::of(self.inner.state.get()).as_str().into()
    }

    /// Addition: network quality graded from live stats (loss, jitter, RTT),
    /// "unknown" until measured; see `NetworkQuality`.
    #[wasm_bindgen(getter, js_name = networkQuality, unchecked_return_type = "NetworkQuality")]
    pub fn network_quality(&self) -> JsValue {
        self.inner.network.borrow().level().as_str().into()
    }

    /// Apply a message from the remote side. Rejects with a `TypeError` for
    /// malformed data; resolves without effect once the peer is closed.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn signal(&self, data: SignalData) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move {
            negotiation::apply(inner, data.into())
                .await
                .map(|()| JsValue::UNDEFINED)
        })
    }

    /// Replace the handlers (the messenger wires them after creation).
    #[wasm_bindgen(js_name = setEventHandlers)]
    pub fn set_event_handlers(&self, handlers: PeerEventHandlers) -> Result<(), JsValue> {
        self.inner
            .replace_handlers(Handlers::from_js(&handlers.into())?);
        Ok(())
    }

    /// Subscribe to state changes (for React's `useSyncExternalStore`); returns the unsubscribe function.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "() => void")] listener: JsValue,
    ) -> Result<Function, JsValue> {
        if !listener.is_function() {
            return Err(type_error("subscribe needs a function"));
        }
        let set = &self.inner.subscribers;
        if !self.inner.closed.get() {
            set.add(&listener);
        }
        // `set.delete.bind(set, listener)`: a native function, no closure to own.
        let delete: Function = get(set, "delete").unchecked_into();
        Ok(delete.bind1(set, &listener).unchecked_into())
    }

    /// Restart ICE now. The initiator refreshes expired servers and re-offers
    /// through `onSignal`; on the other side the restart takes effect at the next offer.
    #[wasm_bindgen(js_name = restartIce)]
    pub fn restart_ice(&self) {
        if self.inner.closed.get() {
            return;
        }
        if self.inner.initiator {
            spawn_local(self.inner.clone().restart());
        } else {
            self.inner
                .pc
                .unchecked_ref::<RestartablePeerConnection>()
                .restart_ice();
        }
    }

    /// Figures from the selected candidate pair and inbound RTP.
    #[wasm_bindgen(unchecked_return_type = "Promise<PeerStats>")]
    pub fn stats(&self) -> Promise {
        let pc = self.inner.pc.clone();
        future_to_promise(async move { Ok(stats_to_js(&summarise(&stats_reports(&pc).await?))) })
    }

    /// Idempotent. Detaches and drops every callback, closes the connection,
    /// fires `onClose` once; no callback fires afterwards.
    pub fn close(&self) {
        self.inner.close();
    }
}
