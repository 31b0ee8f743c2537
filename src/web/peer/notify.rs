//! What each report of `js/peer.js` becomes: an engine input, a stream for
//! the app, or the contract's `PeerStats`. The numbers are peer.js's.

use super::connection::Notify;
use super::PeerInner;
use crate::core::engine::Input;
use crate::core::negotiation::{Description, SdpKind};
use crate::core::quality::IceState;
use crate::core::stats::{summarise, PeerStats};
use crate::web::convert::{json_from_js, stats_to_js};
use crate::web::error::get;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

const LOCAL_CANDIDATE: u32 = 0;
const ICE_STATE: u32 = 1;
const REMOTE_STREAM: u32 = 2;
const NEGOTIATION_NEEDED: u32 = 3;
const CANDIDATE_ERROR: u32 = 4;
const OP_SETTLED: u32 = 5;
const OP_FAILED: u32 = 6;
const ORPHAN_FAILED: u32 = 7;
const TIMER: u32 = 8;
const SAMPLE: u32 = 9;
const APP_STATS: u32 = 10;

/// The peer's `notify`: reports reach the peer while it lives.
pub(super) fn notify(peer: Weak<PeerInner>) -> Notify {
    Closure::new(move |what: u32, a: JsValue, b: JsValue| {
        if what == APP_STATS {
            return stats_to_js(&stats_of(&a));
        }
        if let Some(peer) = peer.upgrade() {
            report(&peer, what, a, b);
        }
        JsValue::UNDEFINED
    })
}

fn report(peer: &Rc<PeerInner>, what: u32, a: JsValue, b: JsValue) {
    let input = match what {
        LOCAL_CANDIDATE => Input::LocalCandidate(a),
        ICE_STATE => match a.as_string().as_deref().and_then(IceState::parse) {
            Some(state) => Input::IceState(state),
            None => return,
        },
        REMOTE_STREAM => return remote_stream(peer, &a),
        NEGOTIATION_NEEDED => Input::NegotiationNeeded,
        // A 401 from a TURN server means expired or wrong credentials (see the engine).
        CANDIDATE_ERROR => Input::CandidateError {
            code: a.as_f64().unwrap_or(0.0) as u16,
            turn: b
                .as_string()
                // Bytes: a str range checks char boundaries.
                .and_then(|url| {
                    url.as_bytes()
                        .get(..4)
                        .map(|s| s.eq_ignore_ascii_case(b"turn"))
                })
                .unwrap_or(false),
        },
        OP_SETTLED => {
            let local = peer.connection.local_description();
            let kind = get(&local, "type").as_string();
            let kind = kind.as_deref().and_then(SdpKind::parse);
            let sdp = get(&local, "sdp").as_string();
            Input::OpSettled(Ok(match (kind, sdp) {
                (Some(kind), Some(sdp)) => Some(Description { kind, sdp }),
                _ => None,
            }))
        }
        OP_FAILED => Input::OpSettled(Err(a)),
        ORPHAN_FAILED => return peer.emit_error(&a),
        TIMER => Input::Timer,
        SAMPLE => Input::Stats(stats_of(&a)),
        _ => return,
    };
    peer.input(input);
}

/// Hands a remote stream (peer.js reports each once) to `onStream`.
fn remote_stream(peer: &PeerInner, stream: &JsValue) {
    let handler = peer.handlers.borrow().on_stream.clone();
    if let Some(Err(error)) = handler.map(|f| f.call1(&JsValue::UNDEFINED, stream)) {
        peer.emit_error(&error);
    }
}

/// The engine's summary of a report's stats objects: peer.js always passes
/// an array (anything else would read as no objects at all, with no Option
/// to move the summary through).
fn stats_of(reports: &JsValue) -> PeerStats {
    summarise(json_from_js(reports).as_array().unwrap_or_default())
}
