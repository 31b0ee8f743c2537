//! The ICE-server half of the manager: the token-bound cache, one shared
//! request (with its retries) for concurrent callers, and stale-if-error.
//!
//! No futures. JS calls back through closures owned by what waits: the
//! manager's `events` (for callers whose token source returned a promise)
//! and each [`Request`]'s attempt reply. Cancelled work never calls
//! back. A request may be dropped from inside its own reply: wasm-bindgen
//! frees a closure's environment only after every running call of it has
//! returned. While anything waits, the manager is kept alive (each request and
//! token lookup holds it), as a future would have.

use super::host::deferred;
use super::request::Request;
use super::{Info, ManagerInner, Outcome, Source, Waiter};
use crate::core::cache::CachedServers;
use crate::core::error::{ErrorKind, IceServersError};
use crate::core::servers::IceServer;
use crate::web::fetch;
use crate::web::log::debug;
use js_sys::{Date, Promise};
use std::rc::{Rc, Weak};
use wasm_bindgen::JsValue;

/// A caller whose token source returned a promise, by lookup id; the waiter
/// is taken by `destroy()`, the entry stays until the promise settles, and
/// keeps the manager (whose `events` the promise calls) alive till then.
pub(super) type Lookup = (u32, Option<Waiter>, Rc<ManagerInner>);

impl ManagerInner {
    /// `getIceServers()`: a promise of `IceServer[]` or an `IceServersError`.
    pub(super) fn servers_promise(self: &Rc<Self>) -> Promise {
        let (promise, settle) = deferred();
        self.servers_for(Waiter::Promise(settle));
        promise
    }

    /// Servers for `waiter`: cached, from the shared request, or fetched. A
    /// cache hit or an immediate failure is delivered before this returns.
    pub(super) fn servers_for(self: &Rc<Self>, waiter: Waiter) {
        if self.destroyed.get() {
            return waiter.fail(self, ErrorKind::Aborted);
        }
        let id = self.next_lookup.get().wrapping_add(1);
        self.next_lookup.set(id);
        match fetch::read_token(&self.token, id, &self.events) {
            Some(token) => self.servers_with_token(token, waiter),
            None => self
                .lookups
                .borrow_mut()
                .push((id, Some(waiter), self.clone())),
        }
    }

    /// The token promise of lookup `id` settled ("" for no token).
    pub(super) fn token_arrived(self: &Rc<Self>, id: u32, token: String) {
        let waiter = {
            let mut lookups = self.lookups.borrow_mut();
            let found = lookups.iter().position(|(pending, ..)| *pending == id);
            found.and_then(|at| lookups.remove(at).1)
        };
        if let Some(waiter) = waiter {
            self.servers_with_token(token, waiter);
        }
    }

    fn servers_with_token(self: &Rc<Self>, token: String, waiter: Waiter) {
        if self.destroyed.get() {
            return waiter.fail(self, ErrorKind::Aborted);
        }
        if token.is_empty() {
            return waiter.fail(self, ErrorKind::NoToken);
        }
        let cached = match &*self.cache.borrow() {
            Some(entry) if entry.is_fresh_for(&token, Date::now()) => {
                self.record(Source::Cache, Some(entry));
                Some(entry.servers.clone())
            }
            _ => None,
        };
        if let Some(servers) = cached {
            return waiter.deliver(self, &Ok(servers));
        }
        let in_flight = self.in_flight.borrow().upgrade();
        match in_flight.filter(|request| request.joined_by() == token) {
            Some(request) => request.join(waiter),
            None => Request::start(self, token, waiter),
        }
    }

    /// `destroy()`: every request and token lookup ends for its waiters.
    pub(super) fn abort_requests(self: &Rc<Self>) {
        // One at a time, no copy of the lists: an aborted request leaves
        // `requests` as it finishes, and a lookup's waiter is taken.
        loop {
            let next = self.requests.borrow().first().cloned();
            let Some(request) = next else { break };
            request.abort();
        }
        loop {
            let next =
                (self.lookups.borrow_mut().iter_mut()).find_map(|(_, waiter, _)| waiter.take());
            let Some(waiter) = next else { break };
            waiter.fail(self, ErrorKind::Aborted);
        }
    }

    /// Stale-if-error, as the contract has it: when a refresh fails for any
    /// reason, cached credentials of the same token still inside their `ttl`
    /// are returned. They are the server's own, still valid, and handing them
    /// out again reveals nothing the app did not already have.
    pub(super) fn stale_or(&self, error: IceServersError, token: &str) -> Outcome {
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
            fetched_at: entry.map_or(f64::NAN, |e| e.fetched_at_ms),
            expires_at: entry.map_or(f64::NAN, |e| e.fresh_until_ms),
        }));
    }

    /// Drops the cache; a request under way still answers those who joined
    /// it, but is not joined again and does not refill the cache.
    pub(crate) fn invalidate(&self) {
        self.generation.set(self.generation.get().wrapping_add(1));
        self.cache.borrow_mut().take();
        *self.in_flight.borrow_mut() = Weak::new();
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
