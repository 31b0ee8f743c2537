//! Continuing a JS promise from Rust without a futures runtime: two
//! closures, owned by the value that waits, handed to `promise.then`.

use js_sys::Promise;
use wasm_bindgen::prelude::*;

type Callback = Closure<dyn FnMut(JsValue)>;

/// The `then(ok, err)` pair of one waiting object. It is reused for every
/// promise that object waits on in turn, and must outlive the last of them:
/// a closure that JS calls after it was dropped throws.
pub struct Continuation {
    ok: Callback,
    err: Callback,
}

impl Continuation {
    /// `on_settled` receives `Ok(value)` or `Err(reason)`.
    pub fn new(on_settled: impl Fn(Result<JsValue, JsValue>) + Clone + 'static) -> Self {
        let on_err = on_settled.clone();
        Continuation {
            ok: Closure::new(move |value| on_settled(Ok(value))),
            err: Closure::new(move |reason| on_err(Err(reason))),
        }
    }

    /// Continues `promise` with this pair.
    pub fn wait(&self, promise: &Promise) {
        // The promise `then` returns settles with our closures' (empty)
        // results and is not needed; our closures never throw.
        let _ = promise.then2(&self.ok, &self.err);
    }
}
