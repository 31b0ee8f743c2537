//! Backoff arithmetic shared by everything that waits: the ICE-servers retry
//! schedule (`min(retryDelayMs * 2^n, 30 s)` before retry n, 0-based), the
//! ICE-restart backoff, and the clamp on every delay handed to `setTimeout`.

use super::error::AttemptFailure;

/// Upper bound of any retry delay.
pub const MAX_RETRY_DELAY_MS: f64 = 30_000.0;

/// The longest delay `setTimeout` honours (2^31 - 1 ms): browsers treat a
/// longer one as 0 and fire at once.
pub const MAX_TIMER_MS: f64 = 2_147_483_647.0;

/// The one backoff formula: `base * 2^n`, capped at `cap_ms`. A base that is
/// not a positive number (0, negative, NaN) gives 0; huge `n` never
/// overflows or gives NaN.
pub fn exponential_backoff_ms(base_ms: f64, n: u32, cap_ms: f64) -> f64 {
    if base_ms.is_nan() || base_ms <= 0.0 {
        return 0.0;
    }
    // `base * 2^n` by doubling, which is exact, and stops once past the cap
    // (or at +inf, by 1100).
    let mut delay = base_ms;
    for _ in 0..n.min(1100) {
        if delay >= cap_ms {
            break;
        }
        delay *= 2.0;
    }
    delay.min(cap_ms)
}

/// What a delay of `ms` becomes for `setTimeout`: NaN and negatives are 0,
/// anything above [`MAX_TIMER_MS`] is [`MAX_TIMER_MS`] (about 24.8 days)
/// instead of firing at once.
pub fn timer_delay_ms(ms: f64) -> f64 {
    if ms.is_nan() {
        0.0
    } else {
        ms.clamp(0.0, MAX_TIMER_MS)
    }
}

/// How often and how long to wait before retrying a failed ICE-servers request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (contract default 3).
    pub retries: u32,
    /// Base delay (contract default 1000).
    pub base_delay_ms: f64,
}

impl RetryPolicy {
    /// Delay before retry `n` (0 = the first retry): min(base * 2^n, 30 000). Never overflows
    /// or returns NaN for huge n. A base that is not a positive number (0, negative, NaN)
    /// gives 0.
    pub fn delay_ms(&self, n: u32) -> f64 {
        exponential_backoff_ms(self.base_delay_ms, n, MAX_RETRY_DELAY_MS)
    }

    /// After `attempts_made` attempts (>= 1), the last failing with `failure`: the delay before
    /// the next attempt, or None to give up (not retryable, or `retries` exhausted).
    pub fn next_delay(&self, attempts_made: u32, failure: AttemptFailure) -> Option<f64> {
        if !failure.is_retryable() {
            return None;
        }
        let retries_done = attempts_made.saturating_sub(1);
        if retries_done >= self.retries {
            return None;
        }
        Some(self.delay_ms(retries_done))
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::super::servers::InvalidResponse;
    use super::{AttemptFailure, RetryPolicy, MAX_RETRY_DELAY_MS};

    fn policy(retries: u32, base: f64) -> RetryPolicy {
        RetryPolicy {
            retries,
            base_delay_ms: base,
        }
    }

    #[test]
    fn doubling_from_base_1000_capped_at_30s() {
        let p = policy(3, 1000.0);
        let got: Vec<f64> = (0..8).map(|n| p.delay_ms(n)).collect();
        assert_eq!(
            got,
            [1000.0, 2000.0, 4000.0, 8000.0, 16000.0, 30000.0, 30000.0, 30000.0]
        );
    }

    #[test]
    fn huge_n_is_capped_not_nan() {
        let p = policy(3, 1000.0);
        for n in [
            31,
            32,
            63,
            64,
            1023,
            1024,
            1025,
            5000,
            u32::MAX - 1,
            u32::MAX,
        ] {
            assert_eq!(p.delay_ms(n), MAX_RETRY_DELAY_MS, "{n}");
        }
        let tiny = policy(3, f64::MIN_POSITIVE);
        assert_eq!(tiny.delay_ms(u32::MAX), MAX_RETRY_DELAY_MS);
        assert!(tiny.delay_ms(10) > 0.0);
    }

    #[test]
    fn base_zero_and_odd_bases() {
        let zero = policy(3, 0.0);
        for n in [0, 1, 10, 2000, u32::MAX] {
            assert_eq!(zero.delay_ms(n), 0.0);
        }
        assert_eq!(policy(3, -5.0).delay_ms(3), 0.0);
        assert_eq!(policy(3, f64::NAN).delay_ms(3), 0.0);
        assert_eq!(policy(3, f64::INFINITY).delay_ms(0), MAX_RETRY_DELAY_MS);
        assert_eq!(policy(3, 50_000.0).delay_ms(0), MAX_RETRY_DELAY_MS);
        assert_eq!(policy(3, 250.0).delay_ms(2), 1000.0);
    }

    #[test]
    fn next_delay_walks_the_schedule_then_gives_up() {
        let p = policy(3, 1000.0);
        let f = AttemptFailure::Status(503);
        assert_eq!(p.next_delay(1, f), Some(1000.0));
        assert_eq!(p.next_delay(2, f), Some(2000.0));
        assert_eq!(p.next_delay(3, f), Some(4000.0));
        assert_eq!(p.next_delay(4, f), None);
        assert_eq!(p.next_delay(100, f), None);
        assert_eq!(p.next_delay(u32::MAX, f), None);
        // Defensive: 0 attempts behaves like 1.
        assert_eq!(p.next_delay(0, f), Some(1000.0));
    }

    #[test]
    fn next_delay_for_each_failure() {
        let p = policy(3, 1000.0);
        assert_eq!(p.next_delay(1, AttemptFailure::Network), Some(1000.0));
        assert_eq!(p.next_delay(1, AttemptFailure::Timeout), Some(1000.0));
        assert_eq!(p.next_delay(1, AttemptFailure::Status(408)), Some(1000.0));
        assert_eq!(p.next_delay(1, AttemptFailure::Status(429)), Some(1000.0));
        assert_eq!(p.next_delay(1, AttemptFailure::Status(500)), Some(1000.0));
        for s in [302, 400, 401, 403, 404] {
            assert_eq!(p.next_delay(1, AttemptFailure::Status(s)), None, "{s}");
        }
        assert_eq!(
            p.next_delay(1, AttemptFailure::Invalid(200, InvalidResponse::NotJson)),
            None
        );
    }

    #[test]
    fn zero_retries_never_retries() {
        let p = policy(0, 1000.0);
        assert_eq!(p.next_delay(1, AttemptFailure::Network), None);
    }

    #[test]
    fn ten_retries_with_cap() {
        let p = policy(10, 1000.0);
        let delays: Vec<f64> = (1..=11)
            .filter_map(|a| p.next_delay(a, AttemptFailure::Timeout))
            .collect();
        assert_eq!(
            delays,
            [
                1000.0, 2000.0, 4000.0, 8000.0, 16000.0, 30000.0, 30000.0, 30000.0, 30000.0,
                30000.0
            ]
        );
    }

    #[test]
    fn timer_delays_are_clamped_to_what_set_timeout_honours() {
        use super::{timer_delay_ms, MAX_TIMER_MS};
        assert_eq!(timer_delay_ms(3e9), MAX_TIMER_MS);
        assert_eq!(timer_delay_ms(f64::INFINITY), MAX_TIMER_MS);
        assert_eq!(timer_delay_ms(MAX_TIMER_MS), MAX_TIMER_MS);
        assert_eq!(timer_delay_ms(MAX_TIMER_MS + 1.0), MAX_TIMER_MS);
        assert_eq!(timer_delay_ms(1500.0), 1500.0);
        assert_eq!(timer_delay_ms(-5.0), 0.0);
        assert_eq!(timer_delay_ms(f64::NAN), 0.0);
    }

    #[test]
    fn retry_delays_need_no_timer_clamp() {
        // The edge hands them to setTimeout as they are (web/fetch.rs).
        use super::timer_delay_ms;
        for base in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e300, 1000.0] {
            for attempts in [0, 1, 2, 5, 40, 2000, u32::MAX] {
                if let Some(ms) = policy(10, base).next_delay(attempts, AttemptFailure::Network) {
                    assert_eq!(timer_delay_ms(ms), ms, "{base} {attempts}");
                }
            }
        }
    }

    #[test]
    fn one_backoff_formula_for_retries_and_restarts() {
        use super::{exponential_backoff_ms, MAX_TIMER_MS};
        let p = policy(3, 250.0);
        for n in 0..40 {
            assert_eq!(
                p.delay_ms(n),
                exponential_backoff_ms(250.0, n, MAX_RETRY_DELAY_MS)
            );
        }
        assert_eq!(exponential_backoff_ms(1000.0, 3, MAX_TIMER_MS), 8000.0);
        assert_eq!(
            exponential_backoff_ms(1000.0, 5000, MAX_TIMER_MS),
            MAX_TIMER_MS
        );
        assert_eq!(exponential_backoff_ms(f64::NAN, 2, MAX_TIMER_MS), 0.0);
        assert_eq!(exponential_backoff_ms(-1.0, 2, MAX_TIMER_MS), 0.0);
    }
}
