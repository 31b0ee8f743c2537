//! 600 createPeer/close cycles (1200 peers, over twice Chrome's cap of 500 live
//! RTCPeerConnections): never stuck at that cap,
//! `peerCount` back to 0, and wasm memory and the externref heap flat afterwards.
//!
//! The same cycles with the wrappers left to the GC are in
//! `web_peers_cycles_gc.rs`, a page of its own. Needs the fixture server only
//! to report figures: run through `scripts/browser-tests.sh`.
#![cfg(target_arch = "wasm32")]

#[path = "support/browser.rs"]
mod browser;

use browser::{run, Module};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// The scenarios of both cycle suites, each run in a page of its own.
const JS: Module = Module {
    path: "tests/web_peers_cycles.js",
    source: include_str!("web_peers_cycles.js"),
};

#[wasm_bindgen_test]
async fn create_close_cycles_leak_nothing() {
    run(&JS, "create_close_cycles_leak_nothing").await;
}
