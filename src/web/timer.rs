//! Timers that own their callback, in the manner of gloo-timers: dropping a
//! [`Timeout`] clears it and frees its closure, so nothing outlives its owner.

use super::bindings::{clear_timeout, set_timeout};
use wasm_bindgen::prelude::*;

/// A pending `setTimeout`. Dropping it cancels the call.
#[must_use = "a Timeout is cancelled when dropped"]
pub struct Timeout {
    id: JsValue,
    _callback: Closure<dyn FnMut()>,
}

impl Timeout {
    /// Calls `callback` once after `ms` milliseconds, unless dropped first.
    pub fn new(ms: f64, callback: impl FnOnce() + 'static) -> Self {
        let mut callback = Some(callback);
        let closure = Closure::<dyn FnMut()>::new(move || {
            if let Some(callback) = callback.take() {
                callback();
            }
        });
        let id = set_timeout(closure.as_ref().unchecked_ref(), ms);
        Timeout {
            id,
            _callback: closure,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}

/// A promise that resolves (to `undefined`) after `ms`. It holds no Rust
/// closure: the timer calls the promise's own `resolve`.
pub fn delay(ms: f64) -> js_sys::Promise {
    js_sys::Promise::new(&mut |resolve, _reject| {
        set_timeout(&resolve, ms);
    })
}

/// Waits `ms` milliseconds.
pub async fn sleep(ms: f64) {
    let _ = wasm_bindgen_futures::JsFuture::from(delay(ms)).await;
}
