//! The manager as its peers and the device see it: servers for a peer
//! that asks (`PeerHost`), and network changes (`js/manager.js`), which
//! reach every open peer.

use super::{ManagerInner, Waiter};
use crate::core::servers::IceServer;
use crate::web::kinds::{kind, ManagerEvent, ManagerNotify};
use crate::web::peer::host::PeerHost;
use crate::web::peer::PeerInner;
use js_sys::{Array, Function, Promise};
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

impl PeerHost for ManagerInner {
    fn refresh_servers(&self, peer: Weak<PeerInner>, rejected: Option<Vec<IceServer>>) {
        if let Some(rejected) = rejected {
            self.reject(&rejected);
        }
        // The peer upgraded its handle on us to call this: `me` upgrades too.
        if let Some(me) = self.me.upgrade() {
            me.servers_for(Waiter::Peer(peer));
        }
    }

    fn forget_peer(&self, peer: &PeerInner) {
        // Each peer is in the list once.
        let mut peers = self.peers.borrow_mut();
        if let Some(at) = peers.iter().position(|p| std::ptr::eq(Rc::as_ptr(p), peer)) {
            peers.remove(at);
        }
    }
}

#[wasm_bindgen(module = "/src/web/js/manager.js")]
extern "C" {
    /// Calls `notify` on network changes until the returned function is called.
    #[wasm_bindgen(js_name = watchNetwork)]
    pub(super) fn watch_network(notify: &ManagerNotify) -> Function;
    /// Calls `notify` once after `ms` (`WaitOver`), unless the returned
    /// function is called first.
    pub(super) fn after(ms: f64, notify: &ManagerNotify) -> Function;
    #[wasm_bindgen(js_name = deferred)]
    fn deferred_js() -> Array;
    /// Calls one of the cancel or unwatch functions of the JS modules
    /// (which never throw): whether it returned a truthy value.
    fn run(f: &Function) -> bool;
}

/// A new promise, and what settles it.
pub(super) fn deferred() -> (Promise, Settle) {
    let parts = deferred_js();
    (
        parts.get(0).unchecked_into(),
        Settle(parts.get(1).unchecked_into()),
    )
}

/// Calls the function in `slot` (a cancel or an unwatch), if any, once:
/// whether it returned a truthy value (a cancelled attempt: whether a
/// request was in flight).
pub(super) fn call_taken(slot: &RefCell<Option<Function>>) -> bool {
    let taken = slot.take();
    taken.is_some_and(|f| run(&f))
}

/// Settles one promise of [`deferred`]; only the first call counts.
pub(super) struct Settle(Function);

impl Settle {
    /// Resolves the promise with the value, or rejects it with the error.
    pub(super) fn with(&self, outcome: Result<JsValue, JsValue>) {
        let (ok, value) = match outcome {
            Ok(value) => (true, value),
            Err(error) => (false, error),
        };
        let _ = (self.0).call2(&JsValue::UNDEFINED, &ok.into(), &value);
    }
}

/// The closure JS reaches the manager through for network changes and token
/// answers; it holds the manager weakly.
pub(super) fn manager_events(manager: &Weak<ManagerInner>) -> ManagerNotify {
    let manager = manager.clone();
    Closure::new(
        move |event: JsValue, id: JsValue, token: JsValue, _: JsValue| {
            let (Some(manager), Some(event)) = (manager.upgrade(), kind(&event)) else {
                return JsValue::UNDEFINED;
            };
            match event {
                ManagerEvent::NetworkChanged => manager.network_changed(),
                ManagerEvent::TokenArrived => manager.token_arrived(
                    id.as_f64().unwrap_or(0.0) as u32,
                    token.as_string().unwrap_or_default(),
                ),
                // Only a createPeer()'s own wait reports this (see `NewPeer`).
                ManagerEvent::WaitOver => {}
            }
            JsValue::UNDEFINED
        },
    )
}
