//! The browser edge: everything that touches `fetch`, timers and
//! `RTCPeerConnection`. Decisions are made in [`crate::core`]; this layer
//! moves values between JavaScript and it, and owns every JS callback it hands out.

mod bindings;
mod convert;
mod error;
mod fetch;
mod handlers;
mod kinds;
mod log;
mod manager;
mod peer;
mod peer_handle;
mod property;
mod quality;

pub use manager::PeerManager;
pub use peer_handle::Peer;
pub use quality::{classify_quality, quality_label};
