//! Twilio Network Traversal Service: `POST /2010-04-01/Accounts/{sid}/Tokens.json`,
//! mapped into our envelope and cached while fresh (one upstream request at a time).

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tokio::time::Instant;

use super::single_flight::{Fresh, SingleFlight};
use super::{IceServer, IceServers, ProviderError, StartError};
use crate::config::{TwilioConfig, TWILIO_MAX_TTL};
use crate::secret::Secret;

/// Largest upstream body we read.
const MAX_BODY: usize = 256 * 1024;
/// Tokens are refreshed this long before they expire (at most half their ttl).
const SAFETY_MARGIN: Duration = Duration::from_secs(600);

/// `urls` is a string in Twilio's answers; accept an array too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Urls {
    One(String),
    Many(Vec<String>),
}

/// `ttl` is a numeric string in Twilio's answers; accept a number too.
#[derive(Deserialize)]
#[serde(untagged)]
enum Ttl {
    Text(String),
    Number(u64),
}

#[derive(Deserialize)]
struct TwilioIceServer {
    urls: Option<Urls>,
    url: Option<String>,
    username: Option<String>,
    credential: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    ice_servers: Vec<TwilioIceServer>,
    ttl: Ttl,
}

#[derive(Deserialize)]
struct TwilioErrorBody {
    code: Option<u64>,
    message: Option<String>,
}

/// Maps a 2xx `Tokens.json` body into our data (ttl as a number).
pub fn map_token_response(body: &[u8]) -> Result<IceServers, ProviderError> {
    let parsed: TokenResponse = serde_json::from_slice(body)
        .map_err(|_| ProviderError("twilio answered an unexpected body".into()))?;
    let ttl = match parsed.ttl {
        Ttl::Number(n) => Some(n),
        Ttl::Text(s) => s.trim().parse().ok(),
    }
    .filter(|&n| n > 0)
    .ok_or_else(|| ProviderError("twilio answered an invalid ttl".into()))?
    // Twilio grants at most a day; a larger figure is not trusted (nor can
    // an expiry that far out be computed).
    .min(TWILIO_MAX_TTL);
    let ice_servers: Vec<IceServer> = parsed
        .ice_servers
        .into_iter()
        .filter_map(|s| {
            let mut urls = match s.urls {
                Some(Urls::One(u)) => vec![u],
                Some(Urls::Many(v)) => v,
                None => Vec::new(),
            };
            urls.extend(s.url);
            let mut seen = std::collections::HashSet::new();
            urls.retain(|u| !u.is_empty() && seen.insert(u.clone()));
            if urls.is_empty() {
                return None;
            }
            let creds = s.username.zip(s.credential);
            Some(IceServer::new(urls, creds))
        })
        .collect();
    if ice_servers.is_empty() {
        return Err(ProviderError("twilio answered no ICE servers".into()));
    }
    Ok(IceServers { ice_servers, ttl })
}

/// A client-safe message for a non-2xx answer; never contains the auth token.
pub fn describe_error(status: u16, body: &[u8], token: &Secret) -> String {
    let detail = serde_json::from_slice::<TwilioErrorBody>(body)
        .ok()
        .and_then(|e| {
            let message: String = e.message?.chars().take(200).collect();
            let message = message.replace(token.expose(), "<redacted>");
            Some(match e.code {
                Some(code) => format!(": error {code} {message}"),
                None => format!(": {message}"),
            })
        })
        .unwrap_or_default();
    format!("twilio answered HTTP {status}{detail}")
}

/// The Twilio provider.
pub struct Twilio {
    http: reqwest::Client,
    endpoint: String,
    account_sid: String,
    auth_token: Secret,
    requested_ttl: u64,
    cache: Arc<SingleFlight<(IceServers, Instant)>>,
}

impl Twilio {
    /// A provider for `config`; tokens are requested for `ttl` (capped at 86400 s).
    pub fn new(config: &TwilioConfig, ttl: Duration) -> Result<Self, StartError> {
        // reqwest is built without a bundled crypto provider; use ring (already used by TURN).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("ice-peer-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StartError(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            endpoint: format!(
                "{}/2010-04-01/Accounts/{}/Tokens.json",
                config.base_url, config.account_sid
            ),
            account_sid: config.account_sid.clone(),
            auth_token: config.auth_token.clone(),
            requested_ttl: ttl.as_secs().clamp(1, TWILIO_MAX_TTL),
            cache: Arc::new(SingleFlight::default()),
        })
    }

    /// Cached servers while fresh, else one shared upstream request; `ttl` is what remains.
    pub async fn ice_servers(&self) -> Result<IceServers, ProviderError> {
        let request = self
            .http
            .post(&self.endpoint)
            .basic_auth(&self.account_sid, Some(self.auth_token.expose()))
            .form(&[("Ttl", self.requested_ttl.to_string())]);
        let token = self.auth_token.clone();
        let fresh = self.cache.get(move || fetch(request, token)).await?;
        let (mut servers, expires_at) = fresh.value;
        servers.ttl = expires_at
            .saturating_duration_since(Instant::now())
            .as_secs();
        Ok(servers)
    }
}

async fn fetch(
    request: reqwest::RequestBuilder,
    token: Secret,
) -> Result<Fresh<(IceServers, Instant)>, ProviderError> {
    let started = Instant::now();
    let mut response = request.send().await.map_err(request_error)?;
    let status = response.status();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(request_error)? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(ProviderError("twilio answered an oversized body".into()));
        }
        body.extend_from_slice(&chunk);
    }
    if !status.is_success() {
        let message = describe_error(status.as_u16(), &body, &token);
        tracing::warn!("{message}");
        return Err(ProviderError(message));
    }
    let servers = map_token_response(&body).inspect_err(|e| tracing::warn!("{}", e.0))?;
    let ttl = Duration::from_secs(servers.ttl);
    let expires_at = started + ttl;
    let fresh_until = expires_at - SAFETY_MARGIN.min(ttl / 2);
    Ok(Fresh {
        value: (servers, expires_at),
        fresh_until,
    })
}

fn request_error(e: reqwest::Error) -> ProviderError {
    // reqwest errors carry the URL (account SID, never the token); keep them out of responses.
    let message = if e.is_timeout() {
        "twilio request timed out"
    } else if e.is_connect() {
        "twilio is unreachable"
    } else {
        "twilio request failed"
    };
    tracing::warn!("{message}: {}", e.without_url());
    ProviderError(message.into())
}

#[cfg(test)]
mod tests;
