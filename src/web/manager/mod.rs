//! `PeerManager`: ICE servers fetched, cached per token and shared between
//! concurrent callers, and the registry of open peers that use them.

mod host;
mod ice_servers;
mod new_peer;
mod preflight;
mod request;

use crate::core::cache::CachedServers;
use crate::core::config::{default_fallback, Limits, DEFAULT_ENDPOINT};
use crate::core::error::{ErrorKind, IceServersError};
use crate::core::servers::IceServer;
use crate::core::usage::UsageError;
use crate::web::bindings::{PeerManagerOptions, PeerOptions};
use crate::web::convert::{number_option, servers_from_js, servers_to_js};
use crate::web::error::{ice_servers_error, named_error, type_error};
use crate::web::handlers::PeerSetup;
use crate::web::kinds::ManagerNotify;
use crate::web::log::{debug, debug_servers};
use crate::web::peer::host::PeerHost;
use crate::web::peer::PeerInner;
use crate::web::peer_handle::Peer;
use crate::web::property::get;
use host::Settle;
use ice_servers::Lookup;
use js_sys::{Array, Function, Promise};
use new_peer::NewPeer;
use request::Request;
use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

type Outcome = Result<Vec<IceServer>, IceServersError>;

/// Someone waiting for servers.
enum Waiter {
    /// `getIceServers()`: resolved with `IceServer[]`, rejected with an `IceServersError`.
    Promise(Settle),
    /// A peer refreshing its servers (`PeerHost::refresh_servers`).
    Peer(Weak<PeerInner>),
    /// A `createPeer()` that waits at most `createPeerWaitMs`.
    NewPeer(Rc<NewPeer>),
}

impl Waiter {
    fn deliver(&self, manager: &Rc<ManagerInner>, outcome: &Outcome) {
        match self {
            Waiter::Promise(settle) => settle.with(match outcome {
                Ok(servers) => Ok(servers_to_js(servers).into()),
                Err(error) => Err(ice_servers_error(error)),
            }),
            Waiter::Peer(peer) => {
                if let Some(peer) = peer.upgrade() {
                    peer.servers_arrived(outcome.as_ref().ok().cloned());
                }
            }
            Waiter::NewPeer(pending) => pending.servers_ready(manager, outcome),
        }
    }

    /// Fails before any request was sent ("aborted" or "no-token", 0
    /// attempts).
    fn fail(self, manager: &Rc<ManagerInner>, kind: ErrorKind) {
        let error = IceServersError::without_response(kind, 0);
        self.deliver(manager, &Err(error));
    }
}

/// `IceServersInfo.source`.
#[derive(Clone, Copy)]
enum Source {
    Network,
    Cache,
    Fallback,
}

impl Source {
    fn as_str(self) -> &'static str {
        match self {
            Source::Network => "network",
            Source::Cache => "cache",
            Source::Fallback => "fallback",
        }
    }
}

#[wasm_bindgen(module = "/src/web/js/values.js")]
extern "C" {
    /// Contract `IceServersInfo`; a time not known as NaN.
    #[wasm_bindgen(js_name = info)]
    fn info_to_js(source: &str, fetched_at: f64, expires_at: f64) -> JsValue;
}

/// Contract `IceServersInfo`.
#[derive(Clone, Copy)]
struct Info {
    source: Source,
    /// NaN when not known.
    fetched_at: f64,
    expires_at: f64,
}

/// State shared by the exported handle, its requests and its peers.
pub(crate) struct ManagerInner {
    me: Weak<ManagerInner>,
    /// The endpoint, a non-empty string (kept as the JS value given).
    endpoint: JsValue,
    /// `PeerManagerOptions.token`: a string or a function (see `js/fetch.js`).
    token: JsValue,
    limits: Limits,
    fallback: Vec<IceServer>,
    debug: bool,
    cache: RefCell<Option<CachedServers>>,
    /// Bumped by `invalidate()`: a request started before it must not refill the cache.
    generation: Cell<u32>,
    /// The request a caller with the same token joins (one of `requests`),
    /// if any: not one that `invalidate()` replaced.
    in_flight: RefCell<Weak<Request>>,
    info: Cell<Option<Info>>,
    /// Every request still waiting on JS (one replaced by `invalidate()`
    /// runs on for those who joined it), and every async token lookup.
    requests: RefCell<Vec<Rc<Request>>>,
    lookups: RefCell<Vec<Lookup>>,
    next_lookup: Cell<u32>,
    /// Strong references to open peers: Firefox collects unreferenced connections mid-call.
    peers: RefCell<Vec<Rc<PeerInner>>>,
    /// Hears, for the manager's whole life, `online`, `offline` (window
    /// only) and `navigator.connection`'s `change`, and every async token
    /// source's answer (see `host::manager_events`).
    events: ManagerNotify,
    /// Stops the network events (`destroy()`, or the manager dropped).
    unwatch: RefCell<Option<Function>>,
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
            return Err(type_error(UsageError::ManagerOptions));
        }
        let token = get(&options, "token");
        if !token.is_string() && !token.is_function() {
            return Err(type_error(UsageError::Token));
        }
        let endpoint = match get(&options, "endpoint") {
            value if value.is_null_or_undefined() => DEFAULT_ENDPOINT.into(),
            value
                if value
                    .as_string()
                    .is_some_and(|s| !s.trim_ascii().is_empty()) =>
            {
                value
            }
            _ => return Err(type_error(UsageError::Endpoint)),
        };
        let limits = Limits::read(|name| number_option(&options, name))
            .map_err(|error| type_error(UsageError::Number(error)))?;
        let fallback = match get(&options, "fallbackIceServers") {
            value if value.is_null_or_undefined() => default_fallback(),
            value => {
                usable_servers(&value).ok_or_else(|| type_error(UsageError::FallbackIceServers))?
            }
        };
        let inner = Rc::new_cyclic(|me| ManagerInner {
            me: me.clone(),
            endpoint,
            token,
            limits,
            fallback,
            debug: get(&options, "debug").is_truthy(),
            cache: RefCell::new(None),
            generation: Cell::new(0),
            in_flight: RefCell::new(Weak::new()),
            info: Cell::new(None),
            requests: RefCell::new(Vec::new()),
            lookups: RefCell::new(Vec::new()),
            next_lookup: Cell::new(0),
            peers: RefCell::new(Vec::new()),
            events: host::manager_events(me),
            unwatch: RefCell::new(None),
            destroyed: Cell::new(false),
        });
        *inner.unwatch.borrow_mut() = Some(host::watch_network(&inner.events));
        Ok(PeerManager { inner })
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
        info_to_js(info.source.as_str(), info.fetched_at, info.expires_at)
    }

    /// Drop the cache (logout, token change).
    pub fn invalidate(&self) {
        self.inner.invalidate();
    }

    /// A new peer; see `PeerOptions.iceServers` for which servers it gets.
    #[wasm_bindgen(js_name = createPeer, unchecked_return_type = "Promise<Peer>")]
    pub fn create_peer(&self, options: PeerOptions) -> Promise {
        let options: JsValue = options.into();
        let (promise, settle) = host::deferred();
        self.inner.begin_peer(&options, settle);
        promise
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
/// (`servers_from_js` answers `None` for anything but an array, so `value`
/// is one when the length is read.)
fn usable_servers(value: &JsValue) -> Option<Vec<IceServer>> {
    servers_from_js(value)
        .filter(|servers| !servers.is_empty() || value.unchecked_ref::<Array>().length() == 0)
}

impl ManagerInner {
    /// Fresh servers reach every open peer that uses the manager's servers.
    pub(super) fn apply_to_peers(&self, servers: &[IceServer]) {
        let peers: Vec<Rc<PeerInner>> = self.peers.borrow().clone();
        for peer in &peers {
            if peer.uses_manager_servers() {
                peer.apply_servers(servers);
            }
        }
    }

    /// `createPeer()`: at once with explicit servers, else through [`NewPeer`].
    fn begin_peer(self: &Rc<Self>, options: &JsValue, settle: Settle) {
        let setup = PeerSetup::from_js(options).and_then(|setup| {
            self.ensure_alive()?;
            Ok(setup)
        });
        match setup {
            Ok(mut setup) => match setup.explicit_servers.take().filter(|s| !s.is_empty()) {
                Some(servers) => {
                    settle.with(self.make_peer(setup, &servers, false).map(Peer::into_js))
                }
                None => NewPeer::begin(self, setup, settle),
            },
            Err(error) => settle.with(Err(error)),
        }
    }

    /// A started peer in the registry of open peers.
    pub(super) fn make_peer(
        self: &Rc<Self>,
        setup: PeerSetup,
        servers: &[IceServer],
        uses_manager: bool,
    ) -> Result<Rc<PeerInner>, JsValue> {
        self.ensure_alive()?;
        debug_servers(self.debug, "Creating peer with ICE servers", servers);
        let me: Weak<ManagerInner> = Rc::downgrade(self);
        let host: Weak<dyn PeerHost> = me;
        let peer = PeerInner::create(
            host,
            setup,
            servers,
            uses_manager,
            self.debug,
            self.limits.recovery,
        )?;
        self.peers.borrow_mut().push(peer.clone());
        peer.start();
        Ok(peer)
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

    /// The network changed (online, offline, another connection type):
    /// every open peer hears it.
    fn network_changed(&self) {
        if self.destroyed.get() {
            return;
        }
        debug(self.debug, "Network changed", &JsValue::UNDEFINED);
        // A copy: a peer's handler may close it (and leave the list) meanwhile.
        let peers = self.peers.borrow().clone();
        for peer in &peers {
            peer.network_changed();
        }
    }

    /// No more network events.
    fn unwatch(&self) {
        host::call_taken(&self.unwatch);
    }

    fn destroy(self: &Rc<Self>) {
        self.destroyed.set(true);
        self.unwatch();
        // Nothing more is sent; pending calls reject with "aborted".
        self.abort_requests();
        self.invalidate();
        let peers = self.peers.take();
        for peer in &peers {
            peer.close();
        }
    }
}

/// A manager the app let go of stops listening: its closure is about to go.
impl Drop for ManagerInner {
    fn drop(&mut self) {
        self.unwatch();
    }
}
