//! Property access for the edge (`js/property.js`): reading the app's
//! objects, whose getters may throw, and building the contract's plain objects.

use js_sys::Array;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/js/property.js")]
extern "C" {
    /// `target[key] = value`, on the plain objects Rust builds.
    pub fn set(target: &JsValue, key: &str, value: &JsValue);
    /// `target[key]`, `undefined` when absent, when `target` is not an
    /// object, or when reading it throws.
    pub fn get(target: &JsValue, key: &str) -> JsValue;
    /// `target`'s own enumerable members, flat: `[key, value, key, value, ...]`.
    pub fn members(target: &JsValue) -> Array;
}
