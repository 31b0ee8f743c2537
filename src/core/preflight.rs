//! `PeerManager.preflight()`'s options. Which check each URL gets and what
//! the results mean are decided in `web/js/preflight.js` (its reason is
//! there).

/// Deadline of each check when the options name none (the contract's default).
pub const DEFAULT_TIMEOUT_MS: f64 = 5000.0;
/// The longest deadline accepted: a preflight is a short test, not a watch.
pub const MAX_TIMEOUT_MS: f64 = 60_000.0;

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

    #[test]
    fn timeouts() {
        assert_eq!(timeout_ms(None), Some(DEFAULT_TIMEOUT_MS));
        assert_eq!(timeout_ms(Some(250.0)), Some(250.0));
        assert_eq!(timeout_ms(Some(MAX_TIMEOUT_MS)), Some(MAX_TIMEOUT_MS));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY, MAX_TIMEOUT_MS + 1.0] {
            assert_eq!(timeout_ms(Some(bad)), None, "{bad}");
        }
    }
}
