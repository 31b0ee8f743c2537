//! 600 createPeer/close cycles with the `Peer` wrappers left to the GC, as an
//! app would leave them (1200 peers, over twice Chrome's cap of 500 live
//! RTCPeerConnections): the connections are closed and released, so the cap
//! is never reached. In a page of its own (see `web_peers_cycles.js`).
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
async fn cycles_without_free_stay_under_the_connection_cap() {
    run(&JS, "cycles_without_free_stay_under_the_connection_cap").await;
}
