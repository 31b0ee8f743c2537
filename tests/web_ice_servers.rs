//! `PeerManager.getIceServers()` against the real fixture server: response shapes
//! and normalisation, the shared in-flight request, the token-bound cache and its
//! TTLs, `iceServersInfo`, `invalidate()`. Errors and redaction: web_ice_errors.rs.
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
    path: "tests/web_ice_servers.js",
    source: include_str!("web_ice_servers.js"),
};

#[wasm_bindgen_test]
async fn seed_response_is_normalised_to_urls_only() {
    run(&JS, "seed_response_is_normalised_to_urls_only").await;
}

#[wasm_bindgen_test]
async fn twilio_shape_with_string_ttl_and_stun_query() {
    run(&JS, "twilio_shape_with_string_ttl_and_stun_query").await;
}

#[wasm_bindgen_test]
async fn concurrent_calls_share_one_request() {
    run(&JS, "concurrent_calls_share_one_request").await;
}

#[wasm_bindgen_test]
async fn cache_hit_sends_no_request_and_info_reports_it() {
    run(&JS, "cache_hit_sends_no_request_and_info_reports_it").await;
}

#[wasm_bindgen_test]
async fn short_cache_ttl_expires_and_refetches() {
    run(&JS, "short_cache_ttl_expires_and_refetches").await;
}

#[wasm_bindgen_test]
async fn response_ttl_shorter_than_cache_ttl_caps_the_cache() {
    run(&JS, "response_ttl_shorter_than_cache_ttl_caps_the_cache").await;
}

#[wasm_bindgen_test]
async fn token_change_refetches_with_the_new_token() {
    run(&JS, "token_change_refetches_with_the_new_token").await;
}

#[wasm_bindgen_test]
async fn async_token_function_is_awaited() {
    run(&JS, "async_token_function_is_awaited").await;
}

#[wasm_bindgen_test]
async fn no_token_rejects_without_a_request() {
    run(&JS, "no_token_rejects_without_a_request").await;
}

#[wasm_bindgen_test]
async fn invalidate_makes_the_next_call_fetch() {
    run(&JS, "invalidate_makes_the_next_call_fetch").await;
}

#[wasm_bindgen_test]
async fn stale_if_error_serves_cached_servers_inside_ttl() {
    run(&JS, "stale_if_error_serves_cached_servers_inside_ttl").await;
}

#[wasm_bindgen_test]
async fn stale_if_error_covers_a_rejected_refresh_too() {
    run(&JS, "stale_if_error_covers_a_rejected_refresh_too").await;
}

#[wasm_bindgen_test]
async fn every_retry_asks_the_token_source_again() {
    run(&JS, "every_retry_asks_the_token_source_again").await;
}

#[wasm_bindgen_test]
async fn no_stale_servers_without_a_ttl() {
    run(&JS, "no_stale_servers_without_a_ttl").await;
}

#[wasm_bindgen_test]
async fn destroy_during_a_retry_backoff_sends_nothing_more_and_settles_pending_calls() {
    run(
        &JS,
        "destroy_during_a_retry_backoff_sends_nothing_more_and_settles_pending_calls",
    )
    .await;
}
