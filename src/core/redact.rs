//! What debug logging may show of ICE servers: URLs, never credentials.

use super::servers::IceServer;

/// Shown in place of a username or credential.
pub const REDACTED: &str = "•••";

/// The servers with every username and credential replaced by [`REDACTED`]
/// (absent ones stay absent).
pub fn redact(servers: &[IceServer]) -> Vec<IceServer> {
    servers
        .iter()
        .map(|s| IceServer {
            urls: s.urls.clone(),
            username: s.username.as_ref().map(|_| REDACTED.to_owned()),
            credential: s.credential.as_ref().map(|_| REDACTED.to_owned()),
        })
        .collect()
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::{redact, REDACTED};
    use crate::core::servers::IceServer;

    #[test]
    fn credentials_replaced_urls_kept() {
        let servers = vec![
            IceServer {
                urls: vec!["stun:a".into()],
                username: None,
                credential: None,
            },
            IceServer {
                urls: vec!["turn:b?transport=tcp".into(), "turns:c".into()],
                username: Some("secret-user".into()),
                credential: Some("secret-pass".into()),
            },
            IceServer {
                urls: vec!["stun:d".into()],
                username: Some("u".into()),
                credential: None,
            },
        ];
        let out = redact(&servers);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0], servers[0]);
        assert_eq!(out[1].urls, servers[1].urls);
        assert_eq!(out[1].username.as_deref(), Some(REDACTED));
        assert_eq!(out[1].credential.as_deref(), Some(REDACTED));
        assert_eq!(out[2].username.as_deref(), Some(REDACTED));
        assert_eq!(out[2].credential, None);
        let dump = format!("{out:?}");
        assert!(!dump.contains("secret"));
        assert!(redact(&[]).is_empty());
    }
}
