//! `classifyQuality`, `qualityLabel` and `qualityColour`: the core's mapping, exported.

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
#[wasm_bindgen(js_name = qualityLabel)]
pub fn quality_label(
    #[wasm_bindgen(unchecked_param_type = "Quality")] quality: JsValue,
) -> Result<String, JsValue> {
    Ok(parse_quality(&quality, "qualityLabel")?.label().to_owned())
}

/// Addition: the indicator colour as CSS (green, orange, orange-red, red).
#[wasm_bindgen(js_name = qualityColour)]
pub fn quality_colour(
    #[wasm_bindgen(unchecked_param_type = "Quality")] quality: JsValue,
) -> Result<String, JsValue> {
    Ok(parse_quality(&quality, "qualityColour")?
        .colour()
        .to_owned())
}

fn parse_quality(quality: &JsValue, function: &str) -> Result<Quality, JsValue> {
    quality
        .as_string()
        .and_then(|q| Quality::parse(&q))
        .ok_or_else(|| type_error(&concat(&[function, ": unknown quality"])))
}
