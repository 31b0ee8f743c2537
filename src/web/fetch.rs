//! One attempt at the ICE-servers endpoint, through `js/fetch.js`: the
//! request with `Authorization: Bearer` and its deadline happen in JS, the
//! body is parsed and judged by the core.

use super::convert::json_from_js;
use crate::core::error::AttemptFailure;
use crate::core::retry::timer_delay_ms;
use crate::core::servers::{parse_response, InvalidResponse, ParsedServers};
use js_sys::Function;
use wasm_bindgen::prelude::*;

/// Receives `(outcome, status, body)` from `fetchServers` (see [`judge`]).
pub type Reply = Closure<dyn FnMut(u32, u16, JsValue)>;

#[wasm_bindgen(module = "/src/web/js/fetch.js")]
extern "C" {
    #[wasm_bindgen(js_name = fetchServers)]
    fn fetch_servers(endpoint: &str, token: &str, timeout_ms: f64, done: &Reply) -> Function;
}

/// Sends one GET that aborts itself after `timeout_ms`; `reply` hears how it
/// ended, once, from a later task. The returned function aborts it.
pub fn send(endpoint: &str, token: &str, timeout_ms: f64, reply: &Reply) -> Function {
    fetch_servers(endpoint, token, timer_delay_ms(timeout_ms), reply)
}

/// The servers, or why this attempt failed, from what `fetchServers` reported.
pub fn judge(outcome: u32, status: u16, body: &JsValue) -> Result<ParsedServers, AttemptFailure> {
    match outcome {
        0 => parse_response(&json_from_js(body))
            .map_err(|reason| AttemptFailure::Invalid(status, reason)),
        1 => Err(AttemptFailure::Status(status)),
        3 => Err(AttemptFailure::Timeout),
        4 => Err(AttemptFailure::Invalid(status, InvalidResponse::NotJson)),
        _ => Err(AttemptFailure::Network),
    }
}
