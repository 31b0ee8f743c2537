//! 600 createPeer/close cycles with the `Peer` wrappers left to the GC, as an
//! app would leave them (1200 peers, over twice Chrome's cap of 500 live
//! RTCPeerConnections): the connections are closed and released, so the cap
//! is never reached. In a page of its own (see `support/cycles.rs`).
#![cfg(target_arch = "wasm32")]

#[path = "support/browser.rs"]
mod browser;
#[path = "support/cycles.rs"]
mod cycles;

use cycles::{cycles, report};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn cycles_without_free_stay_under_the_connection_cap() {
    let f = cycles(0, 600, false).await;
    report(format!(
        "1200 peers (600 cycles, wrappers left to the GC): wasm memory {} -> {} bytes, externrefs {} -> {}, {:.0} ms, {} waits at the connection cap",
        f.memory0, f.memory1, f.externrefs0, f.externrefs1, f.ms, f.cap_waits
    ))
    .await;
}
