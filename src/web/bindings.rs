//! JS types named in the public TypeScript, and the few browser APIs that
//! web-sys does not bind yet.

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

    /// An `RTCPeerConnection` seen through the methods web-sys lacks.
    #[wasm_bindgen(extends = web_sys::RtcPeerConnection)]
    pub type ImplicitPeerConnection;

    /// `RTCPeerConnection.restartIce()`.
    #[wasm_bindgen(method, js_name = restartIce)]
    pub fn restart_ice(this: &ImplicitPeerConnection);

    /// `setTimeout` / `clearTimeout` on whatever global we run in (window or worker).
    #[wasm_bindgen(js_name = setTimeout)]
    pub fn set_timeout(handler: &js_sys::Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    pub fn clear_timeout(id: &JsValue);
    /// `clearInterval`, likewise (`js/peer.js` sets the interval).
    #[wasm_bindgen(js_name = clearInterval)]
    pub fn clear_interval(id: &JsValue);
}
