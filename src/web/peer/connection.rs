//! The peer's `RTCPeerConnection`, through `js/peer.js`: the connection's
//! events, the operations of the chain, stats and the peer's timers are
//! plumbed there, and reach Rust through one [`Notify`] function (see
//! [`super::notify`]).

use crate::web::kinds::{Notify, Operation};
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;
use web_sys::{MediaStream, RtcPeerConnection};

#[wasm_bindgen(module = "/src/web/js/peer.js")]
extern "C" {
    /// One peer's connection and its plumbing (`PeerConnection` in peer.js).
    pub(super) type PeerConnection;

    /// A new `RTCPeerConnection`; `Err` with the browser's error for servers it refuses.
    #[wasm_bindgen(constructor, catch)]
    pub(super) fn new(ice_servers: &Array, relay: bool) -> Result<PeerConnection, JsValue>;

    /// The `RTCPeerConnection` itself.
    #[wasm_bindgen(method, getter)]
    pub(super) fn pc(this: &PeerConnection) -> RtcPeerConnection;

    /// Sets the connection's event handlers, which call `notify`.
    #[wasm_bindgen(method)]
    pub(super) fn attach(this: &PeerConnection, notify: &Notify);

    /// Adds the local tracks (or, for an initiator without any, a data channel).
    #[wasm_bindgen(method)]
    pub(super) fn start(this: &PeerConnection, stream: Option<MediaStream>, initiator: bool);

    /// Starts one operation (`SetRemote`: `a` the type, `b` the SDP;
    /// `AddCandidate`: `a` the candidate). Its outcome reaches `notify`
    /// (also as `OrphanFailed` when `orphan`).
    #[wasm_bindgen(method)]
    pub(super) fn op(
        this: &PeerConnection,
        operation: Operation,
        a: &JsValue,
        b: &str,
        orphan: bool,
    ) -> Promise;

    /// `localDescription` (null before there is one).
    #[wasm_bindgen(method, js_name = localDescription)]
    pub(super) fn local_description(this: &PeerConnection) -> JsValue;

    /// `signalingState === "stable"`.
    #[wasm_bindgen(method, js_name = isStable)]
    pub(super) fn is_stable(this: &PeerConnection) -> bool;

    /// `setConfiguration` with these servers.
    #[wasm_bindgen(method, catch)]
    pub(super) fn configure(
        this: &PeerConnection,
        ice_servers: &Array,
        relay: bool,
    ) -> Result<(), JsValue>;

    /// `restartIce()`.
    #[wasm_bindgen(method, js_name = restartIce)]
    pub(super) fn restart_ice(this: &PeerConnection);

    /// One stats sample, reported to `notify`.
    #[wasm_bindgen(method)]
    pub(super) fn sample(this: &PeerConnection);

    /// A promise of what `notify` makes of a stats report.
    #[wasm_bindgen(method)]
    pub(super) fn stats(this: &PeerConnection) -> Promise;

    /// Arms the one timer for `ms` (already clamped), replacing it; negative cancels.
    #[wasm_bindgen(method)]
    pub(super) fn timer(this: &PeerConnection, ms: f64);

    /// A stats sample every `ms`; 0 stops.
    #[wasm_bindgen(method)]
    pub(super) fn sampling(this: &PeerConnection, ms: f64);

    /// Detaches the handlers, stops the timers, closes the channel and the connection.
    #[wasm_bindgen(method)]
    pub(super) fn close(this: &PeerConnection);
}
