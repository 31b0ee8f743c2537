//! The listeners a peer sets on its `RTCPeerConnection`: each turns a
//! browser event into an engine input (or, for tracks, hands the stream to
//! the app). Owned by the peer through [`PeerListeners`], holding only a weak
//! reference back to it; dropping them sets every `on*` back to null.

use super::PeerInner;
use crate::core::engine::Input;
use crate::core::quality::IceState;
use crate::web::error::set;
use js_sys::Array;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use web_sys::{
    MediaStream, RtcIceConnectionState, RtcPeerConnection, RtcPeerConnectionIceErrorEvent,
    RtcPeerConnectionIceEvent, RtcTrackEvent,
};

type Listener = Closure<dyn FnMut(JsValue)>;

/// Every closure one peer gave to its connection.
pub(super) struct PeerListeners {
    pc: RtcPeerConnection,
    _ice_candidate: Listener,
    _ice_state: Listener,
    _track: Listener,
    _negotiation: Listener,
    _candidate_error: Listener,
}

/// A listener that calls `f` with the peer while the peer is alive.
fn listener(peer: &Weak<PeerInner>, f: fn(&Rc<PeerInner>, JsValue)) -> Listener {
    let peer = peer.clone();
    Closure::new(move |event| {
        if let Some(peer) = peer.upgrade() {
            f(&peer, event);
        }
    })
}

fn ice_state(state: RtcIceConnectionState) -> Option<IceState> {
    Some(match state {
        RtcIceConnectionState::New => IceState::New,
        RtcIceConnectionState::Checking => IceState::Checking,
        RtcIceConnectionState::Connected => IceState::Connected,
        RtcIceConnectionState::Completed => IceState::Completed,
        RtcIceConnectionState::Disconnected => IceState::Disconnected,
        RtcIceConnectionState::Failed => IceState::Failed,
        RtcIceConnectionState::Closed => IceState::Closed,
        _ => return None,
    })
}

fn on_candidate(peer: &Rc<PeerInner>, event: JsValue) {
    let event: RtcPeerConnectionIceEvent = event.unchecked_into();
    // `null` marks the end of gathering: nothing to send.
    if let Some(candidate) = event.candidate() {
        peer.input(Input::LocalCandidate(candidate.to_json().into()));
    }
}

fn on_ice_state(peer: &Rc<PeerInner>, _: JsValue) {
    if let Some(state) = ice_state(peer.pc.ice_connection_state()) {
        peer.input(Input::IceState(state));
    }
}

fn on_track(peer: &Rc<PeerInner>, event: JsValue) {
    let event: RtcTrackEvent = event.unchecked_into();
    let stream = match event.streams().get(0).dyn_into::<MediaStream>() {
        Ok(stream) => stream,
        Err(_) => match MediaStream::new_with_tracks(&Array::of1(&event.track())) {
            Ok(stream) => stream,
            Err(_) => return,
        },
    };
    if peer.first_sight(&stream) {
        let handler = peer.handlers.borrow().on_stream.clone();
        if let Some(Err(error)) = handler.map(|f| f.call1(&JsValue::UNDEFINED, &stream)) {
            peer.emit_error(&error);
        }
    }
}

fn on_negotiation_needed(peer: &Rc<PeerInner>, _: JsValue) {
    peer.input(Input::NegotiationNeeded);
}

/// A 401 from a TURN server means expired or wrong credentials (see the engine).
fn on_candidate_error(peer: &Rc<PeerInner>, event: JsValue) {
    let event: RtcPeerConnectionIceErrorEvent = event.unchecked_into();
    let turn = event
        .url()
        .get(..4)
        .is_some_and(|s| s.eq_ignore_ascii_case("turn"));
    peer.input(Input::CandidateError {
        code: event.error_code(),
        turn,
    });
}

impl PeerListeners {
    /// Creates the closures and sets them as the connection's handlers.
    pub(super) fn attach(peer: &Rc<PeerInner>) -> Self {
        let weak = Rc::downgrade(peer);
        let listeners = PeerListeners {
            pc: peer.pc.clone(),
            _ice_candidate: listener(&weak, on_candidate),
            _ice_state: listener(&weak, on_ice_state),
            _track: listener(&weak, on_track),
            _negotiation: listener(&weak, on_negotiation_needed),
            _candidate_error: listener(&weak, on_candidate_error),
        };
        let pc = &listeners.pc;
        pc.set_onicecandidate(Some(listeners._ice_candidate.as_ref().unchecked_ref()));
        pc.set_oniceconnectionstatechange(Some(listeners._ice_state.as_ref().unchecked_ref()));
        pc.set_ontrack(Some(listeners._track.as_ref().unchecked_ref()));
        pc.set_onnegotiationneeded(Some(listeners._negotiation.as_ref().unchecked_ref()));
        // web-sys has no setter for this one yet.
        set(
            pc,
            "onicecandidateerror",
            listeners._candidate_error.as_ref(),
        );
        listeners
    }
}

impl Drop for PeerListeners {
    fn drop(&mut self) {
        let pc = &self.pc;
        pc.set_onicecandidate(None);
        pc.set_oniceconnectionstatechange(None);
        pc.set_ontrack(None);
        pc.set_onnegotiationneeded(None);
        set(pc, "onicecandidateerror", &JsValue::NULL);
    }
}
