//! The one place where Rust errors become JavaScript errors.

use super::property::set;
use crate::core::error::IceServersError;
use js_sys::TypeError;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/js/values.js")]
extern "C" {
    /// An `Error` with this name.
    #[wasm_bindgen(js_name = namedError)]
    pub fn named_error(name: &str, message: &str) -> JsValue;
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
