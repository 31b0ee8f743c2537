//! An event listener that owns its closure, in the manner of gloo-events:
//! dropping it removes the listener and frees the closure.

use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// Anything with `addEventListener` (window, `navigator.connection`).
    pub type Target;
    #[wasm_bindgen(method, js_name = addEventListener)]
    fn add_event_listener(this: &Target, name: &str, listener: &js_sys::Function);
    #[wasm_bindgen(method, js_name = removeEventListener)]
    fn remove_event_listener(this: &Target, name: &str, listener: &js_sys::Function);
}

/// A listener for `name` on `target`, attached while this value lives.
#[must_use = "an EventListener is removed when dropped"]
pub struct EventListener {
    target: Target,
    name: &'static str,
    callback: Closure<dyn FnMut()>,
}

impl EventListener {
    /// Attaches `callback` to `target`'s `name` events.
    pub fn new(target: &JsValue, name: &'static str, callback: impl FnMut() + 'static) -> Self {
        let target: Target = target.clone().unchecked_into();
        let callback = Closure::<dyn FnMut()>::new(callback);
        target.add_event_listener(name, callback.as_ref().unchecked_ref());
        EventListener {
            target,
            name,
            callback,
        }
    }

    /// Removes the listener but keeps the closure, for an owner that may be
    /// running inside it (the closure is freed when this value drops).
    pub fn detach(&self) {
        self.target
            .remove_event_listener(self.name, self.callback.as_ref().unchecked_ref());
    }
}

impl Drop for EventListener {
    fn drop(&mut self) {
        self.detach();
    }
}
