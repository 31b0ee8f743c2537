//! Debug logging, only when `debug: true`. Callers pass values that are
//! already redacted; the token is never given to this module.

use wasm_bindgen::JsValue;

/// `console.log("[ice-peer] <message>", detail)` when `enabled`.
pub fn debug(enabled: bool, message: &str, detail: &JsValue) {
    if enabled {
        let prefixed = JsValue::from_str(&["[ice-peer] ", message].concat());
        if detail.is_undefined() {
            web_sys::console::log_1(&prefixed);
        } else {
            web_sys::console::log_2(&prefixed, detail);
        }
    }
}
