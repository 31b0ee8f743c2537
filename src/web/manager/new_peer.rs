//! `createPeer()` without explicit servers: the manager's servers if they
//! come within `createPeerWaitMs`, else the fallback at once and the
//! manager's servers applied to the live peer when they arrive.

use super::host::{after, call_taken, Settle};
use super::{ManagerInner, Outcome, Source, Waiter};
use crate::core::retry::timer_delay_ms;
use crate::core::servers::IceServer;
use crate::web::handlers::PeerSetup;
use crate::web::kinds::ManagerNotify;
use crate::web::log::debug;
use crate::web::peer::PeerInner;
use crate::web::peer_handle::Peer;
use js_sys::Function;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;

/// One `createPeer()` waiting for servers, as a [`Waiter`] of the manager.
pub(super) struct NewPeer {
    /// Taken when the peer is made.
    setup: RefCell<Option<PeerSetup>>,
    /// Settles the `createPeer()` promise.
    settle: Settle,
    /// Ends the wait of `createPeerWaitMs` (`js/manager.js`'s `after`).
    waited: ManagerNotify,
    /// Cancels that wait.
    cancel_wait: RefCell<Option<Function>>,
    /// The peer made with the fallback, for the servers that come late.
    made: RefCell<Weak<PeerInner>>,
}

impl NewPeer {
    /// Starts the wait and asks the manager for servers.
    pub(super) fn begin(manager: &Rc<ManagerInner>, setup: PeerSetup, settle: Settle) {
        let host = Rc::downgrade(manager);
        let pending = Rc::new_cyclic(|me: &Weak<NewPeer>| {
            let me = me.clone();
            NewPeer {
                setup: RefCell::new(Some(setup)),
                settle,
                waited: Closure::new(move |_wait_over: JsValue, _, _, _| {
                    if let (Some(pending), Some(manager)) = (me.upgrade(), host.upgrade()) {
                        manager.record(Source::Fallback, None);
                        pending.make(&manager, &manager.fallback);
                    }
                    JsValue::UNDEFINED
                }),
                cancel_wait: RefCell::new(None),
                made: RefCell::new(Weak::new()),
            }
        });
        let ms = timer_delay_ms(manager.limits.create_peer_wait_ms);
        *pending.cancel_wait.borrow_mut() = Some(after(ms, &pending.waited));
        manager.servers_for(Waiter::NewPeer(pending));
    }

    /// The manager's answer: make the peer with it, or (too late) apply it.
    pub(super) fn servers_ready(&self, manager: &Rc<ManagerInner>, outcome: &Outcome) {
        self.stop_waiting();
        let fresh = match outcome {
            Ok(servers) => Some(servers).filter(|s| !s.is_empty()),
            Err(error) => {
                if manager.debug {
                    let message = JsValue::from_str(&error.message());
                    debug(true, "No ICE servers; using the fallback", &message);
                }
                None
            }
        };
        let late = self.made.borrow().upgrade();
        match late {
            Some(peer) => {
                if let Some(servers) = fresh {
                    peer.apply_servers(servers);
                }
            }
            None => {
                let servers = fresh.unwrap_or_else(|| {
                    if self.setup.borrow().is_some() {
                        manager.record(Source::Fallback, None);
                    }
                    &manager.fallback
                });
                self.make(manager, servers);
            }
        }
    }

    /// Makes the peer (once) and settles the `createPeer()` promise.
    fn make(&self, manager: &Rc<ManagerInner>, servers: &[IceServer]) {
        let Some(setup) = self.setup.take() else {
            return;
        };
        let made = manager.make_peer(setup, servers, true).inspect(|peer| {
            *self.made.borrow_mut() = Rc::downgrade(peer);
        });
        self.settle.with(made.map(Peer::into_js));
    }
}

impl NewPeer {
    fn stop_waiting(&self) {
        call_taken(&self.cancel_wait);
    }
}

/// A wait still running must not call the closure that goes with this value.
impl Drop for NewPeer {
    fn drop(&mut self) {
        self.stop_waiting();
    }
}
