//! The relayed sockets of the embedded TURN server, each behind the
//! [`PeerPolicy`]: the last check before a datagram leaves a relay (whatever
//! path inside webrtc-rs `turn` sent it: a Send indication, ChannelData) and
//! the first when one arrives. An optional byte rate caps each relay, both
//! directions together; what exceeds it is dropped, as a congested link would.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use async_trait::async_trait;
use turn::relay::RelayAddressGenerator;
use webrtc_util::vnet::net::Net;
use webrtc_util::Conn;

use super::turn_policy::{PeerPolicy, PortRange};
use crate::rate::TokenBucket;

type Result<T> = std::result::Result<T, turn::Error>;

/// Ports tried for one relay before the allocation fails.
const BIND_TRIES: usize = 32;

/// Binds relays on `address`, on a port of `ports`, and advertises them on
/// `relay_ip`, each filtered.
pub struct FilteredRelays {
    /// IP put in the XOR-RELAYED-ADDRESS the client is told.
    pub relay_ip: IpAddr,
    /// IP the relay sockets bind to.
    pub address: IpAddr,
    /// Ports the relay sockets bind to.
    pub ports: PortRange,
    /// Who the relays may talk to.
    pub policy: Arc<PeerPolicy>,
    /// Bytes per second one relay may carry, both directions together.
    pub bytes_per_sec: Option<u64>,
}

#[async_trait]
impl RelayAddressGenerator for FilteredRelays {
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    async fn allocate_conn(
        &self,
        use_ipv4: bool,
        requested_port: u16,
    ) -> Result<(Arc<dyn Conn + Send + Sync>, SocketAddr)> {
        let net = Net::new(None);
        let (first, last) = self.ports.bounds();
        let mut tries = 0;
        let conn = loop {
            // Another process may hold any port of the range: random ones,
            // a bounded number of times (a port asked for, once).
            let port = match requested_port {
                0 => rand::random_range(first..=last),
                asked => asked,
            };
            let addr = net
                .resolve_addr(use_ipv4, &SocketAddr::new(self.address, port).to_string())
                .await?;
            tries += 1;
            match net.bind(addr).await {
                Ok(conn) => break conn,
                Err(e) if requested_port == 0 && tries < BIND_TRIES => {
                    tracing::debug!("relay port {port} not bound ({e}); trying another");
                }
                Err(e) => return Err(e.into()),
            }
        };
        let mut relay_addr = conn.local_addr()?;
        relay_addr.set_ip(self.relay_ip);
        let filtered = FilteredRelay {
            inner: conn,
            policy: Arc::clone(&self.policy),
            budget: (self.bytes_per_sec)
                .map(|rate| Mutex::new(TokenBucket::new(rate, rate, Instant::now()))),
        };
        Ok((Arc::new(filtered), relay_addr))
    }
}

/// One relay socket that neither sends to nor hears from a refused peer.
struct FilteredRelay {
    inner: Arc<dyn Conn + Send + Sync>,
    policy: Arc<PeerPolicy>,
    /// `bytes_per_sec`, with one second's worth saved up at most.
    budget: Option<Mutex<TokenBucket>>,
}

impl FilteredRelay {
    /// True when `bytes` more fit in this relay's rate.
    fn within_budget(&self, bytes: usize) -> bool {
        self.budget.as_ref().is_none_or(|budget| {
            let mut budget = budget.lock().unwrap_or_else(|e| e.into_inner());
            budget.take(bytes as u64, Instant::now())
        })
    }
}

#[async_trait]
impl Conn for FilteredRelay {
    async fn connect(&self, addr: SocketAddr) -> webrtc_util::Result<()> {
        if !self.policy.permits(addr) {
            return Err(refused(addr));
        }
        self.inner.connect(addr).await
    }

    async fn recv(&self, buf: &mut [u8]) -> webrtc_util::Result<usize> {
        self.recv_from(buf).await.map(|(n, _)| n)
    }

    async fn recv_from(&self, buf: &mut [u8]) -> webrtc_util::Result<(usize, SocketAddr)> {
        loop {
            let (n, from) = self.inner.recv_from(buf).await?;
            if self.policy.permits(from) && self.within_budget(n) {
                return Ok((n, from));
            }
        }
    }

    async fn send(&self, _buf: &[u8]) -> webrtc_util::Result<usize> {
        Err(webrtc_util::Error::Other(
            "a relay needs a destination".into(),
        ))
    }

    async fn send_to(&self, buf: &[u8], target: SocketAddr) -> webrtc_util::Result<usize> {
        if !self.policy.permits(target) {
            crate::log_limited!(info, %target, "TURN relay refused a datagram to a denied peer");
            return Err(refused(target));
        }
        if !self.within_budget(buf.len()) {
            return Ok(buf.len()); // dropped, as on a congested link
        }
        self.inner.send_to(buf, target).await
    }

    fn local_addr(&self) -> webrtc_util::Result<SocketAddr> {
        self.inner.local_addr()
    }

    fn remote_addr(&self) -> Option<SocketAddr> {
        None
    }

    async fn close(&self) -> webrtc_util::Result<()> {
        self.inner.close().await
    }

    fn as_any(&self) -> &(dyn std::any::Any + Send + Sync) {
        self
    }
}

fn refused(peer: SocketAddr) -> webrtc_util::Error {
    webrtc_util::Error::Other(format!("peer {peer} is denied by the relay policy"))
}
