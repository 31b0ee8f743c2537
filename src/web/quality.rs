//! `classifyQuality` and `qualityLabel`: the core's mapping, exported.

use super::error::type_error;
use crate::core::quality::{IceState, Quality};
use crate::core::usage::UsageError;
use wasm_bindgen::prelude::*;

/// The quality for an ICE connection state; throws a `TypeError` for an unknown state.
#[wasm_bindgen(js_name = classifyQuality, unchecked_return_type = "Quality")]
pub fn classify_quality(
    #[wasm_bindgen(unchecked_param_type = "IceConnectionState")] state: JsValue,
) -> Result<JsValue, JsValue> {
    let state = state.as_string();
    let quality = state.as_deref().and_then(IceState::parse).map(Quality::of);
    answer(quality.map(Quality::as_str), UsageError::IceState)
}

/// "Good" | "Connecting..." | "Poor" | "Failed"; throws a `TypeError` for an unknown quality.
#[wasm_bindgen(js_name = qualityLabel, unchecked_return_type = "string")]
pub fn quality_label(
    #[wasm_bindgen(unchecked_param_type = "Quality")] quality: JsValue,
) -> Result<JsValue, JsValue> {
    answer(
        parse_quality(&quality).map(Quality::label),
        UsageError::Quality,
    )
}

fn parse_quality(value: &JsValue) -> Option<Quality> {
    value.as_string().as_deref().and_then(Quality::parse)
}

/// The text as a JS string, or `error`'s `TypeError` when there is none.
fn answer(text: Option<&'static str>, error: UsageError) -> Result<JsValue, JsValue> {
    text.map(JsValue::from_str).ok_or_else(|| type_error(error))
}
