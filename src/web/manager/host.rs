//! The manager as its peers and the device see it: servers for a peer
//! that asks (`PeerHost`), and the network-change listeners whose events
//! reach every open peer.

use super::{ManagerInner, Waiter};
use crate::core::servers::IceServer;
use crate::web::error::get;
use crate::web::listener::EventListener;
use crate::web::peer::host::PeerHost;
use crate::web::peer::PeerInner;
use std::rc::{Rc, Weak};
use wasm_bindgen::{JsCast, JsValue};

impl PeerHost for ManagerInner {
    fn refresh_servers(&self, peer: Weak<PeerInner>, rejected: Option<Vec<IceServer>>) {
        if let Some(rejected) = rejected {
            self.reject(&rejected);
        }
        match self.me.upgrade() {
            Some(me) => me.servers_for(Waiter::Peer(peer)),
            None => {
                if let Some(peer) = peer.upgrade() {
                    peer.servers_arrived(None);
                }
            }
        }
    }

    fn forget_peer(&self, peer: &PeerInner) {
        self.peers
            .borrow_mut()
            .retain(|p| !std::ptr::eq(Rc::as_ptr(p), peer));
    }
}

/// Listeners that tell the manager of network changes; they hold it weakly.
pub(super) fn network_listeners(manager: &Weak<ManagerInner>) -> Vec<EventListener> {
    let notify = || {
        let manager = manager.clone();
        move || {
            if let Some(manager) = manager.upgrade() {
                manager.network_changed();
            }
        }
    };
    let global: JsValue = js_sys::global().into();
    let mut listeners = Vec::new();
    if global.is_instance_of::<web_sys::Window>() {
        listeners.push(EventListener::new(&global, "online", notify()));
        listeners.push(EventListener::new(&global, "offline", notify()));
    }
    // The Network Information API: Chromium only, and absent from web-sys.
    let connection = get(&get(&global, "navigator"), "connection");
    if connection.is_object() {
        listeners.push(EventListener::new(&connection, "change", notify()));
    }
    listeners
}
