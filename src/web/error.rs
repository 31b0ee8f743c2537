//! The one place where Rust errors become JavaScript errors.

use crate::core::error::IceServersError;
use js_sys::{Error, Reflect, TypeError};
use wasm_bindgen::JsValue;

/// An `Error` named "IceServersError" with `kind`, `status` (when there was
/// a response) and `attempts`, as the contract describes.
pub fn ice_servers_error(error: &IceServersError) -> JsValue {
    let js = Error::new(&error.message());
    js.set_name("IceServersError");
    set(&js, "kind", &error.kind.as_str().into());
    if let Some(status) = error.status {
        set(&js, "status", &status.into());
    }
    set(&js, "attempts", &error.attempts.into());
    js.into()
}

/// A `TypeError` for bad input from the app.
pub fn type_error(message: &str) -> JsValue {
    TypeError::new(message).into()
}

/// A plain `Error` with `name` set, e.g. for a peer that could not be made.
pub fn named_error(name: &str, message: &str) -> JsValue {
    let js = Error::new(message);
    js.set_name(name);
    js.into()
}

/// `target[key] = value`, ignoring the impossible failure on a plain object.
pub fn set(target: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(target, &JsValue::from_str(key), value);
}

/// `target[key]`, `undefined` when absent or when `target` is not an object.
pub fn get(target: &JsValue, key: &str) -> JsValue {
    if target.is_object() {
        Reflect::get(target, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}
