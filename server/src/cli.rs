//! Command-line flags with environment fallbacks (clap derive).
//!
//! [`Cli`] is what the user typed; [`crate::config::Config`] is the checked,
//! resolved form the server runs with.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

use crate::providers::turn_policy::{Cidr, PortRange};
use crate::secret::Secret;

/// Which ICE servers provider answers `/api/calls/ice-servers`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ProviderKind {
    /// Twilio when TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are set, else embedded.
    Auto,
    /// A TURN server inside this process.
    Embedded,
    /// TURN-REST credentials for an external coturn (`--use-auth-secret`).
    TurnRest,
    /// Twilio Network Traversal Service tokens.
    Twilio,
}

/// Reference backend for ice-peer: serves `GET /api/calls/ice-servers`.
///
/// `Debug` is safe to log: every secret is a [`Secret`], which redacts itself.
#[derive(Debug, Parser)]
#[command(name = "ice-peer-server", version, about, long_about = None)]
pub struct Cli {
    /// HTTP listen address.
    #[arg(long, env = "ICE_PEER_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// HS256 secret that verifies bearer JWTs, at least 32 bytes. Required unless --dev, which refuses it and makes a random one per process.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<Secret>,

    /// When set, a token's `aud` must contain this value (and dev tokens carry it).
    #[arg(long, env = "JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,

    /// When set, a token's `iss` must be this value (and dev tokens carry it).
    #[arg(long, env = "JWT_ISSUER")]
    pub jwt_issuer: Option<String>,

    /// Milliseconds for all of a request's headers to arrive, however slowly they trickle in (100..=300000).
    #[arg(long, env = "ICE_PEER_HEADER_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(100..=300_000))]
    pub http_header_timeout_ms: u64,

    /// Milliseconds to read a request's body and answer it; past that, 408 and the connection closes (100..=600000).
    #[arg(long, env = "ICE_PEER_REQUEST_TIMEOUT_MS", default_value_t = 30_000,
          value_parser = clap::value_parser!(u64).range(100..=600_000))]
    pub http_request_timeout_ms: u64,

    /// Open HTTP connections at most, WebSockets included; one more is closed at once (1..=65536).
    #[arg(long, env = "ICE_PEER_MAX_CONNECTIONS", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub http_max_connections: u64,

    /// Open HTTP connections from one client address at most (an IPv6 client by its /64); behind a proxy every client has the proxy's address (1..=65536).
    #[arg(long, env = "ICE_PEER_MAX_CONNECTIONS_PER_IP", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..=65_536))]
    pub http_max_connections_per_ip: u64,

    /// ICE servers provider.
    #[arg(long, env = "ICE_PROVIDER", value_enum, default_value_t = ProviderKind::Auto)]
    pub provider: ProviderKind,

    /// UDP address of the embedded TURN server.
    #[arg(long, env = "TURN_LISTEN", default_value = "127.0.0.1:3478")]
    pub turn_listen: SocketAddr,

    /// UDP ports the embedded server makes its relays on (FIRST-LAST); the server's own addresses are peers only on these.
    #[arg(long, env = "TURN_RELAY_PORTS", default_value = "49152-65535")]
    pub turn_relay_ports: PortRange,

    /// IP put in the embedded server's URLs and relay addresses [default: the --turn-listen IP, or 127.0.0.1 when that is unspecified].
    #[arg(long, env = "TURN_PUBLIC_IP")]
    pub turn_public_ip: Option<IpAddr>,

    /// TURN realm of the embedded server.
    #[arg(long, env = "TURN_REALM", default_value = "ice-peer")]
    pub turn_realm: String,

    /// Peer range the embedded TURN server may relay to although it is denied by default, e.g. 10.0.0.0/8 for a LAN demo (repeatable; env comma-separated).
    #[arg(
        long = "turn-allow-peer",
        env = "TURN_ALLOW_PEERS",
        value_delimiter = ','
    )]
    pub turn_allow_peers: Vec<Cidr>,

    /// Peer range the embedded TURN server never relays to, beside the default list; wins over --turn-allow-peer (repeatable; env comma-separated).
    #[arg(
        long = "turn-deny-peer",
        env = "TURN_DENY_PEERS",
        value_delimiter = ','
    )]
    pub turn_deny_peers: Vec<Cidr>,

    /// TCP address of the embedded server's TURN over TLS (turns:), e.g. 0.0.0.0:443; needs --turn-tls-cert and --turn-tls-key.
    #[arg(long, env = "TURN_TLS_LISTEN", requires_all = ["turn_tls_cert", "turn_tls_key"])]
    pub turn_tls_listen: Option<SocketAddr>,

    /// PEM certificate chain for --turn-tls-listen.
    #[arg(long, env = "TURN_TLS_CERT", requires = "turn_tls_listen")]
    pub turn_tls_cert: Option<PathBuf>,

    /// PEM private key for --turn-tls-listen.
    #[arg(long, env = "TURN_TLS_KEY", requires = "turn_tls_listen")]
    pub turn_tls_key: Option<PathBuf>,

    /// Host name in the turns: URL, the one the certificate names [default: the advertised IP].
    #[arg(long, env = "TURN_TLS_HOST", requires = "turn_tls_listen")]
    pub turn_tls_host: Option<String>,

    /// Allocations one user may hold on the embedded server, with all the TURN credentials they were given together.
    #[arg(long, env = "TURN_USER_QUOTA", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub turn_user_quota: u64,

    /// Allocations the embedded TURN server holds in all (each is a UDP socket).
    #[arg(long, env = "TURN_TOTAL_QUOTA", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub turn_total_quota: u64,

    /// Peer IPs one allocation may have permissions for.
    #[arg(long, env = "TURN_PERMISSION_QUOTA", default_value_t = 32,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub turn_permission_quota: u64,

    /// Channels one allocation may bind (each to one peer address).
    #[arg(long, env = "TURN_CHANNEL_QUOTA", default_value_t = 64,
          value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub turn_channel_quota: u64,

    /// Bandwidth cap of one allocation in kbit/s, both directions together; 0: none.
    #[arg(long, env = "TURN_ALLOCATION_KBPS", default_value_t = 0)]
    pub turn_allocation_kbps: u64,

    /// TURN-REST shared secret (coturn's --static-auth-secret). Random if absent for embedded; required for turn-rest.
    #[arg(long, env = "TURN_SECRET", hide_env_values = true)]
    pub turn_secret: Option<Secret>,

    /// STUN/TURN URL handed out by the turn-rest provider (repeatable; env comma-separated).
    #[arg(long = "turn-url", env = "TURN_URLS", value_delimiter = ',')]
    pub turn_urls: Vec<String>,

    /// Lifetime of issued TURN credentials, in seconds (60..=604800; Twilio caps it at 86400).
    #[arg(long, env = "ICE_CREDENTIAL_TTL", default_value_t = 86_400,
          value_parser = clap::value_parser!(u64).range(60..=604_800))]
    pub credential_ttl: u64,

    /// Seconds a signaling room may stay silent before it expires (1..=86400).
    #[arg(long, env = "SIGNAL_IDLE_SECS", default_value_t = 600,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub signal_idle_secs: u64,

    /// Seconds a signaling client may send nothing (the server pings every third of it) before its socket is dropped (3..=3600).
    #[arg(long, env = "SIGNAL_SILENCE_SECS", default_value_t = 45,
          value_parser = clap::value_parser!(u64).range(3..=3_600))]
    pub signal_silence_secs: u64,

    /// Messages a second one signaling socket may send, ten seconds' worth at once; past it the socket is closed with rate-limited (1..=10000).
    #[arg(long, env = "SIGNAL_MAX_MESSAGES_PER_SEC", default_value_t = 100,
          value_parser = clap::value_parser!(u64).range(1..=10_000))]
    pub signal_max_messages_per_sec: u64,

    /// KiB of signals one signaling socket's outbound queue holds for a client that does not read them (besides its 64 messages); past it the socket is closed with slow-consumer. At least 256: a relayed signal can take about 250 KiB (256..=65536).
    #[arg(long, env = "SIGNAL_OUTBOX_KIB", default_value_t = 1_024,
          value_parser = clap::value_parser!(u64).range(256..=65_536))]
    pub signal_outbox_kib: u64,

    /// Seconds a signaling room lives if nobody joins it (1..=604800).
    #[arg(long, env = "SIGNAL_ROOM_TTL_SECS", default_value_t = 3_600,
          value_parser = clap::value_parser!(u64).range(1..=604_800))]
    pub room_ttl_secs: u64,

    /// Live signaling rooms one user may have created.
    #[arg(long, env = "SIGNAL_MAX_ROOMS_PER_USER", default_value_t = 32,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_rooms_per_user: u32,

    /// Live signaling rooms in total.
    #[arg(long, env = "SIGNAL_MAX_ROOMS", default_value_t = 100_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_rooms: u32,

    /// MiB of signals that all signaling rooms together keep for replay (each seat keeps at most 1 MiB); past it a new signal is refused with `unavailable`. With --redis-url, counted in Redis for all replicas (1..=1048576).
    #[arg(long, env = "SIGNAL_REPLAY_BUDGET_MIB", default_value_t = 256,
          value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub signal_replay_budget_mib: u64,

    /// MiB of that replay budget the signals one user (JWT subject) sent may hold, in all their rooms; past it that user's new signals are refused with `unavailable`, and other users' are not (1..=1048576).
    #[arg(long, env = "SIGNAL_REPLAY_PER_USER_MIB", default_value_t = 8,
          value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
    pub signal_replay_per_user_mib: u64,

    /// Open signaling sockets in total.
    #[arg(long, env = "SIGNAL_MAX_SOCKETS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_signal_sockets: u32,

    /// Open signaling sockets per user (JWT subject).
    #[arg(long, env = "SIGNAL_MAX_SOCKETS_PER_USER", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_signal_sockets_per_user: u32,

    /// Signaling sockets per client IP that have not authenticated yet.
    #[arg(long, env = "SIGNAL_MAX_UNAUTHENTICATED_PER_IP", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_unauthenticated_per_ip: u32,

    /// Redis that keeps the signaling rooms, so that several replicas share them, e.g. redis://127.0.0.1:6379/ [default: rooms in this process's memory].
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<Secret>,

    /// Twilio Account SID.
    #[arg(long, env = "TWILIO_ACCOUNT_SID")]
    pub twilio_account_sid: Option<String>,

    /// Twilio auth token (prefer the environment variable: flags show up in `ps`).
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub twilio_auth_token: Option<Secret>,

    /// Twilio API base URL (point it at a stub in tests).
    #[arg(
        long,
        env = "TWILIO_BASE_URL",
        default_value = "https://api.twilio.com"
    )]
    pub twilio_base_url: String,

    /// Timeout of one Twilio request, in milliseconds.
    #[arg(long, env = "TWILIO_TIMEOUT_MS", default_value_t = 5_000,
          value_parser = clap::value_parser!(u64).range(100..=60_000))]
    pub twilio_timeout_ms: u64,

    /// Enable the dev routes: demo token minting, simulated outage, www/ and pkg/ file serving.
    #[arg(long, env = "ICE_PEER_DEV")]
    pub dev: bool,

    /// Directory served at / with --dev.
    #[arg(long, env = "ICE_PEER_WWW_DIR", default_value = "./www")]
    pub www_dir: PathBuf,

    /// Directory served at /pkg/ with --dev.
    #[arg(long, env = "ICE_PEER_PKG_DIR", default_value = "./pkg")]
    pub pkg_dir: PathBuf,

    /// Origin allowed by CORS, e.g. https://app.example.com (repeatable; env comma-separated). None by default.
    #[arg(
        long = "cors-origin",
        env = "ICE_PEER_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
}
