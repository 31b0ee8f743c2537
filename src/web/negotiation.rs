//! Offer/answer and trickled candidates, as `SignalData` messages.
//!
//! Only the initiator offers (on `negotiationneeded` and for ICE restarts),
//! so the two sides never glare. Remote candidates that arrive before the
//! remote description are queued and added right after it, not lost.

use super::error::{get, set, type_error};
use super::peer::PeerInner;
use crate::core::sdp::is_ice_restart;
use js_sys::Object;
use std::rc::Rc;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    RtcIceCandidateInit, RtcOfferOptions, RtcSdpType, RtcSessionDescriptionInit, RtcSignalingState,
};

fn description_signal(kind: &str, sdp: &str) -> JsValue {
    let signal = Object::new();
    set(&signal, "type", &kind.into());
    set(&signal, "sdp", &sdp.into());
    signal.into()
}

/// `{ type: "candidate", candidate }` for a local candidate's `toJSON()`.
pub fn candidate_signal(candidate: &JsValue) -> JsValue {
    let signal = Object::new();
    set(&signal, "type", &"candidate".into());
    set(&signal, "candidate", candidate);
    signal.into()
}

fn description(kind: RtcSdpType, sdp: &str) -> RtcSessionDescriptionInit {
    let init = RtcSessionDescriptionInit::new(kind);
    init.set_sdp(sdp);
    init
}

/// Creates and sends an offer, unless one is already under way or the
/// connection is not stable (then `negotiationneeded` fires again once it is).
pub async fn offer(peer: Rc<PeerInner>, ice_restart: bool) {
    let pc = peer.connection().clone();
    if peer.is_closed() || peer.offering.get() || pc.signaling_state() != RtcSignalingState::Stable
    {
        return;
    }
    peer.offering.set(true);
    let result = async {
        let options = RtcOfferOptions::new();
        options.set_ice_restart(ice_restart);
        let offer = JsFuture::from(pc.create_offer_with_rtc_offer_options(&options)).await?;
        let sdp = get(&offer, "sdp").as_string().unwrap_or_default();
        JsFuture::from(pc.set_local_description(&description(RtcSdpType::Offer, &sdp))).await?;
        Ok::<_, JsValue>(sdp)
    }
    .await;
    peer.offering.set(false);
    match result {
        Ok(sdp) => peer.emit_signal(&description_signal("offer", &sdp)),
        Err(error) if !peer.is_closed() => peer.emit_error(&error),
        Err(_) => {}
    }
}

/// Applies one `SignalData` from the remote side.
pub async fn apply(peer: Rc<PeerInner>, data: JsValue) -> Result<(), JsValue> {
    let kind = get(&data, "type").as_string();
    let kind = kind.ok_or_else(|| {
        type_error("signal: expected { type: \"offer\" | \"answer\" | \"candidate\", ... }")
    })?;
    let pc = peer.connection().clone();
    match kind.as_str() {
        "offer" | "answer" => {
            let sdp = get(&data, "sdp")
                .as_string()
                .ok_or_else(|| type_error("signal: an offer or answer needs an sdp string"))?;
            if peer.is_closed() {
                return Ok(());
            }
            let is_offer = kind == "offer";
            let restart = is_offer
                && pc
                    .remote_description()
                    .is_some_and(|current| is_ice_restart(&current.sdp(), &sdp));
            let remote = description(
                if is_offer {
                    RtcSdpType::Offer
                } else {
                    RtcSdpType::Answer
                },
                &sdp,
            );
            JsFuture::from(pc.set_remote_description(&remote)).await?;
            if restart {
                peer.on_remote_restart();
            }
            add_queued_candidates(&peer).await;
            if is_offer && !peer.is_closed() {
                let answer = JsFuture::from(pc.create_answer()).await?;
                let sdp = get(&answer, "sdp").as_string().unwrap_or_default();
                JsFuture::from(pc.set_local_description(&description(RtcSdpType::Answer, &sdp)))
                    .await?;
                peer.emit_signal(&description_signal("answer", &sdp));
            }
            Ok(())
        }
        "candidate" => {
            let candidate = get(&data, "candidate");
            if !candidate.is_object() {
                return Err(type_error(
                    "signal: a candidate message needs a candidate object",
                ));
            }
            if peer.is_closed() {
                return Ok(());
            }
            if pc.remote_description().is_none() {
                peer.pending_candidates.borrow_mut().push(candidate);
                return Ok(());
            }
            add_candidate(&peer, &candidate).await
        }
        _ => Err(type_error(
            "signal: unknown type (expected \"offer\", \"answer\" or \"candidate\")",
        )),
    }
}

async fn add_candidate(peer: &PeerInner, candidate: &JsValue) -> Result<(), JsValue> {
    let init: &RtcIceCandidateInit = candidate.unchecked_ref();
    let added = peer
        .connection()
        .add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(init));
    JsFuture::from(added).await.map(drop)
}

/// Candidates queued before the remote description; a failure reaches `onError`.
async fn add_queued_candidates(peer: &PeerInner) {
    let queued = std::mem::take(&mut *peer.pending_candidates.borrow_mut());
    for candidate in queued {
        if let Err(error) = add_candidate(peer, &candidate).await {
            if !peer.is_closed() {
                peer.emit_error(&error);
            }
        }
    }
}
