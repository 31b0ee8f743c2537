//! `PeerManager`: ICE servers fetched, cached per token and shared between
//! concurrent callers, and the registry of open peers that use them.

use super::bindings::{PeerManagerOptions, PeerOptions};
use super::convert::{number_option, redacted_to_js, servers_from_js};
use super::error::{get, named_error, set, type_error};
use super::handlers::PeerSetup;
use super::ice_servers::{InFlight, Info, Source};
use super::log::debug;
use super::peer::PeerInner;
use super::peer_handle::Peer;
use super::peer_host::PeerHost;
use super::timer::delay;
use super::token::TokenSource;
use crate::core::cache::CachedServers;
use crate::core::config::{default_fallback, Limits, RawNumbers, DEFAULT_ENDPOINT};
use crate::core::servers::IceServer;
use js_sys::{Array, Object, Promise};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, spawn_local, JsFuture};
use web_sys::AbortController;

/// State shared by the exported handle, its futures and its peers.
pub(crate) struct ManagerInner {
    pub(super) endpoint: String,
    pub(super) token: TokenSource,
    pub(super) limits: Limits,
    pub(super) fallback: Vec<IceServer>,
    pub(super) debug: bool,
    pub(super) cache: RefCell<Option<CachedServers>>,
    /// Bumped by `invalidate()`: a request started before it must not refill the cache.
    pub(super) generation: Cell<u32>,
    pub(super) in_flight: RefCell<Option<InFlight>>,
    pub(super) info: Cell<Option<Info>>,
    pub(super) requests: RefCell<Vec<AbortController>>,
    /// The `resolve` of every retry backoff under way, so `destroy()` can end them.
    pub(super) backoffs: RefCell<Vec<js_sys::Function>>,
    /// Strong references to open peers: Firefox collects unreferenced connections mid-call.
    pub(super) peers: RefCell<Vec<Rc<PeerInner>>>,
    pub(super) destroyed: Cell<bool>,
    me: std::rc::Weak<ManagerInner>,
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
            value if value.is_null_or_undefined() => DEFAULT_ENDPOINT.to_owned(),
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
        let limits = Limits::from_raw(&raw).map_err(|error| type_error(&error.message()))?;
        let fallback = match get(&options, "fallbackIceServers") {
            value if value.is_null_or_undefined() => default_fallback(),
            value => usable_servers(&value).ok_or_else(|| {
                type_error(
                    "PeerManagerOptions.fallbackIceServers must be an array of usable ICE servers",
                )
            })?,
        };
        Ok(PeerManager {
            inner: Rc::new_cyclic(|me| ManagerInner {
                me: me.clone(),
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
                backoffs: RefCell::new(Vec::new()),
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
    /// Fresh servers reach every open peer that uses the manager's servers.
    pub(super) fn apply_to_peers(&self, servers: &[IceServer]) {
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
            self.record(Source::Fallback, None);
            return (self.fallback.clone(), late);
        }
        (servers, None)
    }

    async fn create_peer(self: Rc<Self>, options: JsValue) -> Result<JsValue, JsValue> {
        let mut setup = PeerSetup::from_js(&options)?;
        self.ensure_alive()?;
        let explicit = setup
            .explicit_servers
            .take()
            .filter(|servers| !servers.is_empty());
        let uses_manager = explicit.is_none();
        let (servers, late) = match explicit {
            Some(servers) => (servers, None),
            None => self.servers_for_new_peer().await,
        };
        self.ensure_alive()?;
        debug(
            self.debug,
            "Creating peer with ICE servers",
            &redacted_to_js(&servers),
        );
        let host: std::rc::Weak<dyn PeerHost> = Rc::downgrade(&self) as _;
        let peer = PeerInner::create(
            host,
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

    /// No new peer after `destroy()`, also not one whose servers were awaited across it.
    fn ensure_alive(&self) -> Result<(), JsValue> {
        if self.destroyed.get() {
            return Err(named_error(
                "InvalidStateError",
                "PeerManager was destroyed",
            ));
        }
        Ok(())
    }

    fn destroy(&self) {
        self.destroyed.set(true);
        for controller in self.requests.take() {
            controller.abort();
        }
        // A retry waiting out its backoff wakes, sees `destroyed` and sends nothing.
        for wake in self.backoffs.take() {
            let _ = wake.call0(&JsValue::UNDEFINED);
        }
        self.invalidate();
        let peers = self.peers.take();
        for peer in peers {
            peer.close();
        }
    }
}

impl PeerHost for ManagerInner {
    fn refresh_servers(&self, peer: std::rc::Weak<PeerInner>, rejected: Option<Vec<IceServer>>) {
        if let Some(rejected) = rejected {
            self.reject(&rejected);
        }
        let this = self.me.upgrade();
        spawn_local(async move {
            let servers = match this {
                Some(this) => this.servers().await.ok(),
                None => None,
            };
            if let Some(peer) = peer.upgrade() {
                peer.servers_arrived(servers);
            }
        });
    }

    fn forget_peer(&self, peer: &PeerInner) {
        self.peers
            .borrow_mut()
            .retain(|p| !std::ptr::eq(Rc::as_ptr(p), peer));
    }
}
