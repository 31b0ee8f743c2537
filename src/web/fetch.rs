//! One request to the ICE-servers endpoint: `Authorization: Bearer`, a
//! per-attempt timeout that aborts it, and the body parsed by the core.

use super::convert::json_from_js;
use super::timer::Timeout;
use crate::core::error::AttemptFailure;
use crate::core::servers::{parse_response, InvalidResponse, ParsedServers};
use gloo_net::http::Request;
use std::cell::Cell;
use std::rc::Rc;
use web_sys::AbortController;

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
    let failed = || if timed_out.get() { AttemptFailure::Timeout } else { AttemptFailure::Network };

    let authorization = ["Bearer ", token].concat();
    let response = Request::get(endpoint)
        .header("Authorization", &authorization)
        .header("Accept", "application/json")
        .abort_signal(Some(&controller.signal()))
        .send()
        .await
        .map_err(|_| failed())?;
    let status = response.status();
    if !(200..300).contains(&status) {
        return Err(AttemptFailure::Status(status));
    }
    // The body can stall too; the timeout covers it through the same signal.
    let body = response.text().await.map_err(|_| failed())?;
    let json = js_sys::JSON::parse(&body)
        .map_err(|_| AttemptFailure::Invalid(InvalidResponse::NotJson))?;
    parse_response(&json_from_js(&json)).map_err(AttemptFailure::Invalid)
}
