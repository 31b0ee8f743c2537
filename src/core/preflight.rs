//! `PeerManager.preflight()`'s policy: which check each ICE server URL gets,
//! and what the results mean for calls from this network. The browser edge
//! only runs the checks (one short-lived `RTCPeerConnection` each) and hands
//! back whether each found the candidate it was after.
//!
//! - `stun:` / `stuns:` URL: a STUN check, `iceTransportPolicy` "all",
//!   passing on a server-reflexive candidate;
//! - `turn:` / `turns:` URL: a TURN check, "relay", passing on a relay
//!   candidate, which with that one URL configured comes over its transport
//!   (`?transport=tcp` → tcp, `turns:` → tls, else udp).
//!
//! Verdict: `direct` when a STUN check passed (a reflexive address, so a
//! peer-to-peer path may work), else `relay` when a TURN check passed, else
//! `blocked`. `relayTransports`: where a relay worked, udp before tcp before
//! tls (the order a call would rather use them in).

use super::servers::IceServer;
use super::text::split_first;

/// Deadline of each check when the options name none (the contract's default).
pub const DEFAULT_TIMEOUT_MS: f64 = 5000.0;
/// The longest deadline accepted: a preflight is a short test, not a watch.
pub const MAX_TIMEOUT_MS: f64 = 60_000.0;
/// At most this many URLs are tested, the first ones in the list: each check
/// holds a connection, and the browser caps those (Chromium at 500).
pub const MAX_CHECKS: usize = 16;

/// What a check asks the server for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CheckKind {
    /// A server-reflexive address (STUN binding).
    Stun,
    /// A relay allocation (TURN).
    Turn,
}

impl CheckKind {
    /// "stun" | "turn".
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Stun => "stun",
            CheckKind::Turn => "turn",
        }
    }
}

/// The transport a URL is reached over, in the order a call prefers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
    /// TLS over TCP (`turns:`, `stuns:`).
    Tls,
}

impl Transport {
    /// "udp" | "tcp" | "tls".
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }
}

/// What `preflight()` concludes about calls from this network.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A server-reflexive address was found: a peer-to-peer path may work.
    Direct,
    /// No reflexive address, but a relay works.
    Relay,
    /// Nothing answered: calls will fail on this network.
    Blocked,
}

impl Verdict {
    /// "direct" | "relay" | "blocked".
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Direct => "direct",
            Verdict::Relay => "relay",
            Verdict::Blocked => "blocked",
        }
    }
}

/// One planned check: one URL of one server entry, to be tried alone with
/// that entry's credentials.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Check {
    /// The entry's index in the servers planned for.
    pub server: usize,
    /// The URL's index in that entry's `urls`.
    pub url: usize,
    /// What to ask it for.
    pub kind: CheckKind,
    /// How it is reached.
    pub transport: Transport,
}

impl Check {
    /// The URL tested (never a credential: those are in the entry apart).
    pub fn url_in<'a>(&self, servers: &'a [IceServer]) -> &'a str {
        &servers[self.server].urls[self.url]
    }
}

/// The check of a normalised URL (lower-case scheme; see
/// [`super::servers::normalise_url`]); None for any other scheme.
pub fn kind_of(url: &str) -> Option<(CheckKind, Transport)> {
    let (scheme, rest) = split_first(url, b':')?;
    match scheme {
        "stun" => Some((CheckKind::Stun, Transport::Udp)),
        "stuns" => Some((CheckKind::Stun, Transport::Tls)),
        "turns" => Some((CheckKind::Turn, Transport::Tls)),
        "turn" => {
            // RFC 7065: `transport` is the one parameter a turn: URL has.
            let query = split_first(rest, b'?').map_or("", |(_, query)| query);
            let tcp = query.eq_ignore_ascii_case("transport=tcp");
            Some((
                CheckKind::Turn,
                if tcp { Transport::Tcp } else { Transport::Udp },
            ))
        }
        _ => None,
    }
}

/// One check per distinct URL, in the order the servers list them, at most
/// [`MAX_CHECKS`].
pub fn plan(servers: &[IceServer]) -> Vec<Check> {
    let mut checks: Vec<Check> = Vec::new();
    for (server, entry) in servers.iter().enumerate() {
        for (url, text) in entry.urls.iter().enumerate() {
            let Some((kind, transport)) = kind_of(text) else {
                continue;
            };
            if checks.len() == MAX_CHECKS || checks.iter().any(|c| c.url_in(servers) == text) {
                continue;
            }
            checks.push(Check {
                server,
                url,
                kind,
                transport,
            });
        }
    }
    checks
}

/// What the results mean: the verdict, and over which transports a relay
/// worked. Starts with nothing passed; each check's result is added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Conclusion {
    /// A STUN check passed.
    direct: bool,
    /// By transport, in the order of preference: a TURN check passed.
    relayed: [bool; 3],
}

impl Conclusion {
    /// Takes in whether a check of this kind and transport passed.
    pub fn add(&mut self, kind: CheckKind, transport: Transport, passed: bool) {
        match (kind, passed) {
            (CheckKind::Stun, true) => self.direct = true,
            (CheckKind::Turn, true) => self.relayed[transport as usize] = true,
            _ => {}
        }
    }

    /// Direct, relay or blocked.
    pub fn verdict(&self) -> Verdict {
        if self.direct {
            Verdict::Direct
        } else if self.relayed.contains(&true) {
            Verdict::Relay
        } else {
            Verdict::Blocked
        }
    }

    /// The transports a relay worked over, best first, each once.
    pub fn relay_transports(&self) -> impl Iterator<Item = Transport> + '_ {
        [Transport::Udp, Transport::Tcp, Transport::Tls]
            .into_iter()
            .filter(|t| self.relayed[*t as usize])
    }
}

/// `PreflightOptions.timeoutMs`: the default when absent; None when it is
/// not a number of ms from 1 to [`MAX_TIMEOUT_MS`].
pub fn timeout_ms(value: Option<f64>) -> Option<f64> {
    match value {
        None => Some(DEFAULT_TIMEOUT_MS),
        Some(ms) if (1.0..=MAX_TIMEOUT_MS).contains(&ms) => Some(ms),
        Some(_) => None,
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use CheckKind::{Stun, Turn};
    use Transport::{Tcp, Tls, Udp};

    fn server(urls: &[&str], credentials: bool) -> IceServer {
        IceServer {
            urls: urls.iter().map(|u| u.to_string()).collect(),
            username: credentials.then(|| "user".to_owned()),
            credential: credentials.then(|| "secret".to_owned()),
        }
    }

    #[test]
    fn each_url_gets_the_check_its_scheme_and_transport_call_for() {
        for (url, kind) in [
            ("stun:h:3478", Some((Stun, Udp))),
            ("stuns:h:5349", Some((Stun, Tls))),
            ("turn:h:3478", Some((Turn, Udp))),
            ("turn:h:3478?transport=udp", Some((Turn, Udp))),
            ("turn:h:3478?transport=tcp", Some((Turn, Tcp))),
            ("turn:h?TRANSPORT=TCP", Some((Turn, Tcp))),
            ("turn:h?transport=tcpx", Some((Turn, Udp))),
            ("turns:h:443?transport=tcp", Some((Turn, Tls))),
            ("http:h", None),
            ("stun", None),
        ] {
            assert_eq!(kind_of(url), kind, "{url}");
        }
    }

    #[test]
    fn one_check_per_url_with_only_its_servers_credentials() {
        let servers = [
            server(&["stun:a:3478"], false),
            server(
                &["turn:a:3478?transport=udp", "turn:a:3478?transport=tcp"],
                true,
            ),
            server(&["turns:a:5349", "stun:a:3478"], true),
        ];
        let checks = plan(&servers);
        let summary: Vec<_> = checks
            .iter()
            .map(|c| {
                (
                    c.url_in(&servers),
                    c.kind,
                    c.transport,
                    servers[c.server].credential.is_some(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("stun:a:3478", Stun, Udp, false),
                ("turn:a:3478?transport=udp", Turn, Udp, true),
                ("turn:a:3478?transport=tcp", Turn, Tcp, true),
                ("turns:a:5349", Turn, Tls, true),
            ],
            "the repeated stun:a:3478 is tested once"
        );
    }

    #[test]
    fn the_number_of_checks_is_bounded() {
        let urls: Vec<String> = (1..100).map(|p| format!("stun:h:{p}")).collect();
        let servers = [IceServer {
            urls,
            username: None,
            credential: None,
        }];
        let checks = plan(&servers);
        assert_eq!(checks.len(), MAX_CHECKS);
        assert_eq!(checks[0].url_in(&servers), "stun:h:1");
        assert!(plan(&[]).is_empty());
    }

    /// Each check's (kind, transport, passed), the verdict, the relay transports.
    type Case<'a> = (&'a [(CheckKind, Transport, bool)], Verdict, &'a [Transport]);

    #[test]
    fn verdicts() {
        let cases: &[Case] = &[
            (&[], Verdict::Blocked, &[]),
            (
                &[(Stun, Udp, false), (Turn, Udp, false)],
                Verdict::Blocked,
                &[],
            ),
            (&[(Stun, Udp, true)], Verdict::Direct, &[]),
            (
                &[(Turn, Tls, true), (Stun, Udp, true), (Turn, Udp, true)],
                Verdict::Direct,
                &[Udp, Tls],
            ),
            // UDP dropped at the router: only TCP relays.
            (
                &[(Stun, Udp, false), (Turn, Udp, false), (Turn, Tcp, true)],
                Verdict::Relay,
                &[Tcp],
            ),
            (
                &[
                    (Turn, Tls, true),
                    (Turn, Tcp, true),
                    (Turn, Tcp, true),
                    (Turn, Udp, true),
                ],
                Verdict::Relay,
                &[Udp, Tcp, Tls],
            ),
        ];
        for (results, verdict, transports) in cases {
            let mut conclusion = Conclusion::default();
            for (kind, transport, passed) in results.iter().copied() {
                conclusion.add(kind, transport, passed);
            }
            let relays: Vec<Transport> = conclusion.relay_transports().collect();
            assert_eq!(
                (conclusion.verdict(), relays),
                (*verdict, transports.to_vec()),
                "{results:?}"
            );
        }
    }

    #[test]
    fn timeouts() {
        assert_eq!(timeout_ms(None), Some(DEFAULT_TIMEOUT_MS));
        assert_eq!(timeout_ms(Some(250.0)), Some(250.0));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, MAX_TIMEOUT_MS + 1.0] {
            assert_eq!(timeout_ms(Some(bad)), None, "{bad}");
        }
    }
}
