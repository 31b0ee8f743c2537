//! Debug logging, only when `debug: true`. Callers pass values that are
//! already redacted; the token is never given to this module.

use super::convert::servers_to_js;
use crate::core::redact::redact;
use crate::core::servers::IceServer;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/js/values.js")]
extern "C" {
    /// `console.log("[ice-peer] <message>", detail)`, without `detail` when undefined.
    fn log(message: &str, detail: &JsValue);
}

/// Logs `message` and `servers`, redacted, when `enabled`; converts nothing otherwise.
pub fn debug_servers(enabled: bool, message: &str, servers: &[IceServer]) {
    if enabled {
        log(message, &servers_to_js(&redact(servers)));
    }
}

/// Logs `message` and `detail` when `enabled`.
pub fn debug(enabled: bool, message: &str, detail: &JsValue) {
    if enabled {
        log(message, detail);
    }
}
