//! A TURN server inside the process (webrtc-rs `turn`), with TURN-REST credentials.
//!
//! It listens on UDP and TCP on the same port ([`TcpMux`]: for networks that
//! drop UDP), refuses wrong or expired credentials with 401 and a stateless
//! NONCE ([`AuthFront`], RFC 8489), refuses peers in its own networks
//! ([`PeerPolicy`]), and relays on the listen IP while advertising
//! `--turn-public-ip`, so clients behind NAT reach it.

use std::net::{SocketAddr, UdpSocket as StdUdpSocket};
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket};
use turn::auth::{generate_auth_key, AuthHandler};

use super::turn_auth::AuthFront;
use super::turn_nonce::NonceKey;
use super::turn_policy::{Cidr, PeerPolicy};
use super::turn_relay::FilteredRelays;
use super::turn_server::{Listener, Shared, TurnServer};
use super::turn_tcp::{TcpMux, Transport};
use super::turn_tls;
use super::{turn_rest, IceServers, StartError};
use crate::auth::unix_now;
use crate::config::{advertised_ip, EmbeddedConfig};
use crate::secret::Secret;

/// Checks TURN-REST usernames: `<unix-expiry>:<sub>` signed with the shared secret.
pub struct RestAuthHandler {
    secret: Secret,
}

impl RestAuthHandler {
    /// A handler for `secret`.
    pub fn new(secret: Secret) -> Self {
        Self { secret }
    }
}

impl AuthHandler for RestAuthHandler {
    fn auth_handle(
        &self,
        username: &str,
        realm: &str,
        src_addr: SocketAddr,
    ) -> Result<Vec<u8>, turn::Error> {
        let Some(expiry) = turn_rest::username_expiry(username) else {
            crate::log_limited!(info, %src_addr, "TURN auth refused: username without expiry");
            return Err(turn::Error::Other("malformed TURN-REST username".into()));
        };
        if expiry <= unix_now() {
            crate::log_limited!(info, %src_addr, "TURN auth refused: expired username");
            return Err(turn::Error::Other("expired TURN-REST username".into()));
        }
        // The server compares this key with the request's MESSAGE-INTEGRITY:
        // a wrong password fails there.
        let password = turn_rest::password(&self.secret, username);
        Ok(generate_auth_key(username, realm, &password))
    }
}

/// The running embedded TURN server and its credential settings.
pub struct EmbeddedTurn {
    server: TurnServer,
    streams: Vec<Arc<TcpMux>>,
    local_addr: SocketAddr,
    tls_addr: Option<SocketAddr>,
    urls: Vec<String>,
    secret: Secret,
    ttl: Duration,
    allowed_peers: Vec<Cidr>,
}

impl EmbeddedTurn {
    /// Binds UDP and TCP on one port and starts serving.
    pub async fn start(config: &EmbeddedConfig, ttl: Duration) -> Result<Self, StartError> {
        let bind_err = |what: &str, e: std::io::Error| {
            StartError(format!(
                "cannot bind TURN {what} socket {}: {e}",
                config.listen
            ))
        };
        // Port 0 picks one for both: the port UDP got may be taken for TCP
        // (another process's listener or connection), so a few more ports
        // are tried before that counts as a failure. A port given is tried once.
        let tries = if config.listen.port() == 0 { 10 } else { 1 };
        let mut attempt = 1;
        let (socket, local_addr, tcp) = loop {
            // Bind with std first so a busy port fails with a clear message.
            let std_socket = StdUdpSocket::bind(config.listen).map_err(|e| bind_err("UDP", e))?;
            std_socket
                .set_nonblocking(true)
                .map_err(|e| bind_err("UDP", e))?;
            let socket = UdpSocket::from_std(std_socket).map_err(|e| bind_err("UDP", e))?;
            let local_addr = socket.local_addr().map_err(|e| bind_err("UDP", e))?;
            match TcpListener::bind(local_addr).await {
                Ok(tcp) => break (socket, local_addr, tcp),
                Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && attempt < tries => {
                    attempt += 1;
                }
                Err(e) => return Err(bind_err("TCP", e)),
            }
        };
        let (tcp, tcp_ended) = TcpMux::new(tcp, Transport::Tcp).map_err(|e| bind_err("TCP", e))?;
        let mut streams = vec![(Arc::new(tcp), tcp_ended)];
        let mut own = vec![local_addr, config.http_listen];
        let mut tls_addr = None;
        if let Some(tls) = &config.tls {
            let acceptor = turn_tls::acceptor(&tls.cert, &tls.key).map_err(StartError)?;
            let tls_err = |e: std::io::Error| {
                StartError(format!("cannot bind TURN TLS socket {}: {e}", tls.listen))
            };
            let listener = TcpListener::bind(tls.listen).await.map_err(tls_err)?;
            let addr = listener.local_addr().map_err(tls_err)?;
            let (mux, ended) = TcpMux::new(listener, Transport::Tls(acceptor)).map_err(tls_err)?;
            streams.push((Arc::new(mux), ended));
            own.push(addr);
            tls_addr = Some(addr);
        }
        let public_ip = advertised_ip(local_addr, config.public_ip);
        let mut policy = PeerPolicy::new(config.allowed_peers.clone(), config.denied_peers.clone());
        for own in own {
            policy.deny_own(own);
            policy.deny_own(SocketAddr::new(public_ip, own.port()));
        }
        policy.relay_only(public_ip, config.relay_ports);
        if !local_addr.ip().is_unspecified() {
            policy.relay_only(local_addr.ip(), config.relay_ports);
        }
        let policy = Arc::new(policy);

        let listener = |conn: Arc<dyn webrtc_util::Conn + Send + Sync>, ended| Listener {
            conn,
            ended,
            relays: Box::new(FilteredRelays {
                relay_ip: public_ip,
                address: local_addr.ip(),
                ports: config.relay_ports,
                policy: Arc::clone(&policy),
                bytes_per_sec: config.allocation_bytes_per_sec,
            }),
        };
        let mut listeners = vec![listener(Arc::new(socket), None)];
        let mut muxes = Vec::new();
        for (mux, ended) in streams {
            listeners.push(listener(Arc::clone(&mux) as _, Some(ended)));
            muxes.push(mux);
        }
        let server = TurnServer::start(
            listeners,
            Shared {
                front: AuthFront::new(
                    config.secret.clone(),
                    config.realm.clone(),
                    Arc::clone(&policy),
                    NonceKey::random(),
                ),
                auth_handler: Arc::new(RestAuthHandler::new(config.secret.clone())),
                realm: config.realm.clone(),
                quotas: config.quotas,
            },
        );

        let host = match public_ip {
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
            std::net::IpAddr::V4(ip) => ip.to_string(),
        };
        let port = local_addr.port();
        let mut urls = vec![
            format!("stun:{host}:{port}"),
            format!("turn:{host}:{port}?transport=udp"),
            format!("turn:{host}:{port}?transport=tcp"),
        ];
        if let (Some(addr), Some(tls)) = (tls_addr, &config.tls) {
            let tls_host = tls.host.as_deref().unwrap_or(&host);
            urls.push(format!("turns:{tls_host}:{}?transport=tcp", addr.port()));
        }
        Ok(Self {
            server,
            streams: muxes,
            local_addr,
            tls_addr,
            urls,
            secret: config.secret.clone(),
            ttl,
            allowed_peers: config.allowed_peers.clone(),
        })
    }

    /// For the startup line: where it listens and which peer ranges it
    /// opens beside the defaults.
    pub fn describe(&self) -> String {
        let mut line = format!("embedded, TURN on {}", self.local_addr);
        if let Some(tls) = self.tls_addr {
            line.push_str(&format!(", TURN over TLS on {tls}"));
        }
        if !self.allowed_peers.is_empty() {
            let ranges: Vec<String> = self.allowed_peers.iter().map(Cidr::to_string).collect();
            line.push_str(&format!(
                "; relays to peers in {} allowed",
                ranges.join(", ")
            ));
        }
        line
    }

    /// Where the TURN server listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where TURN over TLS listens, when enabled.
    pub fn tls_addr(&self) -> Option<SocketAddr> {
        self.tls_addr
    }

    /// Its `stun:` and `turn:` URLs with fresh credentials for `sub`.
    pub fn ice_servers(&self, sub: &str) -> IceServers {
        turn_rest::ice_servers(&self.secret, &self.urls, sub, self.ttl)
    }

    /// Stops the server and its allocations.
    pub async fn close(&self) {
        self.server.close().await;
        for stream in &self.streams {
            stream.shutdown();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_handler_accepts_fresh_and_refuses_expired() {
        let h = RestAuthHandler::new(Secret::new("s"));
        let src: SocketAddr = "127.0.0.1:5000".parse().unwrap_or_else(|_| unreachable!());
        let (user, pass) = turn_rest::credentials(&Secret::new("s"), "u", unix_now() + 60);
        let key = h.auth_handle(&user, "r", src).ok();
        assert_eq!(key, Some(generate_auth_key(&user, "r", &pass)));
        let (old, _) = turn_rest::credentials(&Secret::new("s"), "u", unix_now() - 1);
        assert!(h.auth_handle(&old, "r", src).is_err());
        assert!(h.auth_handle("alice", "r", src).is_err());
    }
}
