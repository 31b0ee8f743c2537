//! The browser edge: everything that touches `fetch`, timers and
//! `RTCPeerConnection`. Decisions are made in [`crate::core`]; this layer
//! moves values between JavaScript and it, and owns every JS callback it hands out.

mod bindings;
mod convert;
mod error;
mod fetch;
mod handlers;
mod log;
mod manager;
mod peer;
mod peer_handle;
mod quality;

/// The one shape of closure handed to the JS modules (`js/*.js`):
/// `(what, a, b) -> value`. Each closure type costs the wasm an export and
/// the glue an adapter, so every callback into Rust shares this one.
pub(crate) type Callback = wasm_bindgen::closure::Closure<
    dyn Fn(u32, wasm_bindgen::JsValue, wasm_bindgen::JsValue) -> wasm_bindgen::JsValue,
>;

pub use manager::PeerManager;
pub use peer_handle::Peer;
pub use quality::{classify_quality, quality_colour, quality_label};
