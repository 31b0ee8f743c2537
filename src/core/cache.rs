//! Freshness of fetched servers, with the clock injected as `now_ms`
//! (ms since epoch) so tests never sleep.

use super::servers::IceServer;

/// Servers fetched with one token.
#[derive(Clone, Debug, PartialEq)]
pub struct CachedServers {
    /// The normalised servers.
    pub servers: Vec<IceServer>,
    /// The token they were fetched with; they are never handed out under another.
    pub token: String,
    /// When the response arrived (ms since epoch).
    pub fetched_at_ms: f64,
    /// fetched_at + min(cache_ttl_ms, ttl_secs * 1000): reused without a request until then.
    pub fresh_until_ms: f64,
    /// fetched_at + ttl_secs * 1000 (the credentials' own lifetime), or fresh_until when there is
    /// no ttl: returned when a refresh fails ("stale-if-error") until then.
    pub valid_until_ms: f64,
}

impl CachedServers {
    /// Servers fetched at `fetched_at_ms`, with the manager's `cache_ttl_ms` and the
    /// response's `ttl` (seconds; ignored unless finite and >= 0).
    pub fn new(
        servers: Vec<IceServer>,
        token: String,
        fetched_at_ms: f64,
        cache_ttl_ms: f64,
        ttl_secs: Option<f64>,
    ) -> Self {
        let ttl_ms = ttl_secs
            .filter(|t| t.is_finite() && *t >= 0.0)
            .map(|t| t * 1000.0);
        let fresh_for = match ttl_ms {
            Some(ttl) => cache_ttl_ms.min(ttl),
            None => cache_ttl_ms,
        };
        let fresh_until_ms = fetched_at_ms + fresh_for;
        let valid_until_ms = match ttl_ms {
            Some(ttl) => fetched_at_ms + ttl,
            None => fresh_until_ms,
        };
        CachedServers {
            servers,
            token,
            fetched_at_ms,
            fresh_until_ms,
            valid_until_ms,
        }
    }

    /// Same token and now < fresh_until.
    pub fn is_fresh_for(&self, token: &str, now_ms: f64) -> bool {
        self.token == token && now_ms < self.fresh_until_ms
    }

    /// Same token and now < valid_until (usable when a refresh failed).
    pub fn is_valid_for(&self, token: &str, now_ms: f64) -> bool {
        self.token == token && now_ms < self.valid_until_ms
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::CachedServers;
    use crate::core::config::default_fallback;

    const T0: f64 = 1_700_000_000_000.0;
    const HOUR: f64 = 3_600_000.0;

    fn cache(cache_ttl_ms: f64, ttl_secs: Option<f64>) -> CachedServers {
        CachedServers::new(default_fallback(), "tok".into(), T0, cache_ttl_ms, ttl_secs)
    }

    #[test]
    fn ttl_longer_than_cache_ttl_gives_a_stale_if_error_window() {
        let c = cache(HOUR, Some(86_400.0));
        assert_eq!(c.fetched_at_ms, T0);
        assert_eq!(c.fresh_until_ms, T0 + HOUR);
        assert_eq!(c.valid_until_ms, T0 + 86_400_000.0);
        assert!(c.is_fresh_for("tok", T0));
        assert!(c.is_fresh_for("tok", T0 + HOUR - 1.0));
        assert!(!c.is_fresh_for("tok", T0 + HOUR));
        // Stale, but still valid when a refresh fails.
        assert!(c.is_valid_for("tok", T0 + HOUR));
        assert!(c.is_valid_for("tok", T0 + 86_400_000.0 - 1.0));
        assert!(!c.is_valid_for("tok", T0 + 86_400_000.0));
    }

    #[test]
    fn ttl_shorter_than_cache_ttl_caps_it() {
        let c = cache(HOUR, Some(600.0));
        assert_eq!(c.fresh_until_ms, T0 + 600_000.0);
        assert_eq!(c.valid_until_ms, T0 + 600_000.0);
        assert!(c.is_fresh_for("tok", T0 + 599_999.0));
        assert!(!c.is_fresh_for("tok", T0 + 600_000.0));
        assert!(!c.is_valid_for("tok", T0 + 600_000.0));
    }

    #[test]
    fn no_ttl_uses_cache_ttl_for_both() {
        let c = cache(HOUR, None);
        assert_eq!(c.fresh_until_ms, T0 + HOUR);
        assert_eq!(c.valid_until_ms, T0 + HOUR);
        assert!(c.is_valid_for("tok", T0 + HOUR - 1.0));
        assert!(!c.is_valid_for("tok", T0 + HOUR));
    }

    #[test]
    fn bad_ttl_is_ignored() {
        for ttl in [f64::NAN, f64::INFINITY, -1.0] {
            let c = cache(HOUR, Some(ttl));
            assert_eq!(c.fresh_until_ms, T0 + HOUR, "{ttl}");
            assert_eq!(c.valid_until_ms, T0 + HOUR, "{ttl}");
        }
    }

    #[test]
    fn zero_ttl_and_zero_cache_ttl_are_never_fresh() {
        let c = cache(HOUR, Some(0.0));
        assert!(!c.is_fresh_for("tok", T0));
        assert!(!c.is_valid_for("tok", T0));
        let c = cache(0.0, Some(86_400.0));
        assert!(!c.is_fresh_for("tok", T0));
        assert!(c.is_valid_for("tok", T0));
    }

    #[test]
    fn token_mismatch_is_never_fresh_nor_valid() {
        let c = cache(HOUR, Some(86_400.0));
        for other in ["", "tok2", "Tok", "tok "] {
            assert!(!c.is_fresh_for(other, T0), "{other:?}");
            assert!(!c.is_valid_for(other, T0), "{other:?}");
        }
    }

    #[test]
    fn clock_going_backwards_still_counts_as_fresh() {
        let c = cache(HOUR, None);
        assert!(c.is_fresh_for("tok", T0 - 10_000.0));
    }
}
