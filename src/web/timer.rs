//! Timers that own their callback, in the manner of gloo-timers: dropping a
//! [`Timeout`] clears it and frees its closure, so nothing outlives its owner.

use super::bindings::{clear_timeout, set_timeout};
use crate::core::retry::timer_delay_ms;
use wasm_bindgen::prelude::*;

/// `setTimeout` with the delay clamped to what browsers honour: a delay above
/// 2^31 - 1 ms would otherwise fire at once (e.g. `restartTimeoutMs: 3e9`).
fn schedule(handler: &js_sys::Function, ms: f64) -> JsValue {
    set_timeout(handler, timer_delay_ms(ms))
}

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
        let id = schedule(closure.as_ref().unchecked_ref(), ms);
        Timeout {
            id,
            _callback: closure,
        }
    }
}

impl Timeout {
    /// Clears the timer but keeps its closure, for an owner that may be
    /// running inside that very closure (it is freed when the owner drops).
    pub fn cancel(&self) {
        clear_timeout(&self.id);
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        self.cancel();
    }
}
