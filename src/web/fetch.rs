//! The ICE-servers request's browser plumbing, in `js/fetch.js`: asking the
//! token source, one attempt (its backoff, the GET with `Authorization:
//! Bearer` and its deadline, the body parsed). What came back is judged here
//! and in the core.

use super::convert::json_from_js;
use super::kinds::{kind, FetchOutcome, ManagerNotify, Reply};
use crate::core::error::AttemptFailure;
use crate::core::retry::timer_delay_ms;
use crate::core::servers::{parse_response, InvalidResponse, ParsedServers};
use js_sys::Function;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/js/fetch.js")]
extern "C" {
    /// See [`read_token`]: the token, or `undefined` (it comes later).
    #[wasm_bindgen(js_name = readToken)]
    fn read_token_js(source: &JsValue, id: u32, done: &ManagerNotify) -> JsValue;

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
/// `(TokenArrived, id, token)` from a later task.
pub fn read_token(source: &JsValue, id: u32, done: &ManagerNotify) -> Option<String> {
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
    outcome: FetchOutcome,
    /// The response's status; 0 when there was no response.
    status: u16,
    body: JsValue,
    token: Option<String>,
}

impl Answer {
    /// Reads the report `(outcome, status, body, token)`; `None` if the
    /// outcome names no [`FetchOutcome`].
    pub fn from_js(
        outcome: &JsValue,
        status: &JsValue,
        body: JsValue,
        token: &JsValue,
    ) -> Option<Self> {
        Some(Answer {
            outcome: kind(outcome)?,
            status: status.as_f64().unwrap_or(0.0) as u16,
            body,
            token: token.as_string(),
        })
    }

    /// The token it sent; `None` when the source gave none and nothing was sent.
    pub fn sent(&self) -> Option<&str> {
        match self.outcome {
            FetchOutcome::NoToken => None,
            _ => self.token.as_deref(),
        }
    }

    /// The servers, or why the attempt failed (any outcome but `NoToken`).
    pub fn judge(&self) -> Result<ParsedServers, AttemptFailure> {
        let status = self.status;
        match self.outcome {
            FetchOutcome::Json => parse_response(&json_from_js(&self.body))
                .map_err(|reason| AttemptFailure::Invalid(status, reason)),
            FetchOutcome::HttpStatus => Err(AttemptFailure::Status(status)),
            FetchOutcome::Timeout => Err(AttemptFailure::Timeout),
            FetchOutcome::NotJson => Err(AttemptFailure::Invalid(status, InvalidResponse::NotJson)),
            FetchOutcome::NetworkError | FetchOutcome::NoToken => Err(AttemptFailure::Network),
        }
    }
}
