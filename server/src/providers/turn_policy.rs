//! Which peers the embedded TURN server relays to (RFC 8656 §21.3, the TURN
//! SSRF of coturn's CVE-2020-26262): by default nothing in the server's own
//! networks, loopback, link-local, multicast or unspecified, in any IPv6
//! spelling of an IPv4 address, and never the server's own listening ports.
//! `--turn-allow-peer` opens a range, `--turn-deny-peer` closes more.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

/// An IP range, `10.0.0.0/8` or `fc00::/7` (a bare address is a /32 or /128).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

/// Why a CIDR or a port range did not parse; the message names the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RangeError(pub String);

impl fmt::Display for RangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for RangeError {}

impl FromStr for Cidr {
    type Err = RangeError;

    fn from_str(text: &str) -> Result<Self, RangeError> {
        let bad = || {
            RangeError(format!(
                "invalid CIDR {text:?}: expected e.g. 10.0.0.0/8 or fc00::/7"
            ))
        };
        let (ip, prefix) = match text.trim().split_once('/') {
            Some((ip, prefix)) => (ip, Some(prefix)),
            None => (text.trim(), None),
        };
        let ip: IpAddr = ip.parse().map_err(|_| bad())?;
        let bits = if ip.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(bad)?,
            None => bits,
        };
        Ok(Self::new(ip, prefix))
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl Cidr {
    /// The range of `prefix` leading bits of `ip` (host bits are cleared).
    pub fn new(ip: IpAddr, prefix: u8) -> Self {
        let network = match ip {
            IpAddr::V4(v4) => {
                let prefix = prefix.min(32);
                IpAddr::V4(Ipv4Addr::from(u32::from(v4) & mask32(prefix)))
            }
            IpAddr::V6(v6) => {
                let prefix = prefix.min(128);
                IpAddr::V6(Ipv6Addr::from(u128::from(v6) & mask128(prefix)))
            }
        };
        Self { network, prefix }
    }

    /// True when `ip` is in this range; an IPv4 range also holds the IPv4
    /// address's IPv6 forms (see [`canonical`]).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                u32::from(ip) & mask32(self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                u128::from(ip) & mask128(self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

/// A range of ports, `first-last` on the command line (both included).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortRange {
    first: u16,
    last: u16,
}

impl PortRange {
    /// The ports from `first` to `last`; None when `first` comes after `last`.
    pub fn new(first: u16, last: u16) -> Option<Self> {
        (first <= last).then_some(Self { first, last })
    }

    /// True when `port` is in the range.
    pub fn contains(&self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }

    /// The first and the last port.
    pub fn bounds(&self) -> (u16, u16) {
        (self.first, self.last)
    }
}

impl FromStr for PortRange {
    type Err = RangeError;

    fn from_str(text: &str) -> Result<Self, RangeError> {
        let bad = || {
            RangeError(format!(
                "invalid port range {text:?}: expected e.g. 49152-65535 (first 1..=65535, not after last)"
            ))
        };
        let (first, last) = text.trim().split_once('-').ok_or_else(bad)?;
        let port = |p: &str| p.trim().parse::<u16>().ok().filter(|&p| p > 0);
        let (first, last) = (port(first).ok_or_else(bad)?, port(last).ok_or_else(bad)?);
        Self::new(first, last).ok_or_else(bad)
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

fn mask32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

/// `ip` with an IPv4 address written as IPv6 turned back into IPv4: mapped
/// (`::ffff:127.0.0.1`), compatible (`::127.0.0.1`, deprecated but still
/// routed by some stacks) and NAT64's well-known prefix (`64:ff9b::/96`,
/// RFC 6052: a NAT64 gateway on the path delivers it to that IPv4 address).
/// `::` and `::1` stay IPv6.
pub fn canonical(ip: IpAddr) -> IpAddr {
    /// The upper 96 bits of `64:ff9b::/96`.
    const NAT64_PREFIX: u128 = 0x0064_ff9b_0000_0000_0000_0000;
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let bits = u128::from(v6);
            if (bits >> 32 == 0 && bits > 1) || bits >> 32 == NAT64_PREFIX {
                return IpAddr::V4(Ipv4Addr::from(bits as u32));
            }
            ip
        }
        IpAddr::V4(_) => ip,
    }
}

/// The ranges refused by default: this host, private networks, shared
/// address space (CGNAT), link-local (cloud metadata at 169.254.169.254),
/// IETF protocol assignments, benchmarking, multicast, reserved and
/// broadcast; their IPv6 counterparts, and the IPv6 prefixes that carry an
/// IPv4 address a gateway may deliver to without this policy seeing it:
/// NAT64's local-use prefix (RFC 8215) and 6to4 (RFC 3056, deprecated).
/// NAT64's well-known prefix is checked as the IPv4 address it holds
/// ([`canonical`]).
pub const DEFAULT_DENIED: &[&str] = &[
    "0.0.0.0/8",
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "100.64.0.0/10",
    "169.254.0.0/16",
    "192.0.0.0/24",
    "198.18.0.0/15",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "255.255.255.255/32",
    "::/128",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
    "64:ff9b:1::/48",
    "2002::/16",
];

/// The relay's decision on a peer address.
#[derive(Clone, Debug)]
pub struct PeerPolicy {
    allowed: Vec<Cidr>,
    denied: Vec<Cidr>,
    default_denied: Vec<Cidr>,
    own: Vec<SocketAddr>,
    own_ips: Vec<(IpAddr, PortRange)>,
}

impl PeerPolicy {
    /// The default deny list, opened by `allowed` and closed further by
    /// `denied` (which wins over `allowed`).
    pub fn new(allowed: Vec<Cidr>, denied: Vec<Cidr>) -> Self {
        let default_denied = DEFAULT_DENIED
            .iter()
            .filter_map(|c| c.parse().ok())
            .collect();
        Self {
            allowed,
            denied,
            default_denied,
            own: Vec::new(),
            own_ips: Vec::new(),
        }
    }

    /// Refuses the server's own address `ip` on every port outside
    /// `relay_ports`, unless an allowed range holds it: relays may reach each
    /// other there, but any other port may be a service of this host
    /// listening on every address.
    pub fn relay_only(&mut self, ip: IpAddr, relay_ports: PortRange) {
        self.own_ips.push((canonical(ip), relay_ports));
    }

    /// Refuses `addr` whatever the ranges say: one of the server's own
    /// listening sockets. An unspecified IP (`0.0.0.0`) stands for every
    /// address of the host, so its port is refused on any IP.
    pub fn deny_own(&mut self, addr: SocketAddr) {
        self.own.push(addr);
    }

    /// True when the relay may exchange datagrams with `peer`.
    pub fn permits(&self, peer: SocketAddr) -> bool {
        let ip = canonical(peer.ip());
        let own = self.own.iter().any(|own| {
            own.port() == peer.port() && (own.ip().is_unspecified() || canonical(own.ip()) == ip)
        });
        if own || self.denied.iter().any(|c| c.contains(ip)) {
            return false;
        }
        if self.allowed.iter().any(|c| c.contains(ip)) {
            return true;
        }
        let own_service = (self.own_ips.iter())
            .any(|(own, relay_ports)| *own == ip && !relay_ports.contains(peer.port()));
        !own_service && !self.default_denied.iter().any(|c| c.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn peer(s: &str) -> SocketAddr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn cidrs_parse_and_refuse_nonsense() {
        assert_eq!(cidr("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert_eq!(cidr("192.0.2.7").to_string(), "192.0.2.7/32");
        assert_eq!(cidr("fc00::1/7").to_string(), "fc00::/7");
        assert_eq!(cidr("0.0.0.0/0").to_string(), "0.0.0.0/0");
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "10.0.0.0/x",
            "host/8",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad:?} must not parse");
        }
    }

    #[test]
    fn every_default_range_parses() {
        for c in DEFAULT_DENIED {
            assert!(c.parse::<Cidr>().is_ok(), "{c}");
        }
    }

    #[test]
    fn ipv4_ranges_hold_the_ipv6_spellings_of_their_addresses() {
        let lo = cidr("127.0.0.0/8");
        for ip in ["127.0.0.1", "::ffff:127.0.0.1", "::127.0.0.1"] {
            assert!(
                lo.contains(ip.parse().unwrap_or_else(|_| unreachable!())),
                "{ip}"
            );
        }
        assert!(!lo.contains("128.0.0.1".parse().unwrap_or_else(|_| unreachable!())));
        assert!(cidr("0.0.0.0/0").contains("8.8.8.8".parse().unwrap_or_else(|_| unreachable!())));
    }

    #[test]
    fn the_default_refuses_the_servers_networks_and_lets_the_internet_through() {
        let policy = PeerPolicy::new(vec![], vec![]);
        for denied in [
            "0.0.0.0:9",
            "127.0.0.1:5000",
            "10.0.0.1:5000",
            "172.16.0.1:5000",
            "172.31.255.255:5000",
            "192.168.1.1:5000",
            "100.64.0.1:5000",
            "169.254.169.254:80",
            "224.0.0.1:5000",
            "239.255.255.250:1900",
            "240.0.0.1:5000",
            "255.255.255.255:5000",
            "[::]:5000",
            "[::1]:5000",
            "[fd00::1]:5000",
            "[fe80::1]:5000",
            "[ff02::1]:5000",
            "[::ffff:127.0.0.1]:5000",
            "[::ffff:10.0.0.1]:5000",
            "[::ffff:169.254.169.254]:80",
            "[::ffff:0.0.0.0]:5000",
            "[::127.0.0.1]:5000",
            "[::192.168.1.1]:5000",
            "192.0.0.1:5000",
            "198.18.0.1:5000",
            "198.19.255.255:5000",
            "[64:ff9b::7f00:1]:5000",
            "[64:ff9b::a9fe:a9fe]:80",
            "[64:ff9b::c0a8:101]:5000",
            "[64:ff9b:1::a00:1]:5000",
            "[2002:7f00:1::1]:5000",
        ] {
            assert!(!policy.permits(peer(denied)), "{denied} must be refused");
        }
        for allowed in [
            "8.8.8.8:53",
            "203.0.113.10:5000",
            "198.51.100.7:5000",
            "172.32.0.1:5000",
            "100.128.0.1:5000",
            "[2001:db8::1]:5000",
            "[::ffff:8.8.8.8]:53",
            "[64:ff9b::808:808]:53",
            "198.20.0.1:5000",
        ] {
            assert!(policy.permits(peer(allowed)), "{allowed} must be permitted");
        }
    }

    #[test]
    fn allow_opens_a_range_and_deny_wins_over_it() {
        let policy = PeerPolicy::new(
            vec![cidr("127.0.0.0/8"), cidr("10.0.0.0/8")],
            vec![cidr("10.1.0.0/16"), cidr("8.8.8.8")],
        );
        assert!(policy.permits(peer("127.0.0.1:5000")));
        assert!(policy.permits(peer("[::ffff:127.0.0.1]:5000")));
        assert!(policy.permits(peer("10.2.0.1:5000")));
        assert!(!policy.permits(peer("10.1.0.1:5000")));
        assert!(!policy.permits(peer("8.8.8.8:53")));
        assert!(!policy.permits(peer("192.168.1.1:5000")));
    }

    #[test]
    fn port_ranges_parse_and_refuse_nonsense() {
        let range: PortRange = "49152-65535".parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(range.to_string(), "49152-65535");
        assert!(range.contains(49152) && range.contains(65535) && !range.contains(49151));
        for bad in ["", "5000", "0-10", "10-5", "1-65536", "a-b", "1-2-3"] {
            assert!(bad.parse::<PortRange>().is_err(), "{bad:?} must not parse");
        }
    }

    #[test]
    fn the_servers_own_address_is_a_peer_only_on_relay_ports_unless_allowed() {
        let relay_ports: PortRange = "40000-40099".parse().unwrap_or_else(|e| panic!("{e}"));
        let mut policy = PeerPolicy::new(vec![], vec![]);
        policy.relay_only(
            "198.51.100.9".parse().unwrap_or_else(|_| unreachable!()),
            relay_ports,
        );
        assert!(policy.permits(peer("198.51.100.9:40000")));
        assert!(policy.permits(peer("[::ffff:198.51.100.9]:40099")));
        assert!(!policy.permits(peer("198.51.100.9:53")));
        assert!(!policy.permits(peer("[::ffff:198.51.100.9]:11211")));
        assert!(policy.permits(peer("198.51.100.10:53")));
        let mut opened = PeerPolicy::new(vec![cidr("198.51.100.9")], vec![]);
        opened.relay_only(
            "198.51.100.9".parse().unwrap_or_else(|_| unreachable!()),
            relay_ports,
        );
        assert!(opened.permits(peer("198.51.100.9:53")), "opened explicitly");
    }

    #[test]
    fn own_listening_sockets_stay_refused_even_in_an_allowed_range() {
        let mut policy = PeerPolicy::new(vec![cidr("127.0.0.0/8")], vec![]);
        policy.deny_own(peer("127.0.0.1:3478"));
        policy.deny_own(peer("0.0.0.0:8080"));
        assert!(!policy.permits(peer("127.0.0.1:3478")));
        assert!(!policy.permits(peer("[::ffff:127.0.0.1]:3478")));
        assert!(policy.permits(peer("127.0.0.1:3479")));
        // Listening on every address: that port on any of them.
        assert!(!policy.permits(peer("127.0.0.1:8080")));
        assert!(!policy.permits(peer("203.0.113.10:8080")));
        assert!(policy.permits(peer("203.0.113.10:8081")));
    }
}
