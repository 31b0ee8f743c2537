//! What each [`Report`] of `js/peer.js` becomes: an engine input, a stream
//! for the app, or the contract's `PeerStats`.

use super::output::call;
use super::PeerInner;
use crate::core::engine::Input;
use crate::core::negotiation::{Description, SdpKind};
use crate::core::quality::IceState;
use crate::core::stats::{summarise, PeerStats};
use crate::web::convert::{json_from_js, stats_to_js};
use crate::web::kinds::{kind, Notify, Report};
use crate::web::property::get;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

/// The peer's `notify`: reports reach the peer while it lives.
pub(super) fn notify(peer: Weak<PeerInner>) -> Notify {
    Closure::new(move |report: JsValue, a: JsValue, b: JsValue, _: JsValue| {
        let Some(report) = kind::<Report>(&report) else {
            return JsValue::UNDEFINED;
        };
        if report == Report::AppStats {
            return stats_to_js(&stats_of(&a));
        }
        if let Some(peer) = peer.upgrade() {
            deliver(&peer, report, a, b);
        }
        JsValue::UNDEFINED
    })
}

fn deliver(peer: &Rc<PeerInner>, report: Report, a: JsValue, b: JsValue) {
    let input = match report {
        Report::LocalCandidate => Input::LocalCandidate(a),
        Report::IceState => match a.as_string().as_deref().and_then(IceState::parse) {
            Some(state) => Input::IceState(state),
            None => return,
        },
        // peer.js reports each stream once.
        Report::RemoteStream => return call(peer, |h| &h.on_stream, &[a]),
        Report::NegotiationNeeded => Input::NegotiationNeeded,
        // A 401 from a TURN server means expired or wrong credentials (see the engine).
        Report::CandidateError => Input::CandidateError {
            code: a.as_f64().unwrap_or(0.0) as u16,
            turn: b.as_string().is_some_and(|url| is_turn_url(&url)),
        },
        Report::OpSettled => Input::OpSettled(Ok(local_description(peer))),
        Report::OpFailed => Input::OpSettled(Err(a)),
        Report::OrphanFailed => return peer.emit_error(&a),
        Report::Timer => Input::Timer,
        Report::Sample => Input::Stats(stats_of(&a)),
        Report::AppStats => return,
    };
    peer.input(input);
}

/// A `turn:` or `turns:` URL, in any case.
fn is_turn_url(url: &str) -> bool {
    url.get(..4)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("turn"))
}

/// The connection's local description, once an operation settled.
fn local_description(peer: &PeerInner) -> Option<Description> {
    let local = peer.connection.local_description();
    let kind = get(&local, "type").as_string();
    let kind = kind.as_deref().and_then(SdpKind::parse)?;
    let sdp = get(&local, "sdp").as_string()?;
    Some(Description { kind, sdp })
}

/// The engine's summary of a report's stats objects: peer.js always passes
/// an array (anything else would read as no objects at all, with no Option
/// to move the summary through).
fn stats_of(reports: &JsValue) -> PeerStats {
    summarise(json_from_js(reports).as_array().unwrap_or_default())
}
