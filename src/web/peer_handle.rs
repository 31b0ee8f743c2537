//! `Peer` as JavaScript sees it: a thin handle over [`PeerInner`].

use super::bindings::{PeerEventHandlers, SignalData};
use super::error::type_error;
use super::handlers::Handlers;
use super::peer::PeerInner;
use super::property::get;
use crate::core::engine::Input;
use crate::core::negotiation::{Description, SdpKind};
use crate::core::quality::Quality;
use crate::core::usage::UsageError;
use js_sys::{Function, Promise};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use web_sys::RtcPeerConnection;

#[wasm_bindgen(module = "/src/web/js/values.js")]
extern "C" {
    /// Binds `subscribe`, `signal` and `close` to the new `Peer` object.
    #[wasm_bindgen(js_name = bindMethods)]
    fn bind_methods(peer: &JsValue);
    /// Adds `listener` to `set` (when `add`); returns the function that
    /// removes it.
    fn subscribe(set: &js_sys::Set, listener: &JsValue, add: bool) -> Function;
}

/// A call to one remote peer. Signaling goes through `onSignal` and `signal()`.
#[wasm_bindgen]
pub struct Peer {
    inner: Rc<PeerInner>,
}

impl Peer {
    /// The JS object for a new peer, with the methods apps pass around as
    /// callbacks bound to it (see `js/values.js` `bindMethods`).
    pub(crate) fn into_js(inner: Rc<PeerInner>) -> JsValue {
        let js = JsValue::from(Peer { inner });
        bind_methods(&js);
        js
    }
}

#[wasm_bindgen]
impl Peer {
    /// The underlying connection, for anything this API does not wrap.
    #[wasm_bindgen(getter)]
    pub fn connection(&self) -> RtcPeerConnection {
        self.inner.rtc()
    }

    /// The last `iceConnectionState` seen ("closed" once closed).
    #[wasm_bindgen(getter, js_name = iceConnectionState, unchecked_return_type = "IceConnectionState")]
    pub fn ice_connection_state(&self) -> JsValue {
        self.inner.state().as_str().into()
    }

    /// The quality for that state.
    #[wasm_bindgen(getter, unchecked_return_type = "Quality")]
    pub fn quality(&self) -> JsValue {
        Quality::of(self.inner.state()).as_str().into()
    }

    /// Addition: network quality graded from live stats (loss, jitter, RTT),
    /// "unknown" until measured; see `NetworkQuality`.
    #[wasm_bindgen(getter, js_name = networkQuality, unchecked_return_type = "NetworkQuality")]
    pub fn network_quality(&self) -> JsValue {
        self.inner.engine.borrow().network_quality().as_str().into()
    }

    /// Apply a message from the remote side. Rejects with a `TypeError` for
    /// malformed data, or with the browser's error when the description or
    /// candidate cannot be applied; resolves without effect once the peer is
    /// closed. Called from inside one of this peer's handlers, it is applied
    /// right after the handler returns: the promise resolves at once, and a
    /// failure reaches `onError`.
    #[wasm_bindgen(unchecked_return_type = "Promise<void>")]
    pub fn signal(&self, data: SignalData) -> Promise {
        match signal_input(&data.into(), &self.inner) {
            Ok(input) => self
                .inner
                .input(input)
                .unwrap_or_else(|| Promise::resolve(&JsValue::UNDEFINED)),
            Err(error) => Promise::reject(&error),
        }
    }

    /// Replace the handlers (the messenger wires them after creation).
    #[wasm_bindgen(js_name = setEventHandlers)]
    pub fn set_event_handlers(&self, handlers: PeerEventHandlers) -> Result<(), JsValue> {
        let handlers = Handlers::from_js(&handlers.into())?;
        if self.inner.is_closed() {
            return Ok(());
        }
        let sink = handlers.on_signal.is_some();
        *self.inner.handlers.borrow_mut() = handlers;
        // Signals held while there was no `onSignal` go out now.
        self.inner.input(Input::SignalSink(sink));
        Ok(())
    }

    /// Subscribe to state changes (for React's `useSyncExternalStore`); returns the unsubscribe function.
    #[wasm_bindgen(unchecked_return_type = "() => void")]
    pub fn subscribe(
        &self,
        #[wasm_bindgen(unchecked_param_type = "() => void")] listener: JsValue,
    ) -> Result<Function, JsValue> {
        if !listener.is_function() {
            return Err(type_error(UsageError::Listener));
        }
        // The unsubscribe function is made in JS: no Rust closure to own.
        Ok(subscribe(
            &self.inner.subscribers,
            &listener,
            !self.inner.is_closed(),
        ))
    }

    /// Restart ICE now, on either side: fresh servers when they come from
    /// the manager, then a new offer with new ICE credentials through
    /// `onSignal`. Offers that cross are settled by perfect negotiation.
    #[wasm_bindgen(js_name = restartIce)]
    pub fn restart_ice(&self) {
        self.inner.input(Input::RestartRequested);
    }

    /// Figures from the selected candidate pair and inbound RTP.
    #[wasm_bindgen(unchecked_return_type = "Promise<PeerStats>")]
    pub fn stats(&self) -> Promise {
        self.inner.stats()
    }

    /// Idempotent. Detaches and drops every callback, closes the connection,
    /// fires `onClose` once; no callback fires afterwards.
    pub fn close(&self) {
        self.inner.close();
    }
}

/// The engine input for one `SignalData`, or a `TypeError` naming what is wrong.
fn signal_input(data: &JsValue, peer: &PeerInner) -> Result<Input<JsValue>, JsValue> {
    let kind = get(data, "type")
        .as_string()
        .ok_or_else(|| type_error(UsageError::SignalShape))?;
    if kind == "candidate" {
        let candidate = get(data, "candidate");
        if !candidate.is_object() {
            return Err(type_error(UsageError::SignalCandidate));
        }
        return Ok(Input::RemoteCandidate(candidate));
    }
    let kind = SdpKind::parse(&kind).ok_or_else(|| type_error(UsageError::SignalType))?;
    let sdp = get(data, "sdp")
        .as_string()
        .ok_or_else(|| type_error(UsageError::SignalSdp))?;
    Ok(Input::RemoteDescription {
        description: Description { kind, sdp },
        stable: peer.is_stable(),
    })
}
