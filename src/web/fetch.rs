//! One request to the ICE-servers endpoint: `Authorization: Bearer`, and the
//! body parsed by the core. The caller owns the continuation, the
//! `AbortController` and the per-attempt timeout (see `ice_servers.rs`).

use super::convert::json_from_js;
use crate::core::error::AttemptFailure;
use crate::core::servers::{parse_response, InvalidResponse, ParsedServers};
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use web_sys::{AbortSignal, Headers, RequestInit};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, looked up at each call (window or worker; tests may replace it).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &str, init: &RequestInit) -> Promise;
}

/// Sends one GET; the promise settles with the `Response`.
pub fn send(endpoint: &str, token: &str, signal: &AbortSignal) -> Result<Promise, JsValue> {
    let headers = Headers::new()?;
    headers.set("Authorization", &["Bearer ", token].concat())?;
    headers.set("Accept", "application/json")?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_headers(&headers);
    init.set_signal(Some(signal));
    Ok(global_fetch(endpoint, &init))
}

/// The servers in a 2xx body.
pub fn parse(status: u16, body: &JsValue) -> Result<ParsedServers, AttemptFailure> {
    let json = js_sys::JSON::parse(&body.as_string().unwrap_or_default())
        .map_err(|_| AttemptFailure::Invalid(status, InvalidResponse::NotJson))?;
    parse_response(&json_from_js(&json)).map_err(|reason| AttemptFailure::Invalid(status, reason))
}
