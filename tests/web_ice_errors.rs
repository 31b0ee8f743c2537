//! `getIceServers()` failures (kinds, status, attempts, retries), where the token
//! may appear (only in `Authorization`), debug logging, option validation, and
//! the exported quality functions.
//!
//! Needs the fixture server: run through `scripts/browser-tests.sh`.
#![cfg(target_arch = "wasm32")]

#[path = "support/browser.rs"]
mod browser;

use browser::{json, run, Module};
use ice_peer::{classify_quality, quality_label};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The scenarios: one exported function per test, of the same name.
const JS: Module = Module {
    path: "tests/web_ice_errors.js",
    source: include_str!("web_ice_errors.js"),
};

#[wasm_bindgen_test]
async fn unauthorized_401_and_403_are_not_retried() {
    run(&JS, "unauthorized_401_and_403_are_not_retried").await;
}

#[wasm_bindgen_test]
async fn not_found_is_http_and_not_retried() {
    run(&JS, "not_found_is_http_and_not_retried").await;
}

#[wasm_bindgen_test]
async fn server_errors_exhaust_retries_plus_one_attempts() {
    run(&JS, "server_errors_exhaust_retries_plus_one_attempts").await;
}

#[wasm_bindgen_test]
async fn statuses_408_429_and_5xx_are_retried_until_success() {
    run(&JS, "statuses_408_429_and_5xx_are_retried_until_success").await;
}

#[wasm_bindgen_test]
async fn hung_server_times_out() {
    run(&JS, "hung_server_times_out").await;
}

#[wasm_bindgen_test]
async fn refused_connection_is_network() {
    run(&JS, "refused_connection_is_network").await;
}

#[wasm_bindgen_test]
async fn stubbed_fetch_rejecting_is_network_and_slow_stub_is_timeout() {
    run(
        &JS,
        "stubbed_fetch_rejecting_is_network_and_slow_stub_is_timeout",
    )
    .await;
}

#[wasm_bindgen_test]
async fn unusable_bodies_are_invalid_response() {
    run(&JS, "unusable_bodies_are_invalid_response").await;
}

#[wasm_bindgen_test]
async fn invalid_response_reports_the_http_status() {
    run(&JS, "invalid_response_reports_the_http_status").await;
}

#[wasm_bindgen_test]
async fn token_only_in_the_authorization_header() {
    run(&JS, "token_only_in_the_authorization_header").await;
}

#[wasm_bindgen_test]
async fn debug_logs_servers_without_token_or_credentials() {
    run(&JS, "debug_logs_servers_without_token_or_credentials").await;
}

#[wasm_bindgen_test]
async fn no_logging_without_debug() {
    run(&JS, "no_logging_without_debug").await;
}

#[wasm_bindgen_test]
async fn bad_options_throw_type_errors() {
    run(&JS, "bad_options_throw_type_errors").await;
}

#[wasm_bindgen_test]
fn classify_quality_for_every_state() {
    let expected = [
        ("new", "connecting"),
        ("checking", "connecting"),
        ("connected", "good"),
        ("completed", "good"),
        ("disconnected", "poor"),
        ("failed", "failed"),
        ("closed", "failed"),
    ];
    for (state, quality) in expected {
        let got = classify_quality(JsValue::from_str(state)).map_err(|e| browser::describe(&e));
        assert_eq!(
            got.map(|q| q.as_string()),
            Ok(Some(quality.to_owned())),
            "classifyQuality({state})"
        );
    }
    for bogus in [
        JsValue::from_str("bogus"),
        JsValue::from_str("Connected"),
        JsValue::from(3),
        JsValue::NULL,
    ] {
        let error = classify_quality(bogus.clone()).expect_err("an unknown state throws");
        assert!(
            error.is_instance_of::<js_sys::TypeError>(),
            "classifyQuality({}) throws a TypeError, got {}",
            json(&bogus),
            browser::describe(&error)
        );
    }
}

#[wasm_bindgen_test]
fn quality_label_for_every_quality() {
    let expected = [
        ("good", "Good"),
        ("connecting", "Connecting..."),
        ("poor", "Poor"),
        ("failed", "Failed"),
    ];
    for (quality, label) in expected {
        let got = quality_label(JsValue::from_str(quality)).map_err(|e| browser::describe(&e));
        assert_eq!(
            got.map(|l| l.as_string()),
            Ok(Some(label.to_owned())),
            "qualityLabel({quality})"
        );
    }
    let error = quality_label(JsValue::from_str("great")).expect_err("an unknown quality throws");
    assert!(
        error.is_instance_of::<js_sys::TypeError>(),
        "qualityLabel(\"great\") throws a TypeError"
    );
}
