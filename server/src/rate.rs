//! A token bucket: what one client may do per second, with a burst saved up.

use std::time::Instant;

/// `rate` units a second, at most `burst` saved; starts full.
pub struct TokenBucket {
    rate: u64,
    burst: u64,
    tokens: u64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket at `now`.
    pub fn new(rate: u64, burst: u64, now: Instant) -> Self {
        Self {
            rate,
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes `units` if there are enough tokens at `now`.
    pub fn take(&mut self, units: u64, now: Instant) -> bool {
        // In u128: a high rate times a long idle overflows u64 (a day at
        // 1 Gbit/s is 1.08e19 µs·B/s).
        let elapsed = now.duration_since(self.last).as_micros();
        let earned = elapsed * u128::from(self.rate) / 1_000_000;
        if earned > 0 {
            let saved = u128::from(self.tokens) + earned;
            self.tokens = u64::try_from(saved).map_or(self.burst, |t| t.min(self.burst));
            self.last = now;
        }
        if units > self.tokens {
            return false;
        }
        self.tokens -= units;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::TokenBucket;
    use std::time::{Duration, Instant};

    #[test]
    fn a_bucket_allows_its_burst_then_its_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(1000, 2000, start);
        assert!(bucket.take(1500, start));
        assert!(!bucket.take(600, start));
        assert!(bucket.take(500, start));
        assert!(!bucket.take(1, start));
        // Half a second earns half the rate, never more than the burst.
        assert!(bucket.take(500, start + Duration::from_millis(500)));
        assert!(!bucket.take(1, start + Duration::from_millis(500)));
        assert!(bucket.take(2000, start + Duration::from_secs(60)));
        assert!(!bucket.take(1, start + Duration::from_secs(60)));
    }

    #[test]
    fn a_high_rate_after_a_long_idle_refills_to_the_burst_without_overflow() {
        let start = Instant::now();
        let rate = u64::MAX / 2;
        let mut bucket = TokenBucket::new(rate, rate, start);
        assert!(bucket.take(rate, start));
        let later = start + Duration::from_secs(86_400);
        assert!(bucket.take(rate, later));
        assert!(!bucket.take(1, later));
    }
}
