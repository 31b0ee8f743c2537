//! The one place where Rust errors become JavaScript errors.

use super::property::set;
use crate::core::error::IceServersError;
use crate::core::usage::UsageError;
use js_sys::TypeError;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/js/values.js")]
extern "C" {
    /// An `Error` with this name.
    #[wasm_bindgen(js_name = namedError)]
    pub fn named_error(name: &str, message: &str) -> JsValue;
}

/// An `Error` named "IceServersError" with `kind`, `status` (when there
/// was a response) and `attempts`, as the contract describes.
pub fn ice_servers_error(error: &IceServersError) -> JsValue {
    let js = named_error("IceServersError", &error.message());
    set(&js, "kind", &error.kind.as_str().into());
    if let Some(status) = error.status {
        set(&js, "status", &status.into());
    }
    set(&js, "attempts", &error.attempts.into());
    js
}

/// The `TypeError` for a call the package refuses.
pub fn type_error(error: UsageError) -> JsValue {
    TypeError::new(&error.message()).into()
}
