//! JS types named in the public TypeScript, and the timer functions of
//! whatever global we run in.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const CONTRACT_TYPES: &str = include_str!("types.d.ts");

#[wasm_bindgen]
extern "C" {
    /// `PeerManagerOptions` (see the TypeScript declaration).
    #[wasm_bindgen(typescript_type = "PeerManagerOptions")]
    pub type PeerManagerOptions;

    /// `PeerOptions`.
    #[wasm_bindgen(typescript_type = "PeerOptions")]
    pub type PeerOptions;

    /// `PeerEventHandlers`.
    #[wasm_bindgen(typescript_type = "PeerEventHandlers")]
    pub type PeerEventHandlers;

    /// `SignalData`.
    #[wasm_bindgen(typescript_type = "SignalData")]
    pub type SignalData;

    /// `setTimeout` / `clearTimeout` on whatever global we run in (window or worker).
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(handler: &js_sys::Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(id: &JsValue);
}
