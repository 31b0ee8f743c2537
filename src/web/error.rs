//! The one place where Rust errors become JavaScript errors, and the
//! property access every part of the edge shares (`js/values.js`).

use crate::core::error::IceServersError;
use js_sys::{Array, Function, Set, TypeError};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/js/values.js")]
extern "C" {
    /// `target[key] = value`, on the plain objects Rust builds.
    pub fn set(target: &JsValue, key: &str, value: &JsValue);
    /// `target[key]`, `undefined` when absent, when `target` is not an
    /// object, or when reading it throws.
    pub fn get(target: &JsValue, key: &str) -> JsValue;
    /// `target`'s own enumerable members, flat: `[key, value, key, value, ...]`.
    pub fn members(target: &JsValue) -> Array;
    /// Binds `subscribe`, `signal` and `close` to the new `Peer` object.
    #[wasm_bindgen(js_name = bindMethods)]
    pub fn bind_methods(peer: &JsValue);
    /// An `Error` with this name (one import instead of two).
    #[wasm_bindgen(js_name = namedError)]
    pub fn named_error(name: &str, message: &str) -> JsValue;
    /// Adds `listener` to `set` (when `add`); returns the function that
    /// removes it.
    pub fn subscribe(set: &Set, listener: &JsValue, add: bool) -> Function;
    /// Contract `IceServersInfo`; `source` by number (0 network, 1 cache,
    /// 2 fallback), a time not known as NaN.
    pub fn info(source: u32, fetched_at: f64, expires_at: f64) -> JsValue;
    /// `{ mos, packetLossPct, jitterMs }`: one direction's figures, or the worse one's.
    #[wasm_bindgen(js_name = qualityFigures)]
    pub fn quality_figures(mos: f64, loss_pct: f64, jitter_ms: f64) -> JsValue;
    /// Contract `NetworkQualityStats`: `worse`'s figures and `roundTripTimeMs`,
    /// `send` and `receive` (each figures or null).
    #[wasm_bindgen(js_name = networkQualityStats)]
    pub fn network_quality_stats(
        worse: &JsValue,
        rtt_ms: f64,
        send: &JsValue,
        receive: &JsValue,
    ) -> JsValue;
}

/// An `Error` named "IceServersError" with `kind`, `status` (when there
/// was a response) and `attempts`, as the contract describes.
pub fn ice_servers_error(error: &IceServersError) -> JsValue {
    let js = named_error("IceServersError", &error.message());
    set(&js, "kind", &error.kind.as_str().into());
    if let Some(status) = error.status {
        set(&js, "status", &status.into());
    }
    set(&js, "attempts", &error.attempts.into());
    js
}

/// A `TypeError` for bad input from the app.
pub fn type_error(message: &str) -> JsValue {
    TypeError::new(message).into()
}
