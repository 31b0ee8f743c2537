//! What `js/peer.js` reports through the peer's one closure, turned into
//! engine inputs (or, for a remote stream, handed to the app). The JS side
//! sets the connection's handlers and its timers; see `peer.js` for the codes.

use super::{stats_of, PeerInner};
use crate::core::engine::Input;
use crate::core::negotiation::{Description, SdpKind};
use crate::core::quality::IceState;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use web_sys::MediaStream;

/// The closure `peer.js` reports through: `(what, a, b)`.
pub(super) type Notify = Closure<dyn FnMut(u32, JsValue, JsValue)>;

#[wasm_bindgen(module = "/src/web/js/peer.js")]
extern "C" {
    pub(super) fn listen(pc: &JsValue, notify: &Notify);
    pub(super) fn unlisten(pc: &JsValue);
    pub(super) fn run(
        pc: &JsValue,
        op: u32,
        a: &JsValue,
        b: &JsValue,
        caller_gone: bool,
        notify: &Notify,
    ) -> js_sys::Promise;
    pub(super) fn sample(pc: &JsValue, notify: &Notify);
    pub(super) fn stats(
        pc: &JsValue,
        summarise: &Closure<dyn FnMut(JsValue) -> JsValue>,
    ) -> js_sys::Promise;
    pub(super) fn every(ms: f64, repeat: bool, notify: &Notify) -> JsValue;
}

/// The closure for `peer`, holding it weakly.
pub(super) fn notify(peer: &Weak<PeerInner>) -> Notify {
    let peer = peer.clone();
    Closure::new(move |what, a, b| {
        if let Some(peer) = peer.upgrade() {
            notified(&peer, what, a, b);
        }
    })
}

fn notified(peer: &Rc<PeerInner>, what: u32, a: JsValue, b: JsValue) {
    let input = match what {
        0 => Input::LocalCandidate(a),
        1 => match a.as_string().as_deref().and_then(IceState::parse) {
            Some(state) => Input::IceState(state),
            None => return,
        },
        2 => return on_stream(peer, a.unchecked_into()),
        3 => Input::NegotiationNeeded,
        // A 401 from a TURN server means expired or wrong credentials (see the engine).
        4 => Input::CandidateError {
            code: a.as_f64().unwrap_or_default() as u16,
            turn: b.is_truthy(),
        },
        5 => Input::OpSettled(Ok(local_description(&a, b))),
        6 => Input::OpSettled(Err(a)),
        7 => match stats_of(&a) {
            Some(stats) => Input::Stats(stats),
            None => return,
        },
        8 => Input::Timer,
        9 => return peer.sample(),
        _ => return peer.emit_error(&a),
    };
    peer.input(input);
}

/// The local description after an operation, when it is an offer or answer.
fn local_description(kind: &JsValue, sdp: JsValue) -> Option<Description> {
    let kind = match kind.as_string().as_deref() {
        Some("offer") => SdpKind::Offer,
        Some("answer") => SdpKind::Answer,
        _ => return None,
    };
    Some(Description {
        kind,
        sdp: sdp.as_string()?,
    })
}

fn on_stream(peer: &Rc<PeerInner>, stream: MediaStream) {
    if peer.first_sight(&stream) {
        let handler = peer.handlers.borrow().on_stream.clone();
        if let Some(Err(error)) = handler.map(|f| f.call1(&JsValue::UNDEFINED, &stream)) {
            peer.emit_error(&error);
        }
    }
}
