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
// deny, not forbid: the global allocator below is the one allowed exception.
#![deny(unsafe_code)]
#![deny(missing_docs)]

pub mod core;

#[cfg(target_arch = "wasm32")]
mod web;
#[cfg(target_arch = "wasm32")]
pub use web::*;

/// A free-list allocator, smaller than the default dlmalloc (docs/size.md)
/// and reusing what is freed (the create/close cycle tests watch wasm memory
/// stay flat). Its one caveat, that it is not thread-safe, cannot bite: this
/// crate targets wasm32-unknown-unknown without the atomics feature, where
/// there is exactly one thread. That is also the only `unsafe` in the crate.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
#[allow(unsafe_code)]
// SAFETY: single-threaded target (see above), as AssumeSingleThreaded requires.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
