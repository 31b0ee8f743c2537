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

#[path = "support/cycles.rs"]
mod cycles;

use cycles::{cycles, report};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// One WebAssembly page: growth below this is allocator noise, not a leak
/// (a leak of 100 bytes per cycle would be ~1.8 pages over 600 cycles).
const MEMORY_SLACK: f64 = 65_536.0;
/// Externrefs held by the runtime and the helpers vary a little between calls.
const EXTERNREF_SLACK: f64 = 8.0;

#[wasm_bindgen_test]
async fn create_close_cycles_leak_nothing() {
    let f = cycles(50, 600, true).await; // 600 cycles x (caller + callee)
    report(format!(
        "600 caller/callee cycles (1200 peers, wrappers freed) after 50 warm-up cycles: wasm memory {} -> {} bytes, \
         externrefs {} -> {}, {:.0} ms ({:.2} ms/cycle), {} waits at the connection cap",
        f.memory0, f.memory1, f.externrefs0, f.externrefs1, f.ms, f.ms / 600.0, f.cap_waits
    ))
    .await;
    assert!(
        f.memory1 - f.memory0 <= MEMORY_SLACK,
        "wasm memory grew: {f:?}"
    );
    assert!(
        f.externrefs1 - f.externrefs0 <= EXTERNREF_SLACK,
        "externref heap grew: {f:?}"
    );
}
