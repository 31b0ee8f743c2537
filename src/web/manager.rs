//! `PeerManager`: ICE servers fetched, cached per token and shared between
//! concurrent callers, and the registry of open peers that use them.

use super::bindings::{PeerManagerOptions, PeerOptions};
use super::convert::{number_option, redacted_to_js, servers_from_js, servers_to_js};
use super::error::{get, ice_servers_error, named_error, set, type_error};
use super::fetch::fetch_servers;
use super::handlers::PeerSetup;
use super::log::debug;
use super::peer::PeerInner;
use super::peer_handle::Peer;
use super::timer::{delay, sleep};
use super::token::TokenSource;
use crate::core::cache::CachedServers;
use crate::core::config::{default_fallback, Limits, RawNumbers, DEFAULT_ENDPOINT};
use crate::core::error::{AttemptFailure, ErrorKind, IceServersError};
use crate::core::servers::IceServer;
use js_sys::{Array, Date, Object, Promise};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};
use web_sys::AbortController;

type Outcome = Result<Vec<IceServer>, IceServersError>;

/// One request (with its retries) that every concurrent caller with the same token awaits.
struct InFlight {
    token: String,
    done: Promise,
    outcome: Rc<RefCell<Option<Outcome>>>,
}

#[derive(Clone, Copy)]
enum Source {
    Network,
    Cache,
    Fallback,
}

/// Contract `IceServersInfo`.
#[derive(Clone, Copy)]
struct Info {
    source: Source,
    fetched_at: Option<f64>,
    expires_at: Option<f64>,
}

/// State shared by the exported handle, its futures and its peers.
pub(crate) struct ManagerInner {
    endpoint: String,
    token: TokenSource,
    limits: Limits,
    fallback: Vec<IceServer>,
    debug: bool,
    cache: RefCell<Option<CachedServers>>,
    /// Bumped by `invalidate()`: a request started before it must not refill the cache.
    generation: Cell<u32>,
    in_flight: RefCell<Option<InFlight>>,
    info: Cell<Option<Info>>,
    requests: RefCell<Vec<AbortController>>,
    /// Strong references to open peers: Firefox collects unreferenced connections mid-call.
    peers: RefCell<Vec<Rc<PeerInner>>>,
    destroyed: Cell<bool>,
}

/// Fetches ICE servers for the signed-in user and creates peers that use them.
#[wasm_bindgen]
pub struct PeerManager {
    inner: Rc<ManagerInner>,
}

#[wasm_bindgen]
impl PeerManager {
    /// Validates the options; throws a `TypeError` naming the first bad one.
    #[wasm_bindgen(constructor)]
    pub fn new(options: PeerManagerOptions) -> Result<PeerManager, JsValue> {
        let options: JsValue = options.into();
        if !options.is_object() {
            return Err(type_error(
                "PeerManager needs an options object with a token",
            ));
        }
        let token = TokenSource::from_js(&get(&options, "token"))
            .ok_or_else(|| type_error("PeerManagerOptions.token must be a string or a function"))?;
        let endpoint = match get(&options, "endpoint") {
            value if value.is_undefined() || value.is_null() => DEFAULT_ENDPOINT.to_owned(),
            value => value
                .as_string()
                .filter(|endpoint| !endpoint.trim().is_empty())
                .ok_or_else(|| {
                    type_error("PeerManagerOptions.endpoint must be a non-empty string")
                })?,
        };
        let raw = RawNumbers {
            cache_ttl_ms: number_option(&options, "cacheTtlMs"),
            retries: number_option(&options, "retries"),
            retry_delay_ms: number_option(&options, "retryDelayMs"),
            timeout_ms: number_option(&options, "timeoutMs"),
            create_peer_wait_ms: number_option(&options, "createPeerWaitMs"),
            restart_attempts: number_option(&options, "restartAttempts"),
            disconnected_timeout_ms: number_option(&options, "disconnectedTimeoutMs"),
            restart_timeout_ms: number_option(&options, "restartTimeoutMs"),
        };
        let limits = Limits::from_raw(&raw).map_err(|error| type_error(&error.to_string()))?;
        let fallback = match get(&options, "fallbackIceServers") {
            value if value.is_undefined() || value.is_null() => default_fallback(),
            value => usable_servers(&value).ok_or_else(|| {
                type_error(
                    "PeerManagerOptions.fallbackIceServers must be an array of usable ICE servers",
                )
            })?,
        };
        Ok(PeerManager {
            inner: Rc::new(ManagerInner {
                endpoint,
                token,
                limits,
                fallback,
                debug: get(&options, "debug").is_truthy(),
                cache: RefCell::new(None),
                generation: Cell::new(0),
                in_flight: RefCell::new(None),
                info: Cell::new(None),
                requests: RefCell::new(Vec::new()),
                peers: RefCell::new(Vec::new()),
                destroyed: Cell::new(false),
            }),
        })
    }

    /// Cached servers while fresh; otherwise one request shared by every
    /// concurrent caller. Rejects with an `IceServersError`.
    #[wasm_bindgen(js_name = getIceServers, unchecked_return_type = "Promise<IceServer[]>")]
    pub fn get_ice_servers(&self) -> Promise {
        self.inner.servers_promise()
    }

    /// Source and freshness of the servers last handed out; null before the first call.
    #[wasm_bindgen(getter, js_name = iceServersInfo, unchecked_return_type = "IceServersInfo | null")]
    pub fn ice_servers_info(&self) -> JsValue {
        let Some(info) = self.inner.info.get() else {
            return JsValue::NULL;
        };
        let out = Object::new();
        let source = match info.source {
            Source::Network => "network",
            Source::Cache => "cache",
            Source::Fallback => "fallback",
        };
        let time = |t: Option<f64>| t.map_or(JsValue::NULL, JsValue::from_f64);
        set(&out, "source", &source.into());
        set(&out, "fetchedAt", &time(info.fetched_at));
        set(&out, "expiresAt", &time(info.expires_at));
        out.into()
    }

    /// Drop the cache (logout, token change).
    pub fn invalidate(&self) {
        self.inner.invalidate();
    }

    /// A new peer; see `PeerOptions.iceServers` for which servers it gets.
    #[wasm_bindgen(js_name = createPeer, unchecked_return_type = "Promise<Peer>")]
    pub fn create_peer(&self, options: PeerOptions) -> Promise {
        let inner = self.inner.clone();
        future_to_promise(async move { inner.create_peer(options.into()).await })
    }

    /// Peers created and not yet closed.
    #[wasm_bindgen(getter, js_name = peerCount)]
    pub fn peer_count(&self) -> u32 {
        self.inner.peers.borrow().len() as u32
    }

    /// Close every peer and cancel pending requests.
    pub fn destroy(&self) {
        self.inner.destroy();
    }
}

/// Normalised servers from the app, `None` when given but unusable.
fn usable_servers(value: &JsValue) -> Option<Vec<IceServer>> {
    let given = Array::is_array(value).then(|| Array::from(value).length())?;
    servers_from_js(value).filter(|servers| given == 0 || !servers.is_empty())
}

impl ManagerInner {
    /// `getIceServers()`: a promise of `IceServer[]` or an `IceServersError`.
    fn servers_promise(self: &Rc<Self>) -> Promise {
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
            return Err(IceServersError::after(AttemptFailure::Network, 0));
        }
        let token = self
            .token
            .current()
            .await
            .ok_or_else(IceServersError::no_token)?;
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
        result.unwrap_or_else(|| Err(IceServersError::after(AttemptFailure::Network, 0)))
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
                let result = inner.fetch_with_retries(&token).await;
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

    async fn fetch_with_retries(self: &Rc<Self>, token: &str) -> Outcome {
        let generation = self.generation.get();
        let mut attempts = 0;
        loop {
            let controller = AbortController::new()
                .map_err(|_| IceServersError::after(AttemptFailure::Network, attempts))?;
            attempts += 1;
            self.requests.borrow_mut().push(controller.clone());
            let result =
                fetch_servers(&self.endpoint, token, self.limits.timeout_ms, &controller).await;
            self.requests
                .borrow_mut()
                .retain(|c| !Object::is(c, &controller));
            let failure = match result {
                Ok(parsed) => {
                    let now = Date::now();
                    let entry = CachedServers::new(
                        parsed.servers,
                        token.to_owned(),
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
                return Err(IceServersError::after(failure, attempts));
            }
            let error = IceServersError::after(failure, attempts);
            debug(self.debug, &error.to_string(), &JsValue::UNDEFINED);
            match self.limits.retry.next_delay(attempts, failure) {
                Some(ms) => sleep(ms).await,
                None => return self.stale_or(error, token),
            }
        }
    }

    /// Stale-if-error: cached credentials still inside their `ttl` beat an
    /// error, except a rejected token, which the app must hear about.
    fn stale_or(&self, error: IceServersError, token: &str) -> Outcome {
        let cache = self.cache.borrow();
        match cache
            .as_ref()
            .filter(|c| error.kind != ErrorKind::Unauthorized && c.is_valid_for(token, Date::now()))
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

    fn record(&self, source: Source, entry: Option<&CachedServers>) {
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

    /// Fresh servers reach every open peer that uses the manager's servers.
    fn apply_to_peers(&self, servers: &[IceServer]) {
        let peers: Vec<Rc<PeerInner>> = self.peers.borrow().clone();
        for peer in peers.iter().filter(|p| p.uses_manager_servers()) {
            peer.apply_servers(servers);
        }
    }

    /// The manager's servers if they come within `createPeerWaitMs`, else the
    /// fallback; servers that arrive later are applied to `late` peers.
    async fn servers_for_new_peer(self: &Rc<Self>) -> (Vec<IceServer>, Option<Promise>) {
        let fetch = self.servers_promise();
        let race = Promise::race(&Array::of2(&fetch, &delay(self.limits.create_peer_wait_ms)));
        let (servers, late) = match JsFuture::from(race).await {
            Ok(value) if Array::is_array(&value) => {
                (servers_from_js(&value).unwrap_or_default(), None)
            }
            Ok(_) => (Vec::new(), Some(fetch)),
            Err(error) => {
                debug(
                    self.debug,
                    "No ICE servers; using the fallback",
                    &get(&error, "message"),
                );
                (Vec::new(), None)
            }
        };
        if servers.is_empty() {
            self.info.set(Some(Info {
                source: Source::Fallback,
                fetched_at: None,
                expires_at: None,
            }));
            return (self.fallback.clone(), late);
        }
        (servers, None)
    }

    async fn create_peer(self: Rc<Self>, options: JsValue) -> Result<JsValue, JsValue> {
        let mut setup = PeerSetup::from_js(&options)?;
        if self.destroyed.get() {
            return Err(named_error(
                "InvalidStateError",
                "PeerManager was destroyed",
            ));
        }
        let explicit = setup
            .explicit_servers
            .take()
            .filter(|servers| !servers.is_empty());
        let uses_manager = explicit.is_none();
        let (servers, late) = match explicit {
            Some(servers) => (servers, None),
            None => self.servers_for_new_peer().await,
        };
        if self.destroyed.get() {
            return Err(named_error(
                "InvalidStateError",
                "PeerManager was destroyed",
            ));
        }
        debug(
            self.debug,
            "Creating peer with ICE servers",
            &redacted_to_js(&servers),
        );
        let peer = PeerInner::create(
            Rc::downgrade(&self),
            setup,
            &servers,
            uses_manager,
            self.debug,
            self.limits.recovery,
        )?;
        self.peers.borrow_mut().push(peer.clone());
        if let Some(late) = late {
            let weak = Rc::downgrade(&peer);
            spawn_local(async move {
                if let (Ok(value), Some(peer)) = (JsFuture::from(late).await, weak.upgrade()) {
                    if let Some(servers) = servers_from_js(&value).filter(|s| !s.is_empty()) {
                        peer.apply_servers(&servers);
                    }
                }
            });
        }
        peer.start();
        Ok(Peer::into_js(peer))
    }

    /// Called by a peer as it closes.
    pub(crate) fn forget_peer(&self, peer: &PeerInner) {
        self.peers
            .borrow_mut()
            .retain(|p| !std::ptr::eq(Rc::as_ptr(p), peer));
    }

    fn destroy(&self) {
        self.destroyed.set(true);
        for controller in self.requests.take() {
            controller.abort();
        }
        self.invalidate();
        let peers = self.peers.take();
        for peer in peers {
            peer.close();
        }
    }
}
