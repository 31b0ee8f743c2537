//! Where the JWT comes from: a fixed string, or a function (possibly async)
//! called before every request so that a refreshed token is always used.

use js_sys::{Function, Promise};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `PeerManagerOptions.token`.
pub enum TokenSource {
    Fixed(String),
    Call(Function),
}

impl TokenSource {
    /// Reads the option; `None` when it is neither a string nor a function.
    pub fn from_js(value: &JsValue) -> Option<Self> {
        if let Some(token) = value.as_string() {
            Some(TokenSource::Fixed(token))
        } else {
            value
                .dyn_ref::<Function>()
                .map(|f| TokenSource::Call(f.clone()))
        }
    }

    /// The current token, or `None` when the source gives nothing usable
    /// (empty, null, undefined, a non-string, or a function that throws).
    pub async fn current(&self) -> Option<String> {
        let value = match self {
            TokenSource::Fixed(token) => return non_empty(token.clone()),
            TokenSource::Call(function) => function.call0(&JsValue::UNDEFINED).ok()?,
        };
        let value = match value.dyn_into::<Promise>() {
            Ok(promise) => JsFuture::from(promise).await.ok()?,
            Err(value) => value,
        };
        non_empty(value.as_string()?)
    }
}

fn non_empty(token: String) -> Option<String> {
    (!token.trim().is_empty()).then_some(token)
}
