//! Debug logging, only when `debug: true`. Callers pass values that are
//! already redacted; the token is never given to this module.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/js/values.js")]
extern "C" {
    /// `console.log("[ice-peer] <message>", detail)`, without `detail` when undefined.
    fn log(message: &str, detail: &JsValue);
}

/// Logs `message` and `detail` when `enabled`.
pub fn debug(enabled: bool, message: &str, detail: &JsValue) {
    if enabled {
        log(message, detail);
    }
}
