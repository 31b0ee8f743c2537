//! Shared by the browser suites (`#[path = "support/browser.rs"] mod browser;`):
//! runs a test scenario written in JavaScript with the helpers of `helpers.js`
//! (`H`), which can make `PeerManager`s through `H.manager(options)`.
#![allow(dead_code)]

use ice_peer::PeerManager;
use js_sys::{Array, Function, Promise};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The fixture server (`tests/support/fixture-server.mjs`), fixed at compile time.
pub const FIXTURE_URL: &str = match option_env!("ICE_PEER_FIXTURE_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:47801",
};

thread_local! {
    static HELPERS: JsValue = make_helpers();
}

fn make_helpers() -> JsValue {
    let new_manager =
        Closure::<dyn FnMut(JsValue) -> Result<JsValue, JsValue>>::new(|options: JsValue| {
            PeerManager::new(options.unchecked_into()).map(JsValue::from)
        });
    let externrefs = Closure::<dyn FnMut() -> u32>::new(wasm_bindgen::externref_heap_live_count);
    let make = Function::new_with_args(
        "FIXTURE, newManager, wasmMemory, externrefs",
        include_str!("helpers.js"),
    );
    let args = Array::of4(
        &FIXTURE_URL.into(),
        new_manager.as_ref(),
        &wasm_bindgen::memory(),
        externrefs.as_ref(),
    );
    let helpers = make
        .apply(&JsValue::UNDEFINED, &args)
        .expect("helpers.js evaluates");
    // One of each for the life of the test page (constant, so no effect on the leak checks).
    new_manager.forget();
    externrefs.forget();
    helpers
}

/// The JS helpers object `H`.
pub fn helpers() -> JsValue {
    HELPERS.with(JsValue::clone)
}

/// A readable description of a thrown JS value (its stack when it has one).
pub fn describe(error: &JsValue) -> String {
    let stack = js_sys::Reflect::get(error, &"stack".into())
        .ok()
        .and_then(|s| s.as_string());
    let message = js_sys::Reflect::get(error, &"message".into())
        .ok()
        .and_then(|s| s.as_string());
    match (message, stack) {
        (Some(message), Some(stack)) if stack.contains(&message) => stack,
        (Some(message), Some(stack)) => format!("{message}\n{stack}"),
        (Some(message), None) => message,
        _ => js_sys::JSON::stringify(error)
            .ok()
            .and_then(|s| s.as_string())
            .unwrap_or_else(|| format!("{error:?}")),
    }
}

/// Runs `body` as the body of an async JS function of `H`; its result, or its
/// rejection as `Err`. `H.cleanup()` runs afterwards either way.
pub async fn try_js(body: &str) -> Result<JsValue, JsValue> {
    let source =
        format!("return (async () => {{ try {{\n{body}\n}} finally {{ H.cleanup(); }} }})();");
    let function = Function::new_with_args("H", &source);
    let promise: Promise = function
        .call1(&JsValue::UNDEFINED, &helpers())?
        .unchecked_into();
    JsFuture::from(promise).await
}

/// `try_js`, panicking with the JS error (message and stack) on a rejection.
pub async fn js(body: &str) -> JsValue {
    match try_js(body).await {
        Ok(value) => value,
        Err(error) => panic!("scenario failed: {}", describe(&error)),
    }
}

/// The JSON text of a JS value (for `assert_eq!` on the Rust side).
pub fn json(value: &JsValue) -> String {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// JS: a manager on the fixture's TURN-REST credentials (endpoint `/turn/<name>`),
/// `relayOnly`, and `candidateTypes(p)`: both sides' local candidate types.
pub const TURN_MANAGER: &str = r#"
    const turnName = H.name("turn");
    const manager = H.manager({ endpoint: H.url(`/turn/${turnName}?ttl=3600`), token: "tok",
        disconnectedTimeoutMs: 500, restartTimeoutMs: 3000, restartAttempts: 5 });
    const relayOnly = { iceTransportPolicy: "relay" };
    const candidateTypes = async (p) => [(await p.caller.stats()).localCandidateType, (await p.callee.stats()).localCandidateType];
"#;
