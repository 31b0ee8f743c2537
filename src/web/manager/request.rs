//! The one shared request for ICE servers, with its retries. Each attempt
//! (`js/fetch.js`: the backoff before a retry, the token source asked again,
//! the GET and its deadline) reports through the one closure the request
//! owns; the core judges what came back and whether, and when, to retry.

use super::host::call_taken;
use super::{ManagerInner, Outcome, Source, Waiter};
use crate::core::cache::CachedServers;
use crate::core::error::{AttemptFailure, IceServersError};
use crate::core::servers::ParsedServers;
use crate::web::fetch::{self, Answer};
use crate::web::kinds::Reply;
use crate::web::log::{debug, debug_servers};
use js_sys::{Date, Function};
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

/// One request, with its retries, that every concurrent caller with the
/// same token joins.
pub(super) struct Request {
    /// Strong: the manager stays alive while a request waits on JS (the
    /// reply closure must outlive the call); `finish` breaks the cycle.
    manager: Rc<ManagerInner>,
    /// The first attempt's token: callers with this token join.
    joined_by: String,
    /// `invalidate()` since the start means the result is not cached.
    generation: u32,
    /// Requests sent.
    attempts: Cell<u32>,
    waiters: RefCell<Vec<Waiter>>,
    /// Cancels the attempt under way, whatever it waits on (`destroy()`).
    cancel: RefCell<Option<Function>>,
    /// An attempt ended; reused for every attempt.
    reply: Reply,
}

impl Request {
    /// The first attempt's token: callers with this token join.
    pub(super) fn joined_by(&self) -> &str {
        &self.joined_by
    }

    /// One more caller for the answer.
    pub(super) fn join(&self, waiter: Waiter) {
        self.waiters.borrow_mut().push(waiter);
    }

    pub(super) fn start(manager: &Rc<ManagerInner>, token: String, waiter: Waiter) {
        let first = JsValue::from_str(&token);
        let request = Rc::new_cyclic(|me: &Weak<Request>| {
            let me = me.clone();
            Request {
                manager: manager.clone(),
                joined_by: token,
                generation: manager.generation.get(),
                attempts: Cell::new(0),
                waiters: RefCell::new(vec![waiter]),
                cancel: RefCell::new(None),
                reply: Closure::new(move |outcome: JsValue, status: JsValue, body, token| {
                    let answer = Answer::from_js(&outcome, &status, body, &token);
                    if let (Some(request), Some(answer)) = (me.upgrade(), answer) {
                        request.answered(answer);
                    }
                    JsValue::UNDEFINED
                }),
            }
        });
        manager.requests.borrow_mut().push(request.clone());
        *manager.in_flight.borrow_mut() = Rc::downgrade(&request);
        // The first attempt's token source is the token itself.
        request.send(&first, 0.0);
    }

    /// The next attempt, after `delay_ms`, with a token from `source`.
    fn send(&self, source: &JsValue, delay_ms: f64) {
        let manager = &self.manager;
        let limits = &manager.limits;
        let cancel = fetch::attempt(
            &manager.endpoint,
            source,
            delay_ms,
            limits.timeout_ms,
            &self.reply,
        );
        *self.cancel.borrow_mut() = Some(cancel);
        // A token function may call destroy() before this returns (nothing
        // else ends a request then: answers come from a later task).
        if manager.destroyed.get() {
            call_taken(&self.cancel);
        }
    }

    /// The attempt under way ended.
    fn answered(self: &Rc<Self>, answer: Answer) {
        let manager = &self.manager;
        self.cancel.take();
        let Some(sent) = answer.sent() else {
            let error = IceServersError::no_token(self.attempts.get());
            return self.finish(Err(error));
        };
        self.attempts.set(self.attempts.get() + 1);
        // The token sent comes back with each answer: nothing to keep.
        match answer.judge() {
            Ok(parsed) => self.succeeded(manager, parsed, sent.to_owned()),
            Err(failure) => self.failed(manager, failure, sent),
        }
    }

    fn succeeded(
        self: &Rc<Self>,
        manager: &Rc<ManagerInner>,
        parsed: ParsedServers,
        token: String,
    ) {
        let now = Date::now();
        let limits = &manager.limits;
        let entry = CachedServers::new(
            parsed.servers,
            token,
            now,
            limits.cache_ttl_ms,
            parsed.ttl_secs,
        );
        manager.record(Source::Network, Some(&entry));
        debug_servers(manager.debug, "Fetched ICE servers", &entry.servers);
        let servers = entry.servers.clone();
        if self.generation == manager.generation.get() && !manager.destroyed.get() {
            *manager.cache.borrow_mut() = Some(entry);
            manager.apply_to_peers(&servers);
        }
        self.finish(Ok(servers));
    }

    /// An attempt failed: retry after a backoff, asking the token source
    /// again (a token refreshed meanwhile is the one sent), or give up
    /// (stale-if-error).
    fn failed(self: &Rc<Self>, manager: &Rc<ManagerInner>, failure: AttemptFailure, sent: &str) {
        let attempts = self.attempts.get();
        if manager.destroyed.get() {
            return self.finish(Err(IceServersError::aborted(attempts)));
        }
        let error = IceServersError::after(failure, attempts);
        debug(manager.debug, &error.message(), &JsValue::UNDEFINED);
        match manager.limits.retry.next_delay(attempts, failure) {
            Some(ms) => self.send(&manager.token, ms),
            None => {
                let outcome = manager.stale_or(error, sent);
                self.finish(outcome);
            }
        }
    }

    /// Ends the request: every waiter told, after the state has settled.
    /// Its closure may be the caller and may be dropped here: wasm-bindgen
    /// frees a closure only once no call of it is running.
    fn finish(self: &Rc<Self>, outcome: Outcome) {
        let manager = &self.manager;
        {
            let mut requests = manager.requests.borrow_mut();
            if let Some(at) = requests.iter().position(|r| Rc::ptr_eq(r, self)) {
                requests.remove(at);
            }
        }
        let mut in_flight = manager.in_flight.borrow_mut();
        if std::ptr::eq(in_flight.as_ptr(), Rc::as_ptr(self)) {
            *in_flight = Weak::new();
        }
        drop(in_flight);
        for waiter in &self.waiters.take() {
            waiter.deliver(manager, &outcome);
        }
    }

    /// `destroy()`: nothing more is sent, and every waiter hears "aborted" now.
    /// Only for a request still in `requests`: `finish` removes it.
    pub(super) fn abort(self: &Rc<Self>) {
        // A request in flight when cancelled was sent: it counts.
        if call_taken(&self.cancel) {
            self.attempts.set(self.attempts.get() + 1);
        }
        self.finish(Err(IceServersError::aborted(self.attempts.get())));
    }
}
