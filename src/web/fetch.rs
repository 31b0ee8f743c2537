//! The ICE-servers request's browser plumbing, in `js/fetch.js`: asking the
//! token source, one attempt (its backoff, the GET with `Authorization:
//! Bearer` and its deadline, the body parsed). What came back is judged here
//! and in the core.

use super::convert::json_from_js;
use crate::core::error::AttemptFailure;
use crate::core::retry::timer_delay_ms;
use crate::core::servers::{parse_response, InvalidResponse, ParsedServers};
use js_sys::Function;
use wasm_bindgen::prelude::*;

/// Receives the reports of `js/fetch.js`: an [`Answer`] from [`attempt`],
/// `(id, token)` from [`read_token`]; JS ignores what it returns. The
/// crate's one closure type (see [`super::Callback`]).
pub type Reply = super::Callback;

/// The outcome of an attempt whose token source gave nothing: no request was sent.
const NO_TOKEN: u32 = 5;

#[wasm_bindgen(module = "/src/web/js/fetch.js")]
extern "C" {
    /// See [`read_token`]: the token, or `undefined` (it comes later).
    #[wasm_bindgen(js_name = readToken)]
    fn read_token_js(source: &JsValue, id: u32, done: &Reply) -> JsValue;

    #[wasm_bindgen(js_name = attempt)]
    fn attempt_js(
        endpoint: &JsValue,
        source: &JsValue,
        delay_ms: f64,
        timeout_ms: f64,
        done: &Reply,
    ) -> Function;
}

/// The token `source` (a string, or a function returning one or a promise
/// of one) gives: `Some` at once ("" for none), or `None` and `done` hears
/// `(id, token)` from a later task (`id` is never 0). Read as a JS value: the glue of an
/// `Option<String>` return costs more than `as_string`.
pub fn read_token(source: &JsValue, id: u32, done: &Reply) -> Option<String> {
    read_token_js(source, id, done).as_string()
}

/// Asks `source` for a token after `delay_ms`, then sends one GET that aborts
/// itself after `timeout_ms`; `reply` hears how it ended, once, from a later
/// task. The returned function cancels it (`reply` is not called after that)
/// and returns whether a request was in flight. The delay is a retry
/// backoff, always within 0..=30 s; only the timeout needs the clamp for
/// `setTimeout`.
pub fn attempt(
    endpoint: &JsValue,
    source: &JsValue,
    delay_ms: f64,
    timeout_ms: f64,
    reply: &Reply,
) -> Function {
    attempt_js(
        endpoint,
        source,
        delay_ms,
        timer_delay_ms(timeout_ms),
        reply,
    )
}

/// How an [`attempt`] ended.
pub struct Answer {
    token: Option<String>,
    outcome: u32,
    status: u16,
    body: JsValue,
}

impl Answer {
    /// Reads the report `(outcome << 16 | status, body, token)`.
    pub fn from_js(what: u32, body: JsValue, token: &JsValue) -> Self {
        Answer {
            token: token.as_string(),
            outcome: what >> 16,
            status: what as u16,
            body,
        }
    }

    /// The token it sent; `None` when the source gave none and nothing was sent.
    pub fn sent(&self) -> Option<&str> {
        self.token.as_deref().filter(|_| self.outcome != NO_TOKEN)
    }

    /// The servers, or why the attempt failed (any outcome but [`NO_TOKEN`]).
    pub fn judge(&self) -> Result<ParsedServers, AttemptFailure> {
        let status = self.status;
        match self.outcome {
            0 => parse_response(&json_from_js(&self.body))
                .map_err(|reason| AttemptFailure::Invalid(status, reason)),
            1 => Err(AttemptFailure::Status(status)),
            3 => Err(AttemptFailure::Timeout),
            4 => Err(AttemptFailure::Invalid(status, InvalidResponse::NotJson)),
            _ => Err(AttemptFailure::Network),
        }
    }
}
