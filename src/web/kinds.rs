//! The names the Rust side and the JS modules (`js/*.js`) share for what
//! crosses between them. Each is a C-style enum: a number on the wire, a
//! named constant in wasm-bindgen's glue and in `js/kinds.js`, which the
//! modules import (`Report.IceState`), and a value checked on its way into
//! Rust (see [`kind`]: a callback called with a number that names none of
//! its variants does nothing). `js/kinds.js` mirrors
//! these: the build fails unless the two agree (`scripts/minify-glue.mjs`),
//! and then writes each use as its number. They are internal, not part of
//! the package's API: left out of the `.d.ts` and of the package's exports.

use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::prelude::*;

/// Internal: what `js/peer.js` reports to its peer (with up to two values).
#[wasm_bindgen(skip_typescript)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Report {
    /// A local ICE candidate; the values: its `toJSON()`.
    LocalCandidate = 0,
    /// `iceconnectionstatechange`; the values: the new state.
    IceState = 1,
    /// A remote stream, once per stream; the values: the stream.
    RemoteStream = 2,
    /// `negotiationneeded`.
    NegotiationNeeded = 3,
    /// `icecandidateerror`; the values: the STUN code and the server's URL.
    CandidateError = 4,
    /// The operation started first settled (Rust then reads the local description).
    OpSettled = 5,
    /// That operation failed; the values: the browser's error.
    OpFailed = 6,
    /// An operation whose `signal()` caller did not get its promise failed
    /// (reported besides `OpFailed`); the values: the error.
    OrphanFailed = 7,
    /// The peer's timer fired.
    Timer = 8,
    /// A periodic stats sample; the values: the report's stats objects, as an array.
    Sample = 9,
    /// The same, for `peer.stats()`: what the callback returns is the promise's value.
    AppStats = 10,
}

/// Internal: an operation of the peer's chain, run by `js/peer.js`.
#[wasm_bindgen(skip_typescript)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// `setLocalDescription()`: the offer or answer the signaling state calls for.
    SetLocal = 0,
    /// `setRemoteDescription({ type, sdp })`.
    SetRemote = 1,
    /// `addIceCandidate(candidate)`.
    AddCandidate = 2,
}

/// Internal: how one attempt of `js/fetch.js` ended.
#[wasm_bindgen(skip_typescript)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchOutcome {
    /// A 2xx response whose body parsed as JSON.
    Json = 0,
    /// A response whose status is not 2xx (its body is not read).
    HttpStatus = 1,
    /// `fetch` or the body's read rejected: offline, refused, CORS.
    NetworkError = 2,
    /// The deadline passed first and aborted the request.
    Timeout = 3,
    /// A 2xx response whose body is not JSON.
    NotJson = 4,
    /// The token source gave no token: nothing was sent.
    NoToken = 5,
}

/// Internal: what reaches the manager from `js/manager.js` and `js/fetch.js`.
#[wasm_bindgen(skip_typescript)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManagerEvent {
    /// `online`, `offline` or `navigator.connection`'s `change`.
    NetworkChanged = 0,
    /// A token source's promise settled; the values: the lookup's id and the token.
    TokenArrived = 1,
    /// The wait of a `createPeer()` for servers is over.
    WaitOver = 2,
}

/// How the JS modules call into Rust: a kind (one of the enums above; each
/// callback reads its own, see [`kind`]) and up to three values. One
/// signature for every callback, so that wasm-bindgen makes one adapter for
/// them all.
pub(crate) type Callback = Closure<dyn Fn(JsValue, JsValue, JsValue, JsValue) -> JsValue>;

/// The callback `js/peer.js` reports through: a [`Report`] and its values;
/// what it returns is the value of `stats()`'s promise.
pub(crate) type Notify = Callback;

/// The callback one attempt of `js/fetch.js` reports through, once: the
/// [`FetchOutcome`], the response's status (0 when there was none), the
/// parsed body and the token sent.
pub(crate) type Reply = Callback;

/// The callback the manager hears `js/manager.js` and `js/fetch.js` through:
/// the [`ManagerEvent`], a token lookup's id and the token (`TokenArrived`
/// only).
pub(crate) type ManagerNotify = Callback;

/// The kind a callback was called with; `None` for a value that names none
/// of `K`'s variants.
pub(crate) fn kind<K: TryFromJsValue>(value: &JsValue) -> Option<K> {
    K::try_from_js_value_ref(value)
}

// `js/kinds.js` is imported by the other modules, not by Rust: this unused
// import is what makes wasm-bindgen copy it beside them.
#[wasm_bindgen(module = "/src/web/js/kinds.js")]
extern "C" {
    #[allow(dead_code)]
    #[wasm_bindgen(thread_local_v2, js_name = Report)]
    static REPORT_MIRROR: JsValue;
}
