//! `PeerManager.preflight()`: the options checked here, with every other
//! `TypeError`; the checks, and what their results mean, are
//! `js/preflight.js`'s.

use super::PeerManager;
use crate::core::preflight::timeout_ms;
use crate::core::usage::UsageError;
use crate::web::convert::{number_option, servers_to_js};
use crate::web::error::type_error;
use crate::web::property::get;
use js_sys::Promise;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/web/js/preflight.js")]
extern "C" {
    /// Once `servers` (an `IceServer[]` or a promise of one) is there, one
    /// check per URL, side by side, each for at most `timeout_ms`: a promise
    /// of the `PreflightReport`.
    #[wasm_bindgen(js_name = preflight)]
    fn run_preflight(servers: &JsValue, timeout_ms: f64) -> Promise;
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
        run_preflight(&servers, timeout_ms)
    }
}
