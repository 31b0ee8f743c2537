//! The checked configuration the server runs with, resolved from [`Cli`].

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use axum::http::HeaderValue;

use crate::auth::MIN_JWT_SECRET_LEN;
use crate::cli::{Cli, ProviderKind};
use crate::http::HttpLimits;
use crate::providers::turn_policy::{Cidr, PortRange};
use crate::providers::turn_server::Quotas;
use crate::secret::Secret;
use crate::signal::limits::SocketCaps;
use crate::signal::registry::RegistryLimits;

/// Twilio's maximum (and default) token lifetime, in seconds.
pub const TWILIO_MAX_TTL: u64 = 86_400;

/// A configuration error, shown to the user as `error: <message>`. Never contains a secret.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

fn err<T>(message: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError(message.into()))
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// HTTP listen address.
    pub listen: SocketAddr,
    /// HS256 JWT secret.
    pub jwt_secret: Secret,
    /// True when `jwt_secret` was generated because none was given (dev only).
    pub jwt_secret_generated: bool,
    /// `aud` every token must carry, when set.
    pub jwt_audience: Option<String>,
    /// `iss` every token must carry, when set.
    pub jwt_issuer: Option<String>,
    /// The HTTP server's timeouts and connection cap.
    pub http: HttpLimits,
    /// The provider and its settings.
    pub provider: ProviderConfig,
    /// Lifetime of issued TURN credentials.
    pub credential_ttl: Duration,
    /// Signaling rooms and socket caps.
    pub signal: SignalConfig,
    /// Redis that keeps the signaling rooms (`--redis-url`); `None`: in memory.
    pub redis_url: Option<Secret>,
    /// Dev routes, when `--dev`.
    pub dev: Option<DevConfig>,
    /// Origins allowed by CORS.
    pub cors_origins: Vec<HeaderValue>,
}

/// Signaling limits: rooms (kept by the registry) and sockets (per process).
#[derive(Debug, Clone, Copy)]
pub struct SignalConfig {
    /// Room lifetimes and counts.
    pub registry: RegistryLimits,
    /// Socket caps.
    pub sockets: SocketCaps,
}

/// Settings of the dev routes.
#[derive(Debug, Clone)]
pub struct DevConfig {
    /// Served at `/`.
    pub www_dir: PathBuf,
    /// Served at `/pkg/`.
    pub pkg_dir: PathBuf,
}

/// One provider's settings.
#[derive(Debug, Clone)]
pub enum ProviderConfig {
    /// TURN server inside the process.
    Embedded(Box<EmbeddedConfig>),
    /// External coturn with a shared secret.
    TurnRest(TurnRestConfig),
    /// Twilio Network Traversal Service.
    Twilio(TwilioConfig),
}

/// Embedded TURN server settings.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// UDP listen address (port 0 picks a free one).
    pub listen: SocketAddr,
    /// IP advertised in URLs and relay addresses; `None` derives it from `listen`.
    pub public_ip: Option<IpAddr>,
    /// TURN realm.
    pub realm: String,
    /// TURN-REST shared secret.
    pub secret: Secret,
    /// Peer ranges opened beside the default deny list (`--turn-allow-peer`,
    /// and 127.0.0.0/8 with `--dev` on a loopback `--turn-listen`).
    pub allowed_peers: Vec<Cidr>,
    /// Peer ranges closed beside the default deny list (`--turn-deny-peer`).
    pub denied_peers: Vec<Cidr>,
    /// The ports relays are made on; the server's own addresses are peers
    /// only there.
    pub relay_ports: PortRange,
    /// The HTTP listen address: relays never reach it.
    pub http_listen: SocketAddr,
    /// Allocations and permissions allowed.
    pub quotas: Quotas,
    /// Bytes per second one allocation may relay; `None`: no cap.
    pub allocation_bytes_per_sec: Option<u64>,
    /// TURN over TLS, when `--turn-tls-listen` is given.
    pub tls: Option<TurnTlsConfig>,
}

/// TURN over TLS (`turns:`) settings of the embedded server.
#[derive(Debug, Clone)]
pub struct TurnTlsConfig {
    /// TCP listen address.
    pub listen: SocketAddr,
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
    /// Host put in the `turns:` URL; `None`: the advertised IP.
    pub host: Option<String>,
}

/// What `--dev` opens to the relay when the TURN server listens on loopback:
/// the one-machine demo's two sides relay to each other there.
pub const DEV_ALLOWED_PEERS: &str = "127.0.0.0/8";

/// External TURN-REST server settings.
#[derive(Debug, Clone)]
pub struct TurnRestConfig {
    /// Shared secret (coturn `--static-auth-secret`).
    pub secret: Secret,
    /// `stun:`/`stuns:`/`turn:`/`turns:` URLs.
    pub urls: Vec<String>,
}

/// Twilio settings.
#[derive(Debug, Clone)]
pub struct TwilioConfig {
    /// Account SID (not secret).
    pub account_sid: String,
    /// Auth token.
    pub auth_token: Secret,
    /// API base URL without trailing slash.
    pub base_url: String,
    /// Timeout of one upstream request.
    pub timeout: Duration,
}

impl Config {
    /// Checks and resolves the flags.
    pub fn from_cli(cli: Cli) -> Result<Self, ConfigError> {
        let jwt_secret_generated = cli.jwt_secret.is_none();
        let jwt_secret = resolve_jwt_secret(&cli)?;
        let jwt_audience = non_empty_claim(&cli.jwt_audience, "--jwt-audience / JWT_AUDIENCE")?;
        let jwt_issuer = non_empty_claim(&cli.jwt_issuer, "--jwt-issuer / JWT_ISSUER")?;
        let provider = resolve_provider(&cli)?;
        let cors_origins = cli
            .cors_origins
            .iter()
            .map(|o| parse_origin(o))
            .collect::<Result<_, _>>()?;
        let dev = cli.dev.then(|| DevConfig {
            www_dir: cli.www_dir.clone(),
            pkg_dir: cli.pkg_dir.clone(),
        });
        Ok(Self {
            listen: cli.listen,
            jwt_secret,
            jwt_secret_generated,
            jwt_audience,
            jwt_issuer,
            http: HttpLimits {
                header_timeout: Duration::from_millis(cli.http_header_timeout_ms),
                request_timeout: Duration::from_millis(cli.http_request_timeout_ms),
                // The parser caps the flag at 65536.
                max_connections: usize::try_from(cli.http_max_connections).unwrap_or(65_536),
                max_connections_per_ip: usize::try_from(cli.http_max_connections_per_ip)
                    .unwrap_or(65_536),
            },
            provider,
            credential_ttl: Duration::from_secs(cli.credential_ttl),
            signal: SignalConfig {
                registry: RegistryLimits {
                    room_ttl: Duration::from_secs(cli.room_ttl_secs),
                    idle: Duration::from_secs(cli.signal_idle_secs),
                    rooms_per_creator: cli.max_rooms_per_user as usize,
                    rooms_total: cli.max_rooms as usize,
                    // The parser caps the flag at 1 TiB.
                    replay_budget: usize::try_from(cli.signal_replay_budget_mib << 20)
                        .unwrap_or(usize::MAX),
                    // The parser caps the flag at 1 TiB.
                    replay_per_subject: usize::try_from(cli.signal_replay_per_user_mib << 20)
                        .unwrap_or(usize::MAX),
                },
                sockets: SocketCaps {
                    total: cli.max_signal_sockets as usize,
                    unauthenticated_per_ip: cli.max_unauthenticated_per_ip as usize,
                    per_subject: cli.max_signal_sockets_per_user as usize,
                    silence: Duration::from_secs(cli.signal_silence_secs),
                    messages_per_sec: cli.signal_max_messages_per_sec,
                    // The parser caps the flag at 64 MiB.
                    outbox_bytes: usize::try_from(cli.signal_outbox_kib << 10)
                        .unwrap_or(usize::MAX),
                },
            },
            redis_url: cli.redis_url.filter(|url| !url.is_empty()),
            dev,
            cors_origins,
        })
    }
}

/// The JWT secret: given (32 bytes at least) in production; random, and never
/// given, with `--dev`, whose token route would otherwise let anyone mint
/// tokens signed with the production secret.
fn resolve_jwt_secret(cli: &Cli) -> Result<Secret, ConfigError> {
    match &cli.jwt_secret {
        Some(_) if cli.dev => err(
            "--dev refuses --jwt-secret / JWT_SECRET: its token route would let anyone mint \
             tokens signed with that secret; unset it (dev makes a random one per process)",
        ),
        Some(s) if s.expose().len() < MIN_JWT_SECRET_LEN => err(format!(
            "--jwt-secret / JWT_SECRET is too short: it must be at least {MIN_JWT_SECRET_LEN} bytes \
             (an HS256 key that short can be brute-forced); e.g. `openssl rand -base64 32`"
        )),
        Some(s) => Ok(s.clone()),
        None if cli.dev => Ok(Secret::random()),
        None => err("--jwt-secret or JWT_SECRET is required (or run with --dev for a random one)"),
    }
}

fn non_empty_claim(value: &Option<String>, name: &str) -> Result<Option<String>, ConfigError> {
    match value.as_deref().map(str::trim) {
        Some("") => err(format!("{name} is empty")),
        Some(v) => Ok(Some(v.to_owned())),
        None => Ok(None),
    }
}

fn twilio_env_set(cli: &Cli) -> bool {
    cli.twilio_account_sid
        .as_deref()
        .is_some_and(|s| !s.is_empty())
        || cli
            .twilio_auth_token
            .as_ref()
            .is_some_and(|s| !s.is_empty())
}

fn resolve_provider(cli: &Cli) -> Result<ProviderConfig, ConfigError> {
    let kind = match cli.provider {
        ProviderKind::Auto if twilio_env_set(cli) => ProviderKind::Twilio,
        ProviderKind::Auto => ProviderKind::Embedded,
        other => other,
    };
    match kind {
        ProviderKind::Twilio => twilio_config(cli).map(ProviderConfig::Twilio),
        ProviderKind::TurnRest => turn_rest_config(cli).map(ProviderConfig::TurnRest),
        _ => embedded_config(cli).map(|c| ProviderConfig::Embedded(Box::new(c))),
    }
}

fn embedded_config(cli: &Cli) -> Result<EmbeddedConfig, ConfigError> {
    if cli.turn_realm.is_empty() || !cli.turn_realm.is_ascii() || cli.turn_realm.len() > 127 {
        return err("--turn-realm must be 1 to 127 ASCII characters");
    }
    let secret = match &cli.turn_secret {
        Some(s) if s.is_empty() => return err("--turn-secret / TURN_SECRET is empty"),
        Some(s) => s.clone(),
        None => Secret::random(),
    };
    let tls = match (cli.turn_tls_listen, &cli.turn_tls_cert, &cli.turn_tls_key) {
        (Some(listen), Some(cert), Some(key)) => Some(TurnTlsConfig {
            listen,
            cert: cert.clone(),
            key: key.clone(),
            host: cli.turn_tls_host.clone(),
        }),
        (None, None, None) => None,
        _ => return err("--turn-tls-listen needs --turn-tls-cert and --turn-tls-key"),
    };
    if let Some(host) = cli.turn_tls_host.as_deref() {
        let valid = !host.is_empty()
            && host.len() <= 253
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
        if !valid {
            return err(format!(
                "invalid --turn-tls-host {host:?}: expected a DNS name"
            ));
        }
    }
    let mut allowed_peers = cli.turn_allow_peers.clone();
    // Only while no other machine can reach the TURN server: one listening
    // on a reachable address would relay anyone who gets a dev token into
    // this machine's loopback services.
    if cli.dev && cli.turn_listen.ip().is_loopback() {
        allowed_peers.extend(DEV_ALLOWED_PEERS.parse::<Cidr>().ok());
    }
    Ok(EmbeddedConfig {
        listen: cli.turn_listen,
        public_ip: cli.turn_public_ip,
        realm: cli.turn_realm.clone(),
        secret,
        allowed_peers,
        denied_peers: cli.turn_deny_peers.clone(),
        relay_ports: cli.turn_relay_ports,
        http_listen: cli.listen,
        quotas: Quotas {
            per_user: cli.turn_user_quota as usize,
            total: cli.turn_total_quota as usize,
            permissions: cli.turn_permission_quota as usize,
            channels: cli.turn_channel_quota as usize,
        },
        allocation_bytes_per_sec: (cli.turn_allocation_kbps > 0)
            .then(|| cli.turn_allocation_kbps.saturating_mul(1000) / 8),
        tls,
    })
}

fn turn_rest_config(cli: &Cli) -> Result<TurnRestConfig, ConfigError> {
    let secret = match &cli.turn_secret {
        Some(s) if !s.is_empty() => s.clone(),
        _ => return err("--provider turn-rest needs --turn-secret or TURN_SECRET"),
    };
    let urls: Vec<String> = cli
        .turn_urls
        .iter()
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty())
        .collect();
    if urls.is_empty() {
        return err("--provider turn-rest needs at least one --turn-url (or TURN_URLS)");
    }
    // The client's own URL rules (TURN entries get credentials from us), so the
    // server never hands out a URL the client would drop.
    let urls = urls
        .iter()
        .map(|url| {
            ice_peer::core::servers::normalise_url(url, true).ok_or_else(|| {
                ConfigError(format!(
                    "invalid --turn-url {url:?}: expected stun:, stuns:, turn: or turns: followed by host[:port]"
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(TurnRestConfig { secret, urls })
}

fn twilio_config(cli: &Cli) -> Result<TwilioConfig, ConfigError> {
    let account_sid = match cli.twilio_account_sid.as_deref() {
        Some(s) if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()) => s.to_owned(),
        Some(_) => return err("TWILIO_ACCOUNT_SID must be non-empty and alphanumeric"),
        None => return err("the twilio provider needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"),
    };
    let auth_token = match &cli.twilio_auth_token {
        Some(s) if !s.is_empty() => s.clone(),
        _ => return err("the twilio provider needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"),
    };
    let base_url = cli.twilio_base_url.trim_end_matches('/').to_owned();
    match reqwest::Url::parse(&base_url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        _ => {
            return err(format!(
                "invalid --twilio-base-url {base_url:?}: expected an http(s) URL"
            ))
        }
    }
    Ok(TwilioConfig {
        account_sid,
        auth_token,
        base_url,
        timeout: Duration::from_millis(cli.twilio_timeout_ms),
    })
}

fn parse_origin(origin: &str) -> Result<HeaderValue, ConfigError> {
    let origin = origin.trim();
    let valid = (origin.starts_with("http://") || origin.starts_with("https://"))
        && !origin.ends_with('/')
        && reqwest::Url::parse(origin).is_ok_and(|u| u.path() == "/" && u.query().is_none());
    match HeaderValue::from_str(origin) {
        Ok(v) if valid => Ok(v),
        _ => err(format!(
            "invalid --cors-origin {origin:?}: expected scheme://host[:port], e.g. https://app.example.com"
        )),
    }
}

/// The IP to advertise for a TURN server bound to `listen`.
pub fn advertised_ip(listen: SocketAddr, public_ip: Option<IpAddr>) -> IpAddr {
    match public_ip {
        Some(ip) => ip,
        None if listen.ip().is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        None => listen.ip(),
    }
}

#[cfg(test)]
mod tests;
