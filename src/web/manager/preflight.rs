//! `PeerManager.preflight()`: the checks the core plans for the servers
//! (`core::preflight`), run side by side by `js/preflight.js`, and the
//! report the core concludes from them.

use super::host::{deferred, Settle};
use super::{usable_servers, Outcome, PeerManager, Waiter};
use crate::core::preflight::{plan, timeout_ms, Check, Conclusion};
use crate::core::servers::IceServer;
use crate::core::usage::UsageError;
use crate::web::convert::{number_option, servers_to_js};
use crate::web::error::{ice_servers_error, type_error};
use crate::web::kinds::Callback;
use crate::web::property::get;
use js_sys::{Array, Promise};
use std::cell::RefCell;
use std::rc::Rc;
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
    /// Runs the checks side by side, each for at most `timeout_ms`, and then
    /// `conclude(0, results)`, which returns the core's conclusion from every
    /// check's `PreflightCheck` (in the order planned): a promise of the
    /// `PreflightReport`.
    #[wasm_bindgen(js_name = runChecks)]
    fn run_checks(checks: &Array, timeout_ms: f64, conclude: &Callback) -> Promise;
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
        let (promise, settle) = deferred();
        let Some(timeout_ms) = timeout_ms(number_option(&options, "timeoutMs")) else {
            settle.with(Err(type_error(UsageError::PreflightTimeout)));
            return promise;
        };
        let explicit = get(&options, "iceServers");
        // None: the manager's servers; Some(None): given but unusable.
        let servers = (!explicit.is_null_or_undefined()).then(|| usable_servers(&explicit));
        if let Some(None) = servers {
            settle.with(Err(type_error(UsageError::PreflightIceServers)));
            return promise;
        }
        let run = Rc::new(Preflight {
            settle,
            timeout_ms,
            conclude: RefCell::new(None),
        });
        match servers.flatten() {
            Some(servers) => run.start(&servers),
            None => self.inner.servers_for(Waiter::Preflight(run)),
        }
        promise
    }
}

/// One `preflight()` call from the servers to the report.
pub(super) struct Preflight {
    settle: Settle,
    timeout_ms: f64,
    /// The closure the checks end in. It holds this run and the checks
    /// planned, so they live until the checks are over (each within
    /// `timeout_ms`); then it is dropped, which lets all go.
    conclude: RefCell<Option<Callback>>,
}

impl Preflight {
    /// The manager's servers, or why there are none.
    pub(super) fn servers_arrived(self: Rc<Self>, outcome: &Outcome) {
        match outcome {
            Ok(servers) => self.start(servers),
            Err(error) => self.settle.with(Err(ice_servers_error(error))),
        }
    }

    fn start(self: Rc<Self>, servers: &[IceServer]) {
        let entries = servers_to_js(servers);
        let checks = Array::new();
        let planned = plan(servers);
        for check in &planned {
            checks.push(&planned_check(
                &entries.get(check.server as u32),
                check.url as u32,
                check.kind.as_str(),
                check.transport.as_str(),
            ));
        }
        let run = self.clone();
        let conclude =
            Closure::new(move |_, results: JsValue, _, _| run.conclude(&planned, &results));
        // runChecks concludes from a promise reaction, after `conclude` is stored.
        let report = run_checks(&checks, self.timeout_ms, &conclude);
        *self.conclude.borrow_mut() = Some(conclude);
        self.settle.with(Ok(report.into()));
    }

    /// The verdict and relay transports from the results of the checks planned, in order.
    fn conclude(&self, planned: &[Check], results: &JsValue) -> JsValue {
        let results: &Array = results.unchecked_ref();
        let mut conclusion = Conclusion::default();
        for (at, check) in planned.iter().enumerate() {
            let ok = get(&results.get(at as u32), "ok").is_truthy();
            conclusion.add(check.kind, check.transport, ok);
        }
        let relay_transports = Array::new();
        for transport in conclusion.relay_transports() {
            relay_transports.push(&transport.as_str().into());
        }
        // The run ends: its closure goes (wasm-bindgen frees it once this call returns).
        drop(self.conclude.take());
        conclusion_to_js(conclusion.verdict().as_str(), &relay_transports)
    }
}
