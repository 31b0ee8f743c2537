//! The one shared request for ICE servers, with its retries: each attempt
//! sends the token, aborts after `timeoutMs`, and hands the body to the
//! core; failures are retried after `retry.next_delay`, asking the token
//! source again. The request owns the closures its promises and timers call.

use super::{ManagerInner, Outcome, Source, Waiter};
use crate::core::cache::CachedServers;
use crate::core::error::{AttemptFailure, IceServersError};
use crate::core::servers::ParsedServers;
use crate::web::convert::redacted_to_js;
use crate::web::fetch;
use crate::web::log::debug;
use crate::web::settle::Continuation;
use crate::web::timer::Timeout;
use crate::web::token::{settled, TokenCall};
use js_sys::Date;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortController, Response};

/// What a [`Request`] waits on now.
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    /// The token for a retry.
    Token,
    /// The response headers.
    Fetch,
    /// The response body.
    Body,
    Backoff,
    Done,
}

/// One request, with its retries, that every concurrent caller with the
/// same token joins.
pub(super) struct Request {
    manager: Weak<ManagerInner>,
    /// The first attempt's token: callers with this token join.
    joined_by: String,
    /// The token the current attempt sent.
    token: RefCell<String>,
    /// `invalidate()` since the start means the result is not cached.
    generation: u32,
    attempts: Cell<u32>,
    stage: Cell<Stage>,
    status: Cell<u16>,
    waiters: RefCell<Vec<Waiter>>,
    controller: RefCell<Option<AbortController>>,
    timed_out: Cell<bool>,
    /// Aborts the attempt after `timeoutMs` (headers and body alike).
    deadline: RefCell<Option<Timeout>>,
    backoff: RefCell<Option<Timeout>>,
    then: Continuation,
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
        let request = Rc::new_cyclic(|me: &Weak<Request>| {
            let me = me.clone();
            Request {
                manager: Rc::downgrade(manager),
                joined_by: token.clone(),
                token: RefCell::new(String::new()),
                generation: manager.generation.get(),
                attempts: Cell::new(0),
                stage: Cell::new(Stage::Fetch),
                status: Cell::new(0),
                waiters: RefCell::new(vec![waiter]),
                controller: RefCell::new(None),
                timed_out: Cell::new(false),
                deadline: RefCell::new(None),
                backoff: RefCell::new(None),
                then: Continuation::new(move |outcome| {
                    if let Some(request) = me.upgrade() {
                        request.settled(outcome);
                    }
                }),
            }
        });
        manager.requests.borrow_mut().push(request.clone());
        *manager.in_flight.borrow_mut() = Some(request.clone());
        manager.hold();
        request.attempt(manager, token);
    }

    fn attempt(self: &Rc<Self>, manager: &Rc<ManagerInner>, token: String) {
        let attempts = self.attempts.get();
        if manager.destroyed.get() {
            return self.finish(manager, Err(IceServersError::aborted(attempts)));
        }
        let Ok(controller) = AbortController::new() else {
            let error = IceServersError::after(AttemptFailure::Network, attempts);
            return self.finish(manager, Err(error));
        };
        self.attempts.set(attempts + 1);
        self.timed_out.set(false);
        let sent = fetch::send(&manager.endpoint, &token, &controller.signal());
        *self.token.borrow_mut() = token;
        *self.controller.borrow_mut() = Some(controller);
        let Ok(response) = sent else {
            return self.failed(manager, AttemptFailure::Network);
        };
        let me = Rc::downgrade(self);
        *self.deadline.borrow_mut() = Some(Timeout::new(manager.limits.timeout_ms, move || {
            if let Some(request) = me.upgrade() {
                request.timed_out.set(true);
                if let Some(controller) = &*request.controller.borrow() {
                    controller.abort();
                }
            }
        }));
        self.stage.set(Stage::Fetch);
        self.then.wait(&response);
    }

    fn lost(&self) -> AttemptFailure {
        if self.timed_out.get() {
            AttemptFailure::Timeout
        } else {
            AttemptFailure::Network
        }
    }

    /// The promise of the current stage settled.
    fn settled(self: &Rc<Self>, outcome: Result<JsValue, JsValue>) {
        let Some(manager) = self.manager.upgrade() else {
            return;
        };
        manager.clear_parked();
        match self.stage.get() {
            Stage::Token => self.token_arrived(&manager, settled(outcome)),
            Stage::Fetch => {
                let Ok(response) = outcome.map(JsCast::unchecked_into::<Response>) else {
                    return self.failed(&manager, self.lost());
                };
                let status = response.status();
                self.status.set(status);
                if !(200..300).contains(&status) {
                    return self.failed(&manager, AttemptFailure::Status(status));
                }
                match response.text() {
                    Ok(body) => {
                        self.stage.set(Stage::Body);
                        self.then.wait(&body);
                    }
                    Err(_) => self.failed(&manager, self.lost()),
                }
            }
            Stage::Body => {
                let parsed = outcome
                    .map_err(|_| self.lost())
                    .and_then(|body| fetch::parse(self.status.get(), &body));
                match parsed {
                    Ok(parsed) => self.succeeded(&manager, parsed),
                    Err(failure) => self.failed(&manager, failure),
                }
            }
            Stage::Backoff | Stage::Done => {}
        }
    }

    fn succeeded(self: &Rc<Self>, manager: &Rc<ManagerInner>, parsed: ParsedServers) {
        let now = Date::now();
        let token = self.token.borrow().clone();
        let limits = &manager.limits;
        let entry = CachedServers::new(
            parsed.servers,
            token,
            now,
            limits.cache_ttl_ms,
            parsed.ttl_secs,
        );
        manager.record(Source::Network, Some(&entry));
        debug(
            manager.debug,
            "Fetched ICE servers",
            &redacted_to_js(&entry.servers),
        );
        let servers = entry.servers.clone();
        if self.generation == manager.generation.get() && !manager.destroyed.get() {
            *manager.cache.borrow_mut() = Some(entry);
            manager.apply_to_peers(&servers);
        }
        self.finish(manager, Ok(servers));
    }

    /// An attempt failed: retry after a backoff, or give up (stale-if-error).
    fn failed(self: &Rc<Self>, manager: &Rc<ManagerInner>, failure: AttemptFailure) {
        drop(self.deadline.take());
        self.controller.take();
        let attempts = self.attempts.get();
        if manager.destroyed.get() {
            return self.finish(manager, Err(IceServersError::aborted(attempts)));
        }
        let error = IceServersError::after(failure, attempts);
        debug(manager.debug, &error.message(), &JsValue::UNDEFINED);
        let Some(ms) = manager.limits.retry.next_delay(attempts, failure) else {
            let outcome = manager.stale_or(error, &self.token.borrow());
            return self.finish(manager, outcome);
        };
        self.stage.set(Stage::Backoff);
        let me = Rc::downgrade(self);
        let timer = Timeout::new(ms, move || {
            if let Some(request) = me.upgrade() {
                request.backoff_over();
            }
        });
        // The old timer's closure may be the caller (a retry that failed at once).
        if let Some(old) = self.backoff.replace(Some(timer)) {
            manager.park(Box::new(old));
        }
    }

    /// The token source is asked again, so a token refreshed during the
    /// backoff is the one sent.
    fn backoff_over(self: &Rc<Self>) {
        let Some(manager) = self.manager.upgrade() else {
            return;
        };
        manager.clear_parked();
        self.stage.set(Stage::Token);
        match manager.token.call() {
            TokenCall::Ready(token) => self.token_arrived(&manager, token),
            TokenCall::Later(promise) => self.then.wait(&promise),
        }
    }

    fn token_arrived(self: &Rc<Self>, manager: &Rc<ManagerInner>, token: Option<String>) {
        let attempts = self.attempts.get();
        match token {
            _ if manager.destroyed.get() => {
                self.finish(manager, Err(IceServersError::aborted(attempts)))
            }
            Some(token) => self.attempt(manager, token),
            None => self.finish(manager, Err(IceServersError::no_token(attempts))),
        }
    }

    /// Ends the request: parked, and every waiter told, after the state has settled.
    fn finish(self: &Rc<Self>, manager: &Rc<ManagerInner>, outcome: Outcome) {
        self.stage.set(Stage::Done);
        drop(self.deadline.take());
        self.controller.take();
        if let Some(backoff) = &*self.backoff.borrow() {
            backoff.cancel();
        }
        manager
            .requests
            .borrow_mut()
            .retain(|r| !Rc::ptr_eq(r, self));
        {
            let mut in_flight = manager.in_flight.borrow_mut();
            if in_flight.as_ref().is_some_and(|r| Rc::ptr_eq(r, self)) {
                *in_flight = None;
            }
        }
        manager.park(Box::new(self.clone()));
        for waiter in self.waiters.take() {
            waiter.deliver(manager, &outcome);
        }
        manager.release();
    }

    /// `destroy()`: nothing more is sent, and every waiter hears "aborted".
    pub(super) fn abort(self: &Rc<Self>, manager: &Rc<ManagerInner>) {
        let aborted = Err(IceServersError::aborted(self.attempts.get()));
        match self.stage.get() {
            // The rejection that follows finishes it.
            Stage::Fetch | Stage::Body => {
                if let Some(controller) = &*self.controller.borrow() {
                    controller.abort();
                }
            }
            Stage::Backoff => self.finish(manager, aborted),
            // The token promise still holds our closures: tell the waiters
            // now, finish when it settles.
            Stage::Token => {
                for waiter in self.waiters.take() {
                    waiter.deliver(manager, &aborted);
                }
            }
            Stage::Done => {}
        }
    }
}
