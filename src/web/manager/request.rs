//! The one shared request for ICE servers, with its retries: each attempt
//! (`js/fetch.js`) sends the token and aborts after `timeoutMs`, and the
//! core judges what came back; failures are retried after
//! `retry.next_delay`, asking the token source again. The request owns the
//! closures its promises and timers call.

use super::{ManagerInner, Outcome, Source, Waiter};
use crate::core::cache::CachedServers;
use crate::core::error::{AttemptFailure, IceServersError};
use crate::core::servers::ParsedServers;
use crate::web::convert::redacted_to_js;
use crate::web::fetch::{self, Reply};
use crate::web::log::debug;
use crate::web::settle::Continuation;
use crate::web::timer::Timeout;
use crate::web::token::{settled, TokenCall};
use js_sys::Date;
use js_sys::Function;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

/// What a [`Request`] waits on now.
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    /// The token for a retry.
    Token,
    /// The response (headers and body).
    Fetch,
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
    waiters: RefCell<Vec<Waiter>>,
    /// Aborts the attempt in flight (`destroy()`).
    abort: RefCell<Option<Function>>,
    backoff: RefCell<Option<Timeout>>,
    /// The token promise of a retry settled.
    then: Continuation,
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
        let request = Rc::new_cyclic(|me: &Weak<Request>| {
            let (me, again) = (me.clone(), me.clone());
            Request {
                manager: Rc::downgrade(manager),
                joined_by: token.clone(),
                token: RefCell::new(String::new()),
                generation: manager.generation.get(),
                attempts: Cell::new(0),
                stage: Cell::new(Stage::Fetch),
                waiters: RefCell::new(vec![waiter]),
                abort: RefCell::new(None),
                backoff: RefCell::new(None),
                then: Continuation::new(move |outcome| {
                    if let Some(request) = me.upgrade() {
                        request.token_settled(outcome);
                    }
                }),
                reply: Closure::new(move |outcome, status, body: JsValue| {
                    if let Some(request) = again.upgrade() {
                        request.answered(fetch::judge(outcome, status, &body));
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
        self.attempts.set(attempts + 1);
        self.stage.set(Stage::Fetch);
        let abort = fetch::send(
            &manager.endpoint,
            &token,
            manager.limits.timeout_ms,
            &self.reply,
        );
        *self.token.borrow_mut() = token;
        *self.abort.borrow_mut() = Some(abort);
    }

    /// The token promise of a retry settled.
    fn token_settled(self: &Rc<Self>, outcome: Result<JsValue, JsValue>) {
        let Some(manager) = self.manager.upgrade() else {
            return;
        };
        manager.clear_parked();
        if self.stage.get() == Stage::Token {
            self.token_arrived(&manager, settled(outcome));
        }
    }

    /// The attempt in flight ended.
    fn answered(self: &Rc<Self>, outcome: Result<ParsedServers, AttemptFailure>) {
        let Some(manager) = self.manager.upgrade() else {
            return;
        };
        manager.clear_parked();
        self.abort.take();
        match outcome {
            Ok(parsed) => self.succeeded(&manager, parsed),
            Err(failure) => self.failed(&manager, failure),
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
        self.abort.take();
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
            Stage::Fetch => {
                if let Some(abort) = &*self.abort.borrow() {
                    let _ = abort.call0(&JsValue::UNDEFINED);
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
