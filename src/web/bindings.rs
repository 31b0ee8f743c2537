//! JS types named in the public TypeScript.

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

}
