//! Two `Peer`s in one page calling each other over loopback: connection, states
//! and qualities, media, signals out of order, `subscribe`, `setEventHandlers`,
//! `close()` and `destroy()`. Servers and TURN: web_peers_servers.rs; the
//! 1000-cycle leak check: web_peers_cycles.rs.
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
    path: "tests/web_peers.js",
    source: include_str!("web_peers.js"),
};

#[wasm_bindgen_test]
async fn two_peers_connect_over_loopback() {
    run(&JS, "two_peers_connect_over_loopback").await;
}

#[wasm_bindgen_test]
async fn media_streams_arrive_both_ways() {
    run(&JS, "media_streams_arrive_both_ways").await;
}

#[wasm_bindgen_test]
async fn a_signal_from_inside_a_handler_reports_its_failure() {
    run(&JS, "a_signal_from_inside_a_handler_reports_its_failure").await;
}

#[wasm_bindgen_test]
async fn candidates_before_the_offer_are_queued() {
    run(&JS, "candidates_before_the_offer_are_queued").await;
}

#[wasm_bindgen_test]
async fn subscribe_until_unsubscribed() {
    run(&JS, "subscribe_until_unsubscribed").await;
}

#[wasm_bindgen_test]
async fn methods_work_when_passed_as_callbacks() {
    run(&JS, "methods_work_when_passed_as_callbacks").await;
}

#[wasm_bindgen_test]
async fn set_event_handlers_replaces_them() {
    run(&JS, "set_event_handlers_replaces_them").await;
}

#[wasm_bindgen_test]
async fn constructor_error_reaches_on_error_and_nothing_breaks() {
    run(&JS, "constructor_error_reaches_on_error_and_nothing_breaks").await;
}

#[wasm_bindgen_test]
async fn freeing_manager_and_handles_closes_open_peers() {
    run(&JS, "freeing_manager_and_handles_closes_open_peers").await;
}

#[wasm_bindgen_test]
async fn close_detaches_everything_and_nothing_fires_after() {
    run(&JS, "close_detaches_everything_and_nothing_fires_after").await;
}

#[wasm_bindgen_test]
async fn destroy_closes_every_peer() {
    run(&JS, "destroy_closes_every_peer").await;
}

#[wasm_bindgen_test]
async fn network_quality_is_measured_on_a_live_call() {
    run(&JS, "network_quality_is_measured_on_a_live_call").await;
}
