//! `classifyQuality`, `qualityLabel` and `qualityColour`: the core's mapping, exported.
//!
//! The three share one body ([`mapped`]), and each returns its
//! `&'static str` as a JS string (not a `String`): no copy into a fresh
//! allocation for the glue to read and free.

use super::error::type_error;
use crate::core::quality::{IceState, Quality};
use wasm_bindgen::prelude::*;

/// The quality for an ICE connection state; throws a `TypeError` for an unknown state.
#[wasm_bindgen(js_name = classifyQuality, unchecked_return_type = "Quality")]
pub fn classify_quality(
    #[wasm_bindgen(unchecked_param_type = "IceConnectionState")] state: JsValue,
) -> Result<JsValue, JsValue> {
    mapped(&state, CLASSIFY)
}

/// "Good" | "Connecting..." | "Poor" | "Failed"; throws a `TypeError` for an unknown quality.
#[wasm_bindgen(js_name = qualityLabel, unchecked_return_type = "string")]
pub fn quality_label(
    #[wasm_bindgen(unchecked_param_type = "Quality")] quality: JsValue,
) -> Result<JsValue, JsValue> {
    mapped(&quality, LABEL)
}

/// Addition: the indicator colour as CSS (green, orange, orange-red, red).
#[wasm_bindgen(js_name = qualityColour, unchecked_return_type = "string")]
pub fn quality_colour(
    #[wasm_bindgen(unchecked_param_type = "Quality")] quality: JsValue,
) -> Result<JsValue, JsValue> {
    mapped(&quality, COLOUR)
}

const CLASSIFY: usize = 0;
const LABEL: usize = 1;
const COLOUR: usize = 2;
/// Each export's TypeError message, whole: no string built at run time.
static ERRORS: [&str; 3] = [
    "classifyQuality: unknown ICE connection state",
    "qualityLabel: unknown quality",
    "qualityColour: unknown quality",
];

/// What export `which` returns for `value`, or its TypeError. Out of line:
/// one copy for the three exports.
#[inline(never)]
fn mapped(value: &JsValue, which: usize) -> Result<JsValue, JsValue> {
    let text = value.as_string();
    let text = text.as_deref();
    let quality = text.and_then(Quality::parse);
    let out = match which {
        CLASSIFY => text
            .and_then(IceState::parse)
            .map(|s| Quality::of(s).as_str()),
        LABEL => quality.map(Quality::label),
        _ => quality.map(Quality::colour), // COLOUR
    };
    out.map(JsValue::from_str)
        .ok_or_else(|| type_error(ERRORS[which]))
}
