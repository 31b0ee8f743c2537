//! The callbacks a peer hands to its `RTCPeerConnection`. They are owned by
//! the peer, hold only a weak reference back to it, and are detached (every
//! `on*` back to null) before they are dropped.

use super::error::set;
use super::peer::PeerInner;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use web_sys::{RtcPeerConnection, RtcPeerConnectionIceEvent, RtcTrackEvent};

/// Every closure one peer gave to its connection.
pub struct PeerCallbacks {
    _ice_candidate: Closure<dyn FnMut(RtcPeerConnectionIceEvent)>,
    _ice_state: Closure<dyn FnMut()>,
    _track: Closure<dyn FnMut(RtcTrackEvent)>,
    _negotiation: Closure<dyn FnMut()>,
    _candidate_error: Closure<dyn FnMut(JsValue)>,
}

/// A closure that calls `f` with the peer while the peer is alive.
fn with_peer<A: 'static>(
    peer: &Weak<PeerInner>,
    f: fn(&Rc<PeerInner>, A),
) -> impl FnMut(A) + 'static {
    let peer = peer.clone();
    move |arg| {
        if let Some(peer) = peer.upgrade() {
            f(&peer, arg);
        }
    }
}

impl PeerCallbacks {
    /// Creates the closures and sets them as the connection's handlers.
    pub fn attach(peer: &Rc<PeerInner>) -> Self {
        let weak = Rc::downgrade(peer);
        let pc = peer.connection();
        let callbacks = PeerCallbacks {
            _ice_candidate: Closure::new(with_peer(&weak, |p, e: RtcPeerConnectionIceEvent| {
                p.on_local_candidate(e)
            })),
            _ice_state: Closure::new({
                let mut f = with_peer(&weak, |p, ()| p.on_ice_state());
                move || f(())
            }),
            _track: Closure::new(with_peer(&weak, |p, e: RtcTrackEvent| p.on_track(e))),
            _negotiation: Closure::new({
                let mut f = with_peer(&weak, |p, ()| p.on_negotiation_needed());
                move || f(())
            }),
            _candidate_error: Closure::new(with_peer(&weak, |p, e: JsValue| {
                p.on_candidate_error(e)
            })),
        };
        pc.set_onicecandidate(Some(callbacks._ice_candidate.as_ref().unchecked_ref()));
        pc.set_oniceconnectionstatechange(Some(callbacks._ice_state.as_ref().unchecked_ref()));
        pc.set_ontrack(Some(callbacks._track.as_ref().unchecked_ref()));
        pc.set_onnegotiationneeded(Some(callbacks._negotiation.as_ref().unchecked_ref()));
        // web-sys has no setter for this one yet.
        set(
            pc,
            "onicecandidateerror",
            callbacks._candidate_error.as_ref(),
        );
        callbacks
    }
}

/// Sets every handler `attach` set back to null.
pub fn detach(pc: &RtcPeerConnection) {
    pc.set_onicecandidate(None);
    pc.set_oniceconnectionstatechange(None);
    pc.set_ontrack(None);
    pc.set_onnegotiationneeded(None);
    set(pc, "onicecandidateerror", &JsValue::NULL);
}
