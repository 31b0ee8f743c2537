//! `classifyQuality`, `qualityLabel` and `qualityColour`: the core's mapping, exported.
//!
//! Each returns its `&'static str` as a JS string (not a `String`): no copy
//! into a fresh allocation for the glue to read and free.

use super::error::type_error;
use crate::core::quality::{IceState, Quality};
use crate::core::text::concat;
use wasm_bindgen::prelude::*;

/// The quality for an ICE connection state; throws a `TypeError` for an unknown state.
#[wasm_bindgen(js_name = classifyQuality, unchecked_return_type = "Quality")]
pub fn classify_quality(
    #[wasm_bindgen(unchecked_param_type = "IceConnectionState")] state: JsValue,
) -> Result<JsValue, JsValue> {
    let state = state.as_string().and_then(|s| IceState::parse(&s));
    let state = state.ok_or_else(|| type_error("classifyQuality: unknown ICE connection state"))?;
    Ok(Quality::of(state).as_str().into())
}

/// "Good" | "Connecting..." | "Poor" | "Failed"; throws a `TypeError` for an unknown quality.
#[wasm_bindgen(js_name = qualityLabel, unchecked_return_type = "string")]
pub fn quality_label_js(
    #[wasm_bindgen(unchecked_param_type = "Quality")] quality: JsValue,
) -> Result<JsValue, JsValue> {
    Ok(parse_quality(&quality, "qualityLabel")?.label().into())
}

/// `qualityLabel` for Rust callers (the browser tests): the label as a
/// `String`. Not exported, so not in the wasm.
pub fn quality_label(quality: JsValue) -> Result<String, JsValue> {
    quality_label_js(quality).map(|label| label.as_string().unwrap_or_default())
}

/// Addition: the indicator colour as CSS (green, orange, orange-red, red).
#[wasm_bindgen(js_name = qualityColour, unchecked_return_type = "string")]
pub fn quality_colour(
    #[wasm_bindgen(unchecked_param_type = "Quality")] quality: JsValue,
) -> Result<JsValue, JsValue> {
    Ok(parse_quality(&quality, "qualityColour")?.colour().into())
}

fn parse_quality(quality: &JsValue, function: &str) -> Result<Quality, JsValue> {
    quality
        .as_string()
        .and_then(|q| Quality::parse(&q))
        .ok_or_else(|| type_error(&concat(&[function, ": unknown quality"])))
}
