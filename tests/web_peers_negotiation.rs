//! Negotiation from either side (issue 9, deliver 2 and 3): the callee restarts
//! ICE or adds a track and offers itself, both sides restart at the same
//! instant and converge (perfect negotiation: the initiator is impolite, the
//! callee polite), a track added before the first offer arrives, and a
//! network-change event on a healthy call that must not restart it.
//!
//! Signals go through `H.relayPair`, a relay that holds every message for a
//! while as a signaling server would, so offers made at the same time cross.
//! Needs the fixture server: run through `scripts/browser-tests.sh`.
#![cfg(target_arch = "wasm32")]

#[path = "support/browser.rs"]
mod browser;

use browser::{run, Module};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The scenarios: one exported function per test, of the same name.
const JS: Module = Module {
    path: "tests/web_peers_negotiation.js",
    source: include_str!("web_peers_negotiation.js"),
};

#[wasm_bindgen_test]
async fn callee_restarts_ice_with_its_own_offer() {
    run(&JS, "callee_restarts_ice_with_its_own_offer").await;
}

#[wasm_bindgen_test]
async fn simultaneous_restarts_converge() {
    run(&JS, "simultaneous_restarts_converge").await;
}

#[wasm_bindgen_test]
async fn a_storm_of_restarts_from_both_sides_converges() {
    run(&JS, "a_storm_of_restarts_from_both_sides_converges").await;
}

#[wasm_bindgen_test]
async fn callee_restart_before_the_first_offer_is_harmless() {
    run(&JS, "callee_restart_before_the_first_offer_is_harmless").await;
}

#[wasm_bindgen_test]
async fn callee_adds_a_track_and_renegotiates() {
    run(&JS, "callee_adds_a_track_and_renegotiates").await;
}

#[wasm_bindgen_test]
async fn a_track_added_before_the_first_offer_arrives() {
    run(&JS, "a_track_added_before_the_first_offer_arrives").await;
}

#[wasm_bindgen_test]
async fn network_change_events_leave_a_healthy_call_alone() {
    run(&JS, "network_change_events_leave_a_healthy_call_alone").await;
}

#[wasm_bindgen_test]
async fn the_other_side_muting_is_not_a_lost_path() {
    run(&JS, "the_other_side_muting_is_not_a_lost_path").await;
}
