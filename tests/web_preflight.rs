//! `manager.preflight()` against the fixture's coturn: every check passing,
//! a wrong TURN credential (401 named), a port that never answers (failed
//! within the deadline), STUN alone; every connection it made is closed and
//! no credential is in the report.
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
    path: "tests/web_preflight.js",
    source: include_str!("web_preflight.js"),
};

#[wasm_bindgen_test]
async fn every_check_passes_against_coturn() {
    run(&JS, "every_check_passes_against_coturn").await;
}

#[wasm_bindgen_test]
async fn a_wrong_turn_credential_is_named_401() {
    run(&JS, "a_wrong_turn_credential_is_named_401").await;
}

#[wasm_bindgen_test]
async fn a_port_that_never_answers_fails_within_the_deadline() {
    run(&JS, "a_port_that_never_answers_fails_within_the_deadline").await;
}

#[wasm_bindgen_test]
async fn stun_alone() {
    run(&JS, "stun_alone").await;
}
