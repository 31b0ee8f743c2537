//! `PeerManager.preflight()`: `js/preflight.js` runs the checks side by
//! side; which checks, and what their results mean, it asks the core
//! (`core::preflight`) through the manager's callback.

use super::PeerManager;
use crate::core::preflight::{kind_of, plan, timeout_ms, Conclusion};
use crate::core::usage::UsageError;
use crate::web::convert::{number_option, servers_from_js, servers_to_js};
use crate::web::error::type_error;
use crate::web::kinds::ManagerNotify;
use crate::web::property::get;
use js_sys::{Array, Promise};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/js/preflight.js")]
extern "C" {
    /// `{ server, url, kind, transport }`: one planned check, of the URL at
    /// `url_index` in the entry's `urls`; `server` the entry with that URL alone.
    #[wasm_bindgen(js_name = plannedCheck)]
    fn planned_check(server: &JsValue, url_index: u32, kind: &str, transport: &str) -> JsValue;
    /// `{ verdict, relayTransports }`.
    #[wasm_bindgen(js_name = conclusion)]
    fn conclusion_to_js(verdict: &str, relay_transports: &Array) -> JsValue;
    /// Once `servers` (an `IceServer[]` or a promise of one) is there: the
    /// checks `notify` plans for them (`ManagerEvent::PreflightPlan`), side
    /// by side, each for at most `timeout_ms`, and the report with the
    /// conclusion `notify` draws from their results (`PreflightOver`).
    #[wasm_bindgen(js_name = preflight)]
    fn run_preflight(servers: &JsValue, timeout_ms: f64, notify: &ManagerNotify) -> Promise;
}

#[wasm_bindgen]
impl PeerManager {
    /// A connectivity test from this browser: for every URL of every server
    /// (the manager's, fetched as `getIceServers()` does, unless `iceServers`
    /// is given), whether it answers. Checks run side by side, none longer
    /// than `timeoutMs` (default 5000). Never rejects for a failing server:
    /// failures are in the report, which holds no credential. Rejects with an
    /// `IceServersError` when the manager's servers cannot be fetched, and a
    /// `TypeError` for bad options.
    #[wasm_bindgen(unchecked_return_type = "Promise<PreflightReport>")]
    pub fn preflight(
        &self,
        #[wasm_bindgen(unchecked_optional_param_type = "PreflightOptions")] options: JsValue,
    ) -> Promise {
        let Some(timeout_ms) = timeout_ms(number_option(&options, "timeoutMs")) else {
            return Promise::reject(&type_error(UsageError::PreflightTimeout));
        };
        let explicit = get(&options, "iceServers");
        let servers: JsValue = if explicit.is_null_or_undefined() {
            self.inner.servers_promise().into()
        } else {
            match super::usable_servers(&explicit) {
                Some(servers) => servers_to_js(&servers).into(),
                None => return Promise::reject(&type_error(UsageError::PreflightIceServers)),
            }
        };
        run_preflight(&servers, timeout_ms, &self.inner.events)
    }
}

/// `ManagerEvent::PreflightPlan`: the checks for `servers`, in the order
/// planned. `servers` is normalised already (`preflight` above made it), so
/// normalising it again keeps every entry where it is, and the plan's
/// indexes point into it.
pub(super) fn checks_for(servers: &JsValue) -> JsValue {
    let entries: &Array = servers.unchecked_ref();
    let checks = Array::new();
    for check in plan(&servers_from_js(servers).unwrap_or_default()) {
        checks.push(&planned_check(
            &entries.get(check.server as u32),
            check.url as u32,
            check.kind.as_str(),
            check.transport.as_str(),
        ));
    }
    checks.into()
}

/// `ManagerEvent::PreflightOver`: the verdict and relay transports from the
/// checks' results (`PreflightCheck[]`).
pub(super) fn conclusion(results: &JsValue) -> JsValue {
    let results: &Array = results.unchecked_ref();
    let mut conclusion = Conclusion::default();
    for at in 0..results.length() {
        let result = results.get(at);
        let url = get(&result, "url").as_string().unwrap_or_default();
        if let Some((kind, transport)) = kind_of(&url) {
            conclusion.add(kind, transport, get(&result, "ok").is_truthy());
        }
    }
    let relay_transports = Array::new();
    for transport in conclusion.relay_transports() {
        relay_transports.push(&transport.as_str().into());
    }
    conclusion_to_js(conclusion.verdict().as_str(), &relay_transports)
}
