//! Debug logging, only when `debug: true`. It never shows a token or a
//! credential: messages never carry one, and servers are shown by URL.

use super::convert::strings_to_js;
use crate::core::servers::IceServer;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/js/values.js")]
extern "C" {
    /// `console.log("[ice-peer] <message>", detail)`, without `detail` when undefined.
    fn log(message: &str, detail: &JsValue);
}

/// Logs `message` and the servers' URLs when `enabled`; builds nothing
/// otherwise. URLs only: credentials are never logged, and a TURN URL always
/// came with them (`normalise` drops one that did not).
pub fn debug_servers(enabled: bool, message: &str, servers: &[IceServer]) {
    if enabled {
        let urls = strings_to_js(servers.iter().flat_map(|server| &server.urls));
        log(message, &urls);
    }
}

/// Logs `message` and `detail` when `enabled`.
pub fn debug(enabled: bool, message: &str, detail: &JsValue) {
    if enabled {
        log(message, detail);
    }
}
