//! The relayed sockets of the embedded TURN server, each behind the
//! [`PeerPolicy`]: the last check before a datagram leaves a relay (whatever
//! path inside webrtc-rs `turn` sent it: a Send indication, ChannelData) and
//! the first when one arrives.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use async_trait::async_trait;
use turn::relay::RelayAddressGenerator;
use webrtc_util::vnet::net::Net;
use webrtc_util::Conn;

use super::turn_policy::PeerPolicy;

type Result<T> = std::result::Result<T, turn::Error>;

/// Binds relays on `address` and advertises them on `relay_ip`, each filtered.
pub struct FilteredRelays {
    /// IP put in the XOR-RELAYED-ADDRESS the client is told.
    pub relay_ip: IpAddr,
    /// IP the relay sockets bind to.
    pub address: IpAddr,
    /// Who the relays may talk to.
    pub policy: Arc<PeerPolicy>,
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
        let addr = net
            .resolve_addr(
                use_ipv4,
                &SocketAddr::new(self.address, requested_port).to_string(),
            )
            .await?;
        let conn = net.bind(addr).await?;
        let mut relay_addr = conn.local_addr()?;
        relay_addr.set_ip(self.relay_ip);
        let filtered = FilteredRelay {
            inner: conn,
            policy: Arc::clone(&self.policy),
        };
        Ok((Arc::new(filtered), relay_addr))
    }
}

/// One relay socket that neither sends to nor hears from a refused peer.
struct FilteredRelay {
    inner: Arc<dyn Conn + Send + Sync>,
    policy: Arc<PeerPolicy>,
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
            if self.policy.permits(from) {
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
            tracing::info!(%target, "TURN relay refused a datagram to a denied peer");
            return Err(refused(target));
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
