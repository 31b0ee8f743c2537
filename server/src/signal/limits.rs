//! Caps on signaling sockets in this process: in total, unauthenticated ones
//! per client IP, and authenticated ones per subject. Each socket holds
//! RAII permits, so a socket that ends for any reason gives its place back.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::permits::{Counter, Permit};
use crate::rate::TokenBucket;

/// The caps (from the command line).
#[derive(Debug, Clone, Copy)]
pub struct SocketCaps {
    /// Open signaling sockets in total.
    pub total: usize,
    /// Sockets per client IP that have not authenticated yet.
    pub unauthenticated_per_ip: usize,
    /// Authenticated sockets per subject.
    pub per_subject: usize,
    /// A client that sends nothing (not even the pong to the server's ping)
    /// for this long is gone; the server pings at a third of it.
    pub silence: Duration,
    /// Messages a second one socket may send, with ten seconds' worth saved
    /// up for a burst: a resume may send a whole replay buffer (256
    /// signals) again, and ack as many.
    pub messages_per_sec: u64,
    /// Bytes of signal `data` one socket's outbound queue holds for a
    /// client that does not read them, besides its 64 messages; past
    /// either, the socket is closed with `slow-consumer`.
    pub outbox_bytes: usize,
}

/// Counts of open sockets.
pub struct SocketLimits {
    caps: SocketCaps,
    total: Arc<Counter<()>>,
    unauthenticated: Arc<Counter<IpAddr>>,
    subjects: Arc<Counter<String>>,
}

/// Why a socket was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The server has `total` sockets.
    Total,
    /// This IP has `unauthenticated_per_ip` sockets still authenticating.
    UnauthenticatedPerIp,
    /// This subject has `per_subject` sockets.
    PerSubject,
}

/// What a socket holds before it authenticates.
pub struct Unauthenticated {
    _total: Permit<()>,
    _ip: Permit<IpAddr>,
}

/// What a socket holds once authenticated.
pub struct Authenticated {
    _total: Permit<()>,
    _subject: Permit<String>,
}

impl SocketLimits {
    /// No sockets yet.
    pub fn new(caps: SocketCaps) -> Self {
        Self {
            caps,
            total: Counter::new(),
            unauthenticated: Counter::new(),
            subjects: Counter::new(),
        }
    }

    /// A place for a new socket from `ip`, before the upgrade.
    pub fn admit(&self, ip: IpAddr) -> Result<Unauthenticated, Refused> {
        let total = self.total.take((), self.caps.total).ok_or(Refused::Total)?;
        let ip = (self.unauthenticated)
            .take(ip, self.caps.unauthenticated_per_ip)
            .ok_or(Refused::UnauthenticatedPerIp)?;
        Ok(Unauthenticated {
            _total: total,
            _ip: ip,
        })
    }

    /// Trades the per-IP place for one of `sub`'s.
    pub fn authenticated(
        &self,
        socket: Unauthenticated,
        sub: &str,
    ) -> Result<Authenticated, Refused> {
        let subject = (self.subjects)
            .take(sub.to_owned(), self.caps.per_subject)
            .ok_or(Refused::PerSubject)?;
        Ok(Authenticated {
            _total: socket._total,
            _subject: subject,
        })
    }

    /// How long a client may stay silent.
    pub fn silence(&self) -> Duration {
        self.caps.silence
    }

    /// What one socket's outbound queue may hold, in bytes of signal `data`.
    pub fn outbox_bytes(&self) -> usize {
        self.caps.outbox_bytes
    }

    /// What one socket may send: a full bucket for a new socket.
    pub fn message_rate(&self) -> TokenBucket {
        let rate = self.caps.messages_per_sec;
        TokenBucket::new(rate, rate.saturating_mul(10), Instant::now())
    }

    /// Open sockets (for tests and metrics).
    pub fn total(&self) -> usize {
        self.total.count(&())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_count_and_give_back() {
        let limits = SocketLimits::new(SocketCaps {
            total: 3,
            unauthenticated_per_ip: 2,
            per_subject: 1,
            silence: Duration::from_secs(1),
            messages_per_sec: 100,
            outbox_bytes: 1 << 20,
        });
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        let a = limits.admit(ip).unwrap();
        let b = limits.admit(ip).unwrap();
        assert_eq!(limits.admit(ip).err(), Some(Refused::UnauthenticatedPerIp));
        let a = limits.authenticated(a, "alice").unwrap();
        let c = limits.admit(ip).unwrap();
        assert_eq!(limits.admit(other).err(), Some(Refused::Total));
        assert_eq!(
            limits.authenticated(b, "alice").err(),
            Some(Refused::PerSubject)
        );
        assert_eq!(limits.total(), 2);
        drop((a, c));
        assert_eq!(limits.total(), 0);
        assert!(limits.admit(other).is_ok());
    }
}
