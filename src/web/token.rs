//! Where the JWT comes from: a fixed string, or a function (possibly async)
//! called before every request so that a refreshed token is always used.

use js_sys::{Function, Promise};
use wasm_bindgen::{JsCast, JsValue};

/// `PeerManagerOptions.token`.
pub enum TokenSource {
    Fixed(String),
    Call(Function),
}

/// What asking the source gave: the token now, or a promise of it.
pub enum TokenCall {
    /// `None` when the source gave nothing usable.
    Ready(Option<String>),
    /// The function returned a promise; read its outcome with [`settled`].
    Later(Promise),
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

    /// Asks for the current token. A function that throws gives `Ready(None)`.
    pub fn call(&self) -> TokenCall {
        let value = match self {
            TokenSource::Fixed(token) => return TokenCall::Ready(non_empty(token)),
            TokenSource::Call(function) => match function.call0(&JsValue::UNDEFINED) {
                Ok(value) => value,
                Err(_) => return TokenCall::Ready(None),
            },
        };
        match value.dyn_into::<Promise>() {
            Ok(promise) => TokenCall::Later(promise),
            Err(value) => TokenCall::Ready(settled(Ok(value))),
        }
    }
}

/// The token a settled promise gave: `None` for a rejection, an empty
/// string, null, undefined or a non-string.
pub fn settled(outcome: Result<JsValue, JsValue>) -> Option<String> {
    non_empty(&outcome.ok()?.as_string()?)
}

fn non_empty(token: &str) -> Option<String> {
    (!token.trim().is_empty()).then(|| token.to_owned())
}
