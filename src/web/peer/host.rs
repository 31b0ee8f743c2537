//! What a peer asks of the manager that made it. A trait the manager
//! implements, so that the peer never imports the manager.
use super::PeerInner;
use crate::core::servers::IceServer;
use std::rc::Weak;

pub(crate) trait PeerHost {
    /// Servers for `peer`: from the cache while fresh, else from the one
    /// shared request. `rejected` are servers a TURN server refused (401):
    /// dropped from the cache first if it still holds exactly them. The
    /// answer comes through `PeerInner::servers_arrived(&rc, Some(servers))`,
    /// or `servers_arrived(&rc, None)` when none could be had; it may come
    /// synchronously (cache hit).
    fn refresh_servers(&self, peer: Weak<PeerInner>, rejected: Option<Vec<IceServer>>);
    /// `peer` closed: drop it from the registry of open peers.
    fn forget_peer(&self, peer: &PeerInner);
}
