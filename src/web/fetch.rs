//! One request to the ICE-servers endpoint: `Authorization: Bearer`, a
//! per-attempt timeout that aborts it, and the body parsed by the core.

use super::convert::json_from_js;
use super::timer::Timeout;
use crate::core::error::AttemptFailure;
use crate::core::servers::{parse_response, InvalidResponse, ParsedServers};
use js_sys::Promise;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestInit, Response};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch`, looked up at each call (window or worker; tests may replace it).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(input: &str, init: &RequestInit) -> Promise;
}

/// Sends one GET. `controller` lets the owner (the manager's `destroy()`)
/// abort it too; the timeout aborts it after `timeout_ms`.
pub async fn fetch_servers(
    endpoint: &str,
    token: &str,
    timeout_ms: f64,
    controller: &AbortController,
) -> Result<ParsedServers, AttemptFailure> {
    let timed_out = Rc::new(Cell::new(false));
    let _timeout = {
        let (timed_out, controller) = (timed_out.clone(), controller.clone());
        Timeout::new(timeout_ms, move || {
            timed_out.set(true);
            controller.abort();
        })
    };
    let failed = |_| {
        if timed_out.get() {
            AttemptFailure::Timeout
        } else {
            AttemptFailure::Network
        }
    };

    let headers = Headers::new().map_err(failed)?;
    headers
        .set("Authorization", &["Bearer ", token].concat())
        .map_err(failed)?;
    headers.set("Accept", "application/json").map_err(failed)?;
    let init = RequestInit::new();
    init.set_method("GET");
    init.set_headers(&headers);
    init.set_signal(Some(&controller.signal()));

    let response: Response = JsFuture::from(global_fetch(endpoint, &init))
        .await
        .map_err(failed)?
        .unchecked_into();
    let status = response.status();
    if !(200..300).contains(&status) {
        return Err(AttemptFailure::Status(status));
    }
    // The body can stall too; the timeout covers it through the same signal.
    let body = JsFuture::from(response.text().map_err(failed)?)
        .await
        .map_err(failed)?;
    let json = js_sys::JSON::parse(&body.as_string().unwrap_or_default())
        .map_err(|_| AttemptFailure::Invalid(status, InvalidResponse::NotJson))?;
    parse_response(&json_from_js(&json)).map_err(|reason| AttemptFailure::Invalid(status, reason))
}
