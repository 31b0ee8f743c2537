//! Shared by the browser suites (`#[path = "support/browser.rs"] mod browser;`):
//! runs a test scenario, an async function exported by the suite's JavaScript
//! module (`tests/web_*.js`), with the helpers of `helpers.js` (`H`), which can
//! make `PeerManager`s through `H.manager(options)`; `H.cleanup()` after it.
#![allow(dead_code)]

use ice_peer::PeerManager;
use js_sys::{Array, Function, Promise, Reflect};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The fixture server (`tests/support/fixture-server.mjs`), fixed at compile time.
pub const FIXTURE_URL: &str = match option_env!("ICE_PEER_FIXTURE_URL") {
    Some(url) => url,
    None => "http://127.0.0.1:47801",
};

/// An ES module compiled into the test: its path (stack traces name it) and its text.
pub struct Module {
    pub path: &'static str,
    pub source: &'static str,
}

const HELPERS: Module = Module {
    path: "tests/support/helpers.js",
    source: include_str!("helpers.js"),
};

thread_local! {
    /// The modules this page imported, by path: each is evaluated once.
    static IMPORTED: RefCell<Vec<(&'static str, JsValue)>> = const { RefCell::new(Vec::new()) };
    /// `H`, once `helpers.js` is installed.
    static H: RefCell<Option<JsValue>> = const { RefCell::new(None) };
    /// `import()` of a module's text: through a blob: URL rather than a snippet
    /// module (`#[wasm_bindgen(module = ...)]`), so that the page's static module
    /// graph, which has to load before any test starts (see the stalls in
    /// scripts/browser-tests.sh), stays as small as the library's own.
    static IMPORT: Function = Function::new_with_args(
        "source, path",
        r#"const url = URL.createObjectURL(new Blob([`${source}\n//# sourceURL=${path}\n`], { type: "text/javascript" }));
        return import(url).finally(() => URL.revokeObjectURL(url));"#,
    );
}

/// The namespace object of `module`, imported on first use.
async fn import(module: &Module) -> Result<JsValue, JsValue> {
    let known = IMPORTED.with_borrow(|all| {
        all.iter()
            .find(|(path, _)| *path == module.path)
            .map(|(_, namespace)| namespace.clone())
    });
    if let Some(namespace) = known {
        return Ok(namespace);
    }
    let promise = IMPORT.with(|import| {
        import.call2(
            &JsValue::UNDEFINED,
            &module.source.into(),
            &module.path.into(),
        )
    })?;
    let namespace = JsFuture::from(promise.unchecked_into::<Promise>()).await?;
    IMPORTED.with_borrow_mut(|all| all.push((module.path, namespace.clone())));
    Ok(namespace)
}

/// `H`: `helpers.js` imported and installed on first use.
async fn helpers() -> Result<JsValue, JsValue> {
    if let Some(h) = H.with_borrow(Clone::clone) {
        return Ok(h);
    }
    let install: Function =
        Reflect::get(&import(&HELPERS).await?, &"install".into())?.dyn_into()?;
    let new_manager =
        Closure::<dyn FnMut(JsValue) -> Result<JsValue, JsValue>>::new(|options: JsValue| {
            PeerManager::new(options.unchecked_into()).map(JsValue::from)
        });
    let externrefs = Closure::<dyn FnMut() -> u32>::new(wasm_bindgen::externref_heap_live_count);
    let args = Array::of4(
        &FIXTURE_URL.into(),
        new_manager.as_ref(),
        &wasm_bindgen::memory(),
        externrefs.as_ref(),
    );
    let h = install.apply(&JsValue::UNDEFINED, &args)?;
    // One of each for the life of the test page (constant, so no effect on the leak checks).
    new_manager.forget();
    externrefs.forget();
    H.set(Some(h.clone()));
    Ok(h)
}

/// Runs the scenario `name`, an async function that `module` exports:
/// `await module[name](H)`, then `H.cleanup()` whatever happened. Panics with
/// the JS error (message and stack) if either throws.
pub async fn run(module: &Module, name: &str) {
    let h = match helpers().await {
        Ok(h) => h,
        Err(error) => panic!("helpers.js: {}", describe(&error)),
    };
    let outcome = scenario(module, name, &h).await;
    let cleaned = Reflect::get(&h, &"cleanup".into())
        .and_then(|cleanup| cleanup.unchecked_into::<Function>().call0(&h));
    if let Err(error) = outcome.and(cleaned) {
        panic!("scenario {name} failed: {}", describe(&error));
    }
}

async fn scenario(module: &Module, name: &str, h: &JsValue) -> Result<JsValue, JsValue> {
    let exported = Reflect::get(&import(module).await?, &name.into())?;
    let Some(function) = exported.dyn_ref::<Function>() else {
        let message = format!("{} exports no function {name}", module.path);
        return Err(js_sys::Error::new(&message).into());
    };
    JsFuture::from(Promise::resolve(&function.call1(&JsValue::UNDEFINED, h)?)).await
}

/// A readable description of a thrown JS value (its stack when it has one).
pub fn describe(error: &JsValue) -> String {
    let stack = Reflect::get(error, &"stack".into())
        .ok()
        .and_then(|s| s.as_string());
    let message = Reflect::get(error, &"message".into())
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

/// The JSON text of a JS value (for `assert_eq!` on the Rust side).
pub fn json(value: &JsValue) -> String {
    js_sys::JSON::stringify(value)
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}
