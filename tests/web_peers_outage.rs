//! TURN going away mid-call, through the fixture's coturn: the call drops and
//! comes back through an ICE restart when TURN returns, or both sides close
//! when it does not. The answering side may never see the drop in its ICE
//! state (Firefox's, and sometimes Chromium's, stays `connected`): it learns
//! of it from the restart offers and closes on measured liveness.
//!
//! Needs the fixture server: run through `scripts/browser-tests.sh`.
#![cfg(target_arch = "wasm32")]

#[path = "support/browser.rs"]
mod browser;

use browser::{run, Module};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The scenarios: one exported function per test, of the same name.
const JS: Module = Module {
    path: "tests/web_peers_outage.js",
    source: include_str!("web_peers_outage.js"),
};

#[wasm_bindgen_test]
async fn turn_stopped_mid_call_recovers_through_ice_restart() {
    run(&JS, "turn_stopped_mid_call_recovers_through_ice_restart").await;
}

#[wasm_bindgen_test]
async fn turn_down_for_a_while_after_the_drop_still_recovers() {
    run(&JS, "turn_down_for_a_while_after_the_drop_still_recovers").await;
}

#[wasm_bindgen_test]
async fn turn_gone_for_good_closes_both_sides() {
    run(&JS, "turn_gone_for_good_closes_both_sides").await;
}

#[wasm_bindgen_test]
async fn a_live_call_survives_the_answering_sides_check() {
    run(&JS, "a_live_call_survives_the_answering_sides_check").await;
}
