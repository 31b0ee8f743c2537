//! The engine's events, delivered to the app's handlers and subscribers.
//! Called by the driver after the engine has moved on, with no borrow held,
//! so a handler may call back into the peer (its calls queue up).

use super::PeerInner;
use crate::core::engine::{Event, Signal};
use crate::core::quality::Quality;
use crate::web::convert::network_score_to_js;
use crate::web::handlers::Handlers;
use crate::web::log::debug;
use crate::web::property::set;
use js_sys::{Array, Function, Object};
use wasm_bindgen::{JsCast, JsValue};

/// `SignalData` for the app to carry to the other side.
fn signal_to_js(signal: Signal<JsValue>) -> JsValue {
    let out = Object::new();
    match signal {
        Signal::Description(description) => {
            set(&out, "type", &description.kind.as_str().into());
            set(&out, "sdp", &description.sdp.into());
        }
        Signal::Candidate(candidate) => {
            set(&out, "type", &"candidate".into());
            set(&out, "candidate", &candidate);
        }
    }
    out.into()
}

/// Delivers one event.
pub(super) fn emit(peer: &PeerInner, event: Event<JsValue>) {
    match event {
        Event::Signal(signal) => call(peer, |h| &h.on_signal, &[signal_to_js(signal)]),
        Event::IceState(state) => {
            let args = [state.as_str().into(), Quality::of(state).as_str().into()];
            // The strings made for the handler are the detail: "ICE state" connected.
            debug(peer.debug, "ICE state", &args[0]);
            call(peer, |h| &h.on_ice_state_change, &args);
            notify_subscribers(peer);
        }
        Event::Connect => call(peer, |h| &h.on_connect, &[]),
        Event::NetworkQuality(level, score) => {
            let args = [level.as_str().into(), network_score_to_js(&score)];
            debug(peer.debug, "Network quality", &args[0]);
            call(peer, |h| &h.on_network_quality_change, &args);
            notify_subscribers(peer);
        }
        Event::Error(error) => peer.emit_error(&error),
        Event::Closed => {
            // The last event: nothing reaches the app's functions afterwards.
            let handlers = peer.handlers.replace(Handlers::default());
            peer.subscribers.clear();
            if let Some(on_close) = handlers.on_close {
                let _ = on_close.call0(&JsValue::UNDEFINED);
            }
        }
    }
}

/// Calls one handler (never `onError`) with no borrow held; one that throws
/// is reported through `onError`.
pub(super) fn call(peer: &PeerInner, pick: fn(&Handlers) -> &Option<Function>, args: &[JsValue]) {
    let Some(handler) = pick(&peer.handlers.borrow()).clone() else {
        return;
    };
    let this = JsValue::UNDEFINED;
    let result = match args {
        [] => handler.call0(&this),
        [a] => handler.call1(&this, a),
        [a, b, ..] => handler.call2(&this, a, b),
    };
    if let Err(error) = result {
        peer.emit_error(&error);
    }
}

/// Calls every `subscribe` listener; one that throws is reported through `onError`.
fn notify_subscribers(peer: &PeerInner) {
    // A copy: a listener may unsubscribe while they are called.
    let listeners = Array::from(&peer.subscribers);
    for at in 0..listeners.length() {
        let listener: Function = listeners.get(at).unchecked_into();
        if let Err(error) = listener.call0(&JsValue::UNDEFINED) {
            peer.emit_error(&error);
        }
    }
}
