//! The ICE-server half of the manager: the token-bound cache, one shared
//! request for concurrent callers, retries, and stale-if-error.

use super::convert::{redacted_to_js, servers_to_js};
use super::error::ice_servers_error;
use super::fetch::fetch_servers;
use super::log::debug;
use super::manager::ManagerInner;
use super::timer::wakeable_delay;
use crate::core::cache::CachedServers;
use crate::core::error::{AttemptFailure, IceServersError};
use crate::core::servers::IceServer;
use js_sys::{Date, Object, Promise};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::{future_to_promise, JsFuture};
use web_sys::AbortController;

pub(super) type Outcome = Result<Vec<IceServer>, IceServersError>;

/// One request (with its retries) that every concurrent caller with the same token awaits.
pub(super) struct InFlight {
    token: String,
    done: Promise,
    outcome: Rc<RefCell<Option<Outcome>>>,
}

#[derive(Clone, Copy)]
pub(super) enum Source {
    Network,
    Cache,
    Fallback,
}

/// Contract `IceServersInfo`.
#[derive(Clone, Copy)]
pub(super) struct Info {
    pub(super) source: Source,
    pub(super) fetched_at: Option<f64>,
    pub(super) expires_at: Option<f64>,
}

impl ManagerInner {
    /// `getIceServers()`: a promise of `IceServer[]` or an `IceServersError`.
    pub(super) fn servers_promise(self: &Rc<Self>) -> Promise {
        let inner = self.clone();
        future_to_promise(async move {
            match inner.servers().await {
                Ok(servers) => Ok(servers_to_js(&servers).into()),
                Err(error) => Err(ice_servers_error(&error)),
            }
        })
    }

    /// The servers for the current token: cached, shared in-flight, or fetched.
    pub(crate) async fn servers(self: &Rc<Self>) -> Outcome {
        if self.destroyed.get() {
            return Err(IceServersError::aborted(0));
        }
        let token = self
            .token
            .current()
            .await
            .ok_or(IceServersError::no_token(0))?;
        let cached = self
            .cache
            .borrow()
            .as_ref()
            .filter(|c| c.is_fresh_for(&token, Date::now()))
            .cloned();
        if let Some(cached) = cached {
            self.record(Source::Cache, Some(&cached));
            return Ok(cached.servers);
        }
        let (done, outcome) = self.join_or_start(token);
        let _ = JsFuture::from(done).await;
        let result = outcome.borrow().clone();
        result.unwrap_or_else(|| Err(IceServersError::aborted(0)))
    }

    fn join_or_start(self: &Rc<Self>, token: String) -> (Promise, Rc<RefCell<Option<Outcome>>>) {
        if let Some(flight) = self
            .in_flight
            .borrow()
            .as_ref()
            .filter(|f| f.token == token)
        {
            return (flight.done.clone(), flight.outcome.clone());
        }
        let outcome = Rc::new(RefCell::new(None));
        let done = future_to_promise({
            let (inner, outcome, token) = (self.clone(), outcome.clone(), token.clone());
            async move {
                let result = inner.fetch_with_retries(token).await;
                *outcome.borrow_mut() = Some(result);
                let mut in_flight = inner.in_flight.borrow_mut();
                if in_flight
                    .as_ref()
                    .is_some_and(|f| Rc::ptr_eq(&f.outcome, &outcome))
                {
                    *in_flight = None;
                }
                Ok(JsValue::UNDEFINED)
            }
        });
        *self.in_flight.borrow_mut() = Some(InFlight {
            token,
            done: done.clone(),
            outcome: outcome.clone(),
        });
        (done, outcome)
    }

    /// Attempts until success, a failure not worth retrying, or `retries`
    /// spent. The token source is asked again before every retry, so a token
    /// refreshed during the backoff is the one sent.
    async fn fetch_with_retries(self: &Rc<Self>, mut token: String) -> Outcome {
        let generation = self.generation.get();
        let mut attempts = 0;
        loop {
            // Also after every backoff: destroy() wakes it, and no request follows.
            if self.destroyed.get() {
                return Err(IceServersError::aborted(attempts));
            }
            if attempts > 0 {
                token = self
                    .token
                    .current()
                    .await
                    .ok_or(IceServersError::no_token(attempts))?;
            }
            let controller = AbortController::new()
                .map_err(|_| IceServersError::after(AttemptFailure::Network, attempts))?;
            attempts += 1;
            self.requests.borrow_mut().push(controller.clone());
            let result =
                fetch_servers(&self.endpoint, &token, self.limits.timeout_ms, &controller).await;
            self.requests
                .borrow_mut()
                .retain(|c| !Object::is(c, &controller));
            let failure = match result {
                Ok(parsed) => {
                    let now = Date::now();
                    let entry = CachedServers::new(
                        parsed.servers,
                        token.clone(),
                        now,
                        self.limits.cache_ttl_ms,
                        parsed.ttl_secs,
                    );
                    self.record(Source::Network, Some(&entry));
                    debug(
                        self.debug,
                        "Fetched ICE servers",
                        &redacted_to_js(&entry.servers),
                    );
                    let servers = entry.servers.clone();
                    if generation == self.generation.get() && !self.destroyed.get() {
                        *self.cache.borrow_mut() = Some(entry);
                        self.apply_to_peers(&servers);
                    }
                    return Ok(servers);
                }
                Err(failure) => failure,
            };
            if self.destroyed.get() {
                return Err(IceServersError::aborted(attempts));
            }
            let error = IceServersError::after(failure, attempts);
            debug(self.debug, &error.message(), &JsValue::UNDEFINED);
            match self.limits.retry.next_delay(attempts, failure) {
                Some(ms) => self.backoff(ms).await,
                None => return self.stale_or(error, &token),
            }
        }
    }

    /// Waits `ms` before a retry; `destroy()` ends the wait at once.
    async fn backoff(&self, ms: f64) {
        let (delay, wake) = wakeable_delay(ms);
        self.backoffs.borrow_mut().push(wake.clone());
        let _ = JsFuture::from(delay).await;
        self.backoffs.borrow_mut().retain(|w| !Object::is(w, &wake));
    }

    /// Stale-if-error, as the contract has it: when a refresh fails for any
    /// reason, cached credentials of the same token still inside their `ttl`
    /// are returned. They are the server's own, still valid, and handing them
    /// out again reveals nothing the app did not already have.
    fn stale_or(&self, error: IceServersError, token: &str) -> Outcome {
        let cache = self.cache.borrow();
        match cache
            .as_ref()
            .filter(|c| c.is_valid_for(token, Date::now()))
        {
            Some(cached) => {
                self.record(Source::Cache, Some(cached));
                debug(
                    self.debug,
                    "Refresh failed; using cached ICE servers inside their ttl",
                    &JsValue::UNDEFINED,
                );
                Ok(cached.servers.clone())
            }
            None => Err(error),
        }
    }

    pub(super) fn record(&self, source: Source, entry: Option<&CachedServers>) {
        self.info.set(Some(Info {
            source,
            fetched_at: entry.map(|e| e.fetched_at_ms),
            expires_at: entry.map(|e| e.fresh_until_ms),
        }));
    }

    pub(crate) fn invalidate(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        self.cache.borrow_mut().take();
        self.in_flight.borrow_mut().take();
    }

    /// TURN refused `rejected`: drop the cache if it still holds them. Unlike
    /// `invalidate()` this keeps a request in flight, so that every peer that
    /// saw the same 401 waits for one refetch.
    pub(crate) fn reject(&self, rejected: &[IceServer]) {
        let mut cache = self.cache.borrow_mut();
        if cache.as_ref().is_some_and(|c| c.servers == rejected) {
            *cache = None;
        }
    }
}
