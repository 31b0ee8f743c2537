//! The manager without a futures runtime: what its owned callbacks promise.
//! A destroy() during an async token ends the calls at once; a manager the
//! app frees mid-request finishes it without a dropped closure being called;
//! network events reach it while it lives and not after destroy() or free().
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
    path: "tests/web_manager_callbacks.js",
    source: include_str!("web_manager_callbacks.js"),
};

#[wasm_bindgen_test]
async fn destroy_during_an_async_token_ends_the_calls_at_once_and_sends_nothing() {
    run(
        &JS,
        "destroy_during_an_async_token_ends_the_calls_at_once_and_sends_nothing",
    )
    .await;
}

#[wasm_bindgen_test]
async fn a_manager_freed_mid_request_finishes_it_cleanly() {
    run(&JS, "a_manager_freed_mid_request_finishes_it_cleanly").await;
}

#[wasm_bindgen_test]
async fn network_events_reach_the_manager_until_destroy_or_free() {
    run(
        &JS,
        "network_events_reach_the_manager_until_destroy_or_free",
    )
    .await;
}
