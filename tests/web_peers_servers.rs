//! Which ICE servers a peer gets (fallback, late servers, explicit ones), and
//! TURN through the fixture's coturn: a relay-forced call, fresh credentials
//! before a restart, and an expired TURN credential (401). TURN outages
//! mid-call: web_peers_outage.rs.
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
    path: "tests/web_peers_servers.js",
    source: include_str!("web_peers_servers.js"),
};

#[wasm_bindgen_test]
async fn fallback_while_the_endpoint_is_down_then_fetched_servers() {
    run(
        &JS,
        "fallback_while_the_endpoint_is_down_then_fetched_servers",
    )
    .await;
}

#[wasm_bindgen_test]
async fn explicit_servers_win_and_are_not_refreshed() {
    run(&JS, "explicit_servers_win_and_are_not_refreshed").await;
}

#[wasm_bindgen_test]
async fn relay_forced_call_through_coturn() {
    run(&JS, "relay_forced_call_through_coturn").await;
}

#[wasm_bindgen_test]
async fn restart_after_expiry_refetches_first() {
    run(&JS, "restart_after_expiry_refetches_first").await;
}

#[wasm_bindgen_test]
async fn expired_turn_credential_is_refetched_and_the_relay_call_connects() {
    run(
        &JS,
        "expired_turn_credential_is_refetched_and_the_relay_call_connects",
    )
    .await;
}

#[wasm_bindgen_test]
async fn a_restart_timeout_beyond_set_timeouts_range_does_not_fire_at_once() {
    run(
        &JS,
        "a_restart_timeout_beyond_set_timeouts_range_does_not_fire_at_once",
    )
    .await;
}
