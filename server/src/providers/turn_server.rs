//! The embedded TURN server's read loops: webrtc-rs `turn`'s request
//! handling and allocations, driven by our own loop instead of its `Server`.
//!
//! Its `Server` keeps every nonce it ever issued in one map that nothing
//! prunes, so an unauthenticated flood grows it for good, and it answers
//! the first signed retry with 438 because the nonce in our own 401 was
//! never in that map. Here [`AuthFront`] decides first (stateless nonces,
//! credentials, peers), and each request the crate handles gets a nonce map
//! holding just the nonce that was checked, dropped with the request.
//!
//! The loop also keeps the [`Quotas`]: allocations per user (whatever
//! credentials they hold) and in total, permissions and channel bindings per
//! allocation, and it deletes an allocation whose credential has expired (the
//! TURN-REST username's timestamp), so no allocation outlives its credential.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use stun::error_code::{CODE_ALLOC_QUOTA_REACHED, CODE_INSUFFICIENT_CAPACITY};
use stun::message::{Getter, METHOD_ALLOCATE, METHOD_CHANNEL_BIND, METHOD_CREATE_PERMISSION};
use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use turn::allocation::allocation_manager::{Manager, ManagerConfig};
use turn::allocation::five_tuple::FiveTuple;
use turn::auth::AuthHandler;
use turn::proto::channum::ChannelNumber;
use turn::proto::lifetime::DEFAULT_LIFETIME;
use turn::proto::PROTO_UDP;
use turn::relay::RelayAddressGenerator;
use turn::server::request::Request;
use webrtc_util::Conn;

use super::turn_auth::{AuthFront, Signed, Verdict};
use super::turn_rest;
use crate::auth::unix_now;

/// The largest datagram read: what webrtc-rs `turn` reads in one go.
const INBOUND_MTU: usize = 1500;
/// How long a permission lasts without a refresh (RFC 8656 §9).
const PERMISSION_LIFETIME: Duration = Duration::from_secs(300);
/// How often allocations are checked against their credential's expiry.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// What one user, one allocation, and everyone together may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quotas {
    /// Allocations one user may hold with all their TURN-REST credentials
    /// together (486 beyond): the endpoint mints a new credential every
    /// second, so a quota per credential would bound nothing.
    pub per_user: usize,
    /// Allocations in all (508 beyond).
    pub total: usize,
    /// Peer IPs one allocation may have permissions for (508 beyond).
    pub permissions: usize,
    /// Channels one allocation may have bound (508 beyond): each is a
    /// binding and a timer the server keeps, one per peer address.
    pub channels: usize,
}

/// Every listener's allocations, for the quotas that span them.
struct Registry {
    managers: Vec<Arc<Manager>>,
    /// Held from the quota check of an Allocate to its creation, so two
    /// listeners never both take the last place.
    allocating: Mutex<()>,
}

impl Registry {
    /// The refusal code for one more allocation with `username`, if any.
    async fn refusal(
        &self,
        username: &str,
        quotas: Quotas,
    ) -> Option<(stun::error_code::ErrorCode, &'static [u8])> {
        let user = turn_rest::username_subject(username);
        let (mut total, mut theirs) = (0, 0);
        for manager in &self.managers {
            let infos = manager.get_allocations_info(None).await;
            total += infos.len();
            theirs += infos
                .values()
                .filter(|a| turn_rest::username_subject(&a.username) == user)
                .count();
        }
        if theirs >= quotas.per_user {
            Some((CODE_ALLOC_QUOTA_REACHED, b"Allocation Quota Reached"))
        } else if total >= quotas.total {
            Some((CODE_INSUFFICIENT_CAPACITY, b"Insufficient Capacity"))
        } else {
            None
        }
    }
}

/// One socket the server reads (UDP, or a stream multiplexer) and where its
/// relays are made.
pub struct Listener {
    /// The packets from clients, and the way back to them.
    pub conn: Arc<dyn Conn + Send + Sync>,
    /// Makes the relayed sockets of this listener's allocations.
    pub relays: Box<dyn RelayAddressGenerator + Send + Sync>,
    /// Clients whose connection ended (streams only): their allocation goes
    /// with it (RFC 8656 §3.1).
    pub ended: Option<mpsc::Receiver<SocketAddr>>,
}

/// What every read loop shares.
pub struct Shared {
    /// Decides on each packet before the crate sees it.
    pub front: AuthFront,
    /// Gives the crate the key for a username.
    pub auth_handler: Arc<dyn AuthHandler + Send + Sync>,
    /// TURN realm.
    pub realm: String,
    /// Limits on allocations, permissions and channels.
    pub quotas: Quotas,
}

/// The running loops; [`TurnServer::close`] stops them and their allocations.
pub struct TurnServer {
    stop: watch::Sender<bool>,
    loops: Mutex<Vec<JoinHandle<()>>>,
}

impl TurnServer {
    /// Starts one read loop per listener.
    pub fn start(listeners: Vec<Listener>, shared: Shared) -> Self {
        let shared = Arc::new(shared);
        let (stop, stopped) = watch::channel(false);
        let mut sources = Vec::new();
        let mut managers = Vec::new();
        for listener in listeners {
            let manager = Arc::new(Manager::new(ManagerConfig {
                relay_addr_generator: listener.relays,
                alloc_close_notify: None,
            }));
            managers.push(Arc::clone(&manager));
            sources.push((listener.conn, listener.ended, manager));
        }
        let registry = Arc::new(Registry {
            managers,
            allocating: Mutex::new(()),
        });
        let loops = sources
            .into_iter()
            .map(|(conn, ended, manager)| {
                let context = Context {
                    manager,
                    shared: Arc::clone(&shared),
                    registry: Arc::clone(&registry),
                };
                tokio::spawn(read_loop(conn, ended, context, stopped.clone()))
            })
            .collect();
        Self {
            stop,
            loops: Mutex::new(loops),
        }
    }

    /// Stops reading and closes every allocation.
    pub async fn close(&self) {
        let _ = self.stop.send(true);
        for handle in self.loops.lock().await.drain(..) {
            let _ = handle.await;
        }
    }
}

/// What one read loop works with.
struct Context {
    manager: Arc<Manager>,
    shared: Arc<Shared>,
    registry: Arc<Registry>,
}

async fn read_loop(
    conn: Arc<dyn Conn + Send + Sync>,
    mut ended: Option<mpsc::Receiver<SocketAddr>>,
    context: Context,
    mut stopped: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; INBOUND_MTU];
    let Ok(local) = conn.local_addr() else {
        return;
    };
    let five_tuple = |client| FiveTuple {
        src_addr: client,
        dst_addr: local,
        protocol: PROTO_UDP,
    };
    let mut grants = Grants::default();
    let mut sweep = tokio::time::interval(SWEEP_INTERVAL);
    loop {
        let (n, client) = tokio::select! {
            Some(client) = next_ended(&mut ended) => {
                context.manager.delete_allocation(&five_tuple(client)).await;
                continue;
            }
            _ = sweep.tick() => {
                sweep_expired(&context.manager, &mut grants).await;
                continue;
            }
            received = conn.recv_from(&mut buf) => match received {
                Ok(received) => received,
                Err(e) => {
                    tracing::debug!("TURN read loop ends: {e}");
                    break;
                }
            },
            _ = stopped.changed() => break,
        };
        let packet = &buf[..n];
        let signed = match context.shared.front.verdict(packet, client) {
            Verdict::Pass(signed) => signed,
            Verdict::Answer(reply) => {
                let _ = conn.send_to(&reply, client).await;
                continue;
            }
            Verdict::Drop => continue,
        };
        let Some(signed) = signed else {
            handle(&conn, &context, packet, client, None).await;
            continue;
        };
        let has_allocation = context
            .manager
            .get_allocation(&five_tuple(client))
            .await
            .is_some();
        let method = signed.request.typ.method;
        let refusal = if method == METHOD_ALLOCATE && !has_allocation {
            // Checked and created under one lock: see Registry::allocating.
            let _allocating = context.registry.allocating.lock().await;
            let refusal = context
                .registry
                .refusal(&signed.username, context.shared.quotas)
                .await;
            if refusal.is_none() {
                handle(&conn, &context, packet, client, Some(signed.nonce)).await;
                continue;
            }
            refusal
        } else if [METHOD_CREATE_PERMISSION, METHOD_CHANNEL_BIND].contains(&method)
            && has_allocation
            && !grants.admit(client, &signed, context.shared.quotas)
        {
            Some((CODE_INSUFFICIENT_CAPACITY, &b"Insufficient Capacity"[..]))
        } else {
            None
        };
        match refusal {
            Some((code, reason)) => {
                crate::log_limited!(info, %client, code = code.0, "TURN request over quota refused");
                if let Ok(reply) = context.shared.front.refuse(&signed, code, reason) {
                    let _ = conn.send_to(&reply, client).await;
                }
            }
            None => handle(&conn, &context, packet, client, Some(signed.nonce)).await,
        }
    }
    let _ = context.manager.close().await;
}

/// What each client's allocation holds besides itself: the peer IPs it has
/// permissions for and the channels it has bound, each with when it was last
/// granted or refreshed.
#[derive(Default)]
struct Grants(HashMap<SocketAddr, Held>);

#[derive(Default)]
struct Held {
    peers: HashMap<IpAddr, Instant>,
    channels: HashMap<u16, Instant>,
}

impl Grants {
    /// Records the peers of `signed` for `client`, and the channel when it
    /// binds one, unless that would take its allocation past the quotas
    /// (bindings already held only refresh).
    fn admit(&mut self, client: SocketAddr, signed: &Signed, quotas: Quotas) -> bool {
        let now = Instant::now();
        let held = self.0.entry(client).or_default();
        held.peers
            .retain(|_, granted| now.duration_since(*granted) < PERMISSION_LIFETIME);
        held.channels
            .retain(|_, bound| now.duration_since(*bound) < DEFAULT_LIFETIME);
        let peers: Vec<IpAddr> = signed.peers().iter().map(SocketAddr::ip).collect();
        let new = peers
            .iter()
            .filter(|ip| !held.peers.contains_key(ip))
            .count();
        if held.peers.len() + new > quotas.permissions {
            return false;
        }
        if let Some(channel) = bound_channel(signed) {
            if !held.channels.contains_key(&channel) && held.channels.len() >= quotas.channels {
                return false;
            }
            held.channels.insert(channel, now);
        }
        held.peers.extend(peers.into_iter().map(|ip| (ip, now)));
        true
    }
}

/// The channel number a ChannelBind asks for; None for other requests (and
/// for a ChannelBind without one, which the crate refuses).
fn bound_channel(signed: &Signed) -> Option<u16> {
    if signed.request.typ.method != METHOD_CHANNEL_BIND {
        return None;
    }
    let mut number = ChannelNumber::default();
    number.get_from(&signed.request).ok()?;
    Some(number.0)
}

/// Deletes the allocations whose credential has expired, and forgets the
/// grants of allocations that are gone.
async fn sweep_expired(manager: &Manager, grants: &mut Grants) {
    let now = unix_now();
    let allocations = manager.get_allocations_info(None).await;
    for (five_tuple, info) in &allocations {
        let expired = turn_rest::username_expiry(&info.username).is_none_or(|expiry| expiry <= now);
        if expired {
            tracing::info!(client = %five_tuple.src_addr, "TURN allocation ends with its credential");
            manager.delete_allocation(five_tuple).await;
        }
    }
    grants
        .0
        .retain(|client, _| allocations.keys().any(|t| t.src_addr == *client));
}

async fn next_ended(ended: &mut Option<mpsc::Receiver<SocketAddr>>) -> Option<SocketAddr> {
    match ended {
        Some(ended) => ended.recv().await,
        None => std::future::pending().await,
    }
}

/// Lets the crate handle `packet`, trusting `nonce` (checked by the front).
async fn handle(
    conn: &Arc<dyn Conn + Send + Sync>,
    context: &Context,
    packet: &[u8],
    client: SocketAddr,
    nonce: Option<String>,
) {
    let nonces: HashMap<String, Instant> = nonce.map(|n| (n, Instant::now())).into_iter().collect();
    let mut request = Request {
        conn: Arc::clone(conn),
        src_addr: client,
        buff: packet.to_vec(),
        allocation_manager: Arc::clone(&context.manager),
        nonces: Arc::new(Mutex::new(nonces)),
        auth_handler: Arc::clone(&context.shared.auth_handler),
        realm: context.shared.realm.clone(),
        channel_bind_timeout: DEFAULT_LIFETIME,
    };
    if let Err(e) = request.handle_request().await {
        tracing::debug!(%client, "TURN packet not handled: {e}");
    }
}
