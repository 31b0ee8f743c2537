//! # ice-peer
//!
//! WebRTC calls that connect behind NATs and firewalls: ICE servers (STUN, and
//! TURN with temporary credentials) fetched from the app's backend, cached,
//! retried and normalised; `RTCPeerConnection`s created with them, signaling
//! carried through the app, ICE restarted when a call drops, and every ICE
//! state reported with a quality.
//!
//! The crate has two halves, kept apart:
//! - [`core`]: plain Rust with no browser types (parsing, normalising, cache
//!   and retry arithmetic, quality, the ICE-restart policy, stats summary),
//!   tested natively with `cargo test`;
//! - `web` (wasm32 only): the thin browser edge exported to JavaScript
//!   (`PeerManager`, `Peer`, `classifyQuality`, `qualityLabel`).
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod core;

#[cfg(target_arch = "wasm32")]
mod web;
#[cfg(target_arch = "wasm32")]
pub use web::*;
