//! The embedded TURN server's read loops: webrtc-rs `turn`'s request
//! handling and allocations, driven by our own loop instead of its `Server`.
//!
//! Its `Server` keeps every nonce it ever issued in one map that nothing
//! prunes, so an unauthenticated flood grows it for good, and it answers
//! the first signed retry with 438 because the nonce in our own 401 was
//! never in that map. Here [`AuthFront`] decides first (stateless nonces,
//! credentials, peers), and each request the crate handles gets a nonce map
//! holding just the nonce that was checked, dropped with the request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinHandle;
use tokio::time::Instant;
use turn::allocation::allocation_manager::{Manager, ManagerConfig};
use turn::allocation::five_tuple::FiveTuple;
use turn::auth::AuthHandler;
use turn::proto::lifetime::DEFAULT_LIFETIME;
use turn::proto::PROTO_UDP;
use turn::relay::RelayAddressGenerator;
use turn::server::request::Request;
use webrtc_util::Conn;

use super::turn_auth::{AuthFront, Verdict};

/// The largest datagram read: what webrtc-rs `turn` reads in one go.
const INBOUND_MTU: usize = 1500;

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
        let loops = listeners
            .into_iter()
            .map(|listener| {
                let manager = Arc::new(Manager::new(ManagerConfig {
                    relay_addr_generator: listener.relays,
                    alloc_close_notify: None,
                }));
                tokio::spawn(read_loop(
                    listener.conn,
                    listener.ended,
                    manager,
                    Arc::clone(&shared),
                    stopped.clone(),
                ))
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

async fn read_loop(
    conn: Arc<dyn Conn + Send + Sync>,
    mut ended: Option<mpsc::Receiver<SocketAddr>>,
    manager: Arc<Manager>,
    shared: Arc<Shared>,
    mut stopped: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; INBOUND_MTU];
    let local = conn.local_addr();
    loop {
        let (n, client) = tokio::select! {
            Some(client) = next_ended(&mut ended) => {
                if let Ok(local) = local {
                    let five_tuple = FiveTuple { src_addr: client, dst_addr: local, protocol: PROTO_UDP };
                    manager.delete_allocation(&five_tuple).await;
                }
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
        let nonce = match shared.front.verdict(packet, client) {
            Verdict::Pass(nonce) => nonce,
            Verdict::Answer(reply) => {
                let _ = conn.send_to(&reply, client).await;
                continue;
            }
            Verdict::Drop => continue,
        };
        handle(&conn, &manager, &shared, packet, client, nonce).await;
    }
    let _ = manager.close().await;
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
    manager: &Arc<Manager>,
    shared: &Shared,
    packet: &[u8],
    client: SocketAddr,
    nonce: Option<String>,
) {
    let nonces: HashMap<String, Instant> = nonce.map(|n| (n, Instant::now())).into_iter().collect();
    let mut request = Request {
        conn: Arc::clone(conn),
        src_addr: client,
        buff: packet.to_vec(),
        allocation_manager: Arc::clone(manager),
        nonces: Arc::new(Mutex::new(nonces)),
        auth_handler: Arc::clone(&shared.auth_handler),
        realm: shared.realm.clone(),
        channel_bind_timeout: DEFAULT_LIFETIME,
    };
    if let Err(e) = request.handle_request().await {
        tracing::debug!(%client, "TURN packet not handled: {e}");
    }
}
