//! Platform-independent logic: no web-sys, no js-sys. Everything here is
//! tested natively with `cargo test` in milliseconds; the browser edge in
//! `crate::web` only moves values between JavaScript and these functions.

pub mod cache;
pub mod config;
pub mod engine;
pub mod error;
pub mod json;
mod liveness;
pub mod negotiation;
pub mod network_quality;
pub mod preflight;
pub mod quality;
pub mod recovery;
pub mod retry;
pub mod sdp;
pub mod servers;
pub mod stats;
pub mod text;
pub mod usage;
