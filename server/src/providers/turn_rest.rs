//! TURN-REST credentials (draft-uberti-behave-turn-rest, coturn `--use-auth-secret`):
//! username `<unix-expiry>:<sub>`, password `base64(HMAC-SHA1(secret, username))`.

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use ring::hmac;

use super::{IceServer, IceServers};
use crate::auth::unix_now;
use crate::secret::Secret;

/// `base64(HMAC-SHA1(secret, username))`.
pub fn password(secret: &Secret, username: &str) -> String {
    let key = hmac::Key::new(
        hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        secret.expose().as_bytes(),
    );
    STANDARD.encode(hmac::sign(&key, username.as_bytes()).as_ref())
}

/// `(username, password)` for `sub`, expiring at `expires_at` (Unix seconds).
pub fn credentials(secret: &Secret, sub: &str, expires_at: u64) -> (String, String) {
    let username = format!("{expires_at}:{sub}");
    let password = password(secret, &username);
    (username, password)
}

/// The expiry encoded in a TURN-REST username (`<expiry>` or `<expiry>:<anything>`).
pub fn username_expiry(username: &str) -> Option<u64> {
    let head = username.split_once(':').map_or(username, |(h, _)| h);
    head.parse().ok()
}

/// Whom a TURN-REST username was minted for: what follows the expiry
/// (empty for a bare `<expiry>`). Every credential one user gets names them.
pub fn username_subject(username: &str) -> &str {
    username.split_once(':').map_or("", |(_, sub)| sub)
}

/// Builds the envelope data for `urls`: STUN URLs in one entry without
/// credentials, TURN URLs in one entry with fresh credentials.
pub fn ice_servers(secret: &Secret, urls: &[String], sub: &str, ttl: Duration) -> IceServers {
    let (stun, turn): (Vec<String>, Vec<String>) = urls
        .iter()
        .cloned()
        .partition(|u| u.starts_with("stun:") || u.starts_with("stuns:"));
    let mut ice_servers = Vec::new();
    if !stun.is_empty() {
        ice_servers.push(IceServer::new(stun, None));
    }
    if !turn.is_empty() {
        let creds = credentials(secret, sub, unix_now() + ttl.as_secs());
        ice_servers.push(IceServer::new(turn, Some(creds)));
    }
    IceServers {
        ice_servers,
        ttl: ttl.as_secs(),
    }
}

/// Provider for an external TURN server sharing `secret`.
pub struct TurnRest {
    secret: Secret,
    urls: Vec<String>,
    ttl: Duration,
}

impl TurnRest {
    /// A provider handing out `urls`.
    pub fn new(secret: Secret, urls: Vec<String>, ttl: Duration) -> Self {
        Self { secret, urls, ttl }
    }

    /// Fresh credentials for `sub`.
    pub fn ice_servers(&self, sub: &str) -> IceServers {
        ice_servers(&self.secret, &self.urls, sub, self.ttl)
    }

    /// How many URLs are configured.
    pub fn url_count(&self) -> usize {
        self.urls.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Computed independently with:
    //   printf %s '1700000000:alice' | openssl dgst -sha1 -hmac 'north-star' -binary | base64
    const VECTOR_USER: &str = "1700000000:alice";
    const VECTOR_PASS: &str = "rchw+7XvnG7mN0BXm8xDnHNSHX0=";

    #[test]
    fn known_vector() {
        let (user, pass) = credentials(&Secret::new("north-star"), "alice", 1_700_000_000);
        assert_eq!(user, VECTOR_USER);
        assert_eq!(pass, VECTOR_PASS);
    }

    #[test]
    fn expiry_parsing() {
        assert_eq!(username_expiry("1700000000:alice"), Some(1_700_000_000));
        assert_eq!(username_expiry("1700000000:a:b"), Some(1_700_000_000));
        assert_eq!(username_expiry("1700000000"), Some(1_700_000_000));
        assert_eq!(username_expiry("alice:1700000000"), None);
        assert_eq!(username_expiry(""), None);
    }

    #[test]
    fn subject_parsing() {
        assert_eq!(username_subject("1700000000:alice"), "alice");
        assert_eq!(username_subject("1700000001:alice"), "alice");
        // A subject may hold a colon; only the expiry is cut off.
        assert_eq!(username_subject("1700000000:a:b"), "a:b");
        assert_eq!(username_subject("1700000000"), "");
    }

    #[test]
    fn entries_split_stun_and_turn() {
        let urls = vec![
            "stun:t.example:3478".to_owned(),
            "turn:t.example:3478?transport=udp".to_owned(),
            "turns:t.example:5349?transport=tcp".to_owned(),
        ];
        let out = ice_servers(&Secret::new("s"), &urls, "bob", Duration::from_secs(600));
        assert_eq!(out.ttl, 600);
        assert_eq!(out.ice_servers.len(), 2);
        assert_eq!(out.ice_servers[0].username, None);
        let turn = &out.ice_servers[1];
        assert_eq!(turn.url, "turn:t.example:3478?transport=udp");
        assert_eq!(turn.urls.len(), 2);
        let user = turn.username.as_deref().unwrap_or_default();
        assert!(user.ends_with(":bob"));
        let exp = username_expiry(user).unwrap_or_default();
        assert!(exp >= unix_now() + 590 && exp <= unix_now() + 600);
        assert_eq!(
            turn.credential.as_deref(),
            Some(password(&Secret::new("s"), user).as_str())
        );
    }
}
