//! ICE servers providers: where the STUN/TURN servers and credentials come from.

pub mod embedded;
pub mod single_flight;
pub mod turn_auth;
pub mod turn_nonce;
pub mod turn_policy;
pub mod turn_relay;
pub mod turn_rest;
pub mod turn_server;
pub mod turn_tcp;
pub mod turn_tls;
pub mod twilio;

use std::fmt;

use axum::http::StatusCode;
use serde::Serialize;

use crate::api::ApiError;
use crate::config::ProviderConfig;

/// One entry of `iceServers`, with `urls` and the legacy `url` (the first URL).
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct IceServer {
    /// Every URL of this entry.
    pub urls: Vec<String>,
    /// The first URL, for clients that only know the deprecated field.
    pub url: String,
    /// TURN username.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// TURN password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
}

impl IceServer {
    /// An entry for `urls` (must not be empty) with optional credentials.
    pub fn new(urls: Vec<String>, credentials: Option<(String, String)>) -> Self {
        let url = urls.first().cloned().unwrap_or_default();
        let (username, credential) = credentials.unzip();
        Self {
            urls,
            url,
            username,
            credential,
        }
    }
}

impl fmt::Debug for IceServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IceServer")
            .field("urls", &self.urls)
            .field("username", &self.username)
            .field(
                "credential",
                &self.credential.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// The `data` of a successful answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IceServers {
    /// The servers.
    pub ice_servers: Vec<IceServer>,
    /// Seconds the credentials stay valid from now.
    pub ttl: u64,
}

/// Why a provider could not answer. The message is client-safe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderError(pub String);

impl From<ProviderError> for ApiError {
    fn from(e: ProviderError) -> Self {
        ApiError::new(StatusCode::BAD_GATEWAY, e.0)
    }
}

/// The provider the server was started with.
pub enum Provider {
    /// TURN server inside the process.
    Embedded(embedded::EmbeddedTurn),
    /// External coturn, TURN-REST credentials.
    TurnRest(turn_rest::TurnRest),
    /// Twilio tokens, cached.
    Twilio(twilio::Twilio),
}

/// A provider could not be started.
#[derive(Debug)]
pub struct StartError(pub String);

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

impl Provider {
    /// Starts the configured provider (binds the embedded TURN socket).
    pub async fn start(
        config: &ProviderConfig,
        ttl: std::time::Duration,
    ) -> Result<Self, StartError> {
        Ok(match config {
            ProviderConfig::Embedded(c) => {
                Self::Embedded(embedded::EmbeddedTurn::start(c, ttl).await?)
            }
            ProviderConfig::TurnRest(c) => Self::TurnRest(turn_rest::TurnRest::new(
                c.secret.clone(),
                c.urls.clone(),
                ttl,
            )),
            ProviderConfig::Twilio(c) => Self::Twilio(twilio::Twilio::new(c, ttl)?),
        })
    }

    /// ICE servers for user `sub`.
    pub async fn ice_servers(&self, sub: &str) -> Result<IceServers, ProviderError> {
        match self {
            Self::Embedded(p) => Ok(p.ice_servers(sub)),
            Self::TurnRest(p) => Ok(p.ice_servers(sub)),
            Self::Twilio(p) => p.ice_servers().await,
        }
    }

    /// For the startup line, e.g. `embedded, TURN on 127.0.0.1:3478`.
    pub fn describe(&self) -> String {
        match self {
            Self::Embedded(p) => p.describe(),
            Self::TurnRest(p) => format!("turn-rest, {} URL(s)", p.url_count()),
            Self::Twilio(_) => "twilio".to_owned(),
        }
    }

    /// Stops background work (the embedded TURN server).
    pub async fn shutdown(&self) {
        if let Self::Embedded(p) = self {
            p.close().await;
        }
    }
}
