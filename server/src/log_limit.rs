//! Log lines a stranger can cause, one per packet or message they send (a
//! refused TURN request, a refused signal), written at most once a second per
//! call site: the rest are counted, and the next line says how many were left
//! out. Disk for logs is a resource like any other.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// One call site's limit; see [`log_limited!`](crate::log_limited).
pub struct LogLimit {
    every: Duration,
    /// When a line was last written, and how many were left out since.
    state: Mutex<(Option<Instant>, u64)>,
}

impl LogLimit {
    /// One line a second.
    pub const fn per_second() -> Self {
        Self {
            every: Duration::from_secs(1),
            state: Mutex::new((None, 0)),
        }
    }

    /// `Some(left_out)` when a line is due at `now` (with the number of lines
    /// left out since the last one); `None` when this one is left out.
    pub fn admit(&self, now: Instant) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (last, left_out) = &mut *state;
        if last.is_some_and(|at| now.duration_since(at) < self.every) {
            *left_out += 1;
            return None;
        }
        let written = std::mem::take(left_out);
        *last = Some(now);
        Some(written)
    }
}

/// `tracing::$level!(...)` at most once a second for this call site, with a
/// `left_out` field: how many lines it dropped since the last.
#[macro_export]
macro_rules! log_limited {
    ($level:ident, $($arg:tt)+) => {{
        static LIMIT: $crate::log_limit::LogLimit = $crate::log_limit::LogLimit::per_second();
        if let Some(left_out) = LIMIT.admit(::std::time::Instant::now()) {
            ::tracing::$level!(left_out, $($arg)+);
        }
    }};
}

#[cfg(test)]
mod tests {
    use super::LogLimit;
    use std::time::{Duration, Instant};

    #[test]
    fn one_line_a_second_and_a_count_of_the_rest() {
        let limit = LogLimit::per_second();
        let start = Instant::now();
        assert_eq!(limit.admit(start), Some(0));
        for ms in [1, 200, 999] {
            assert_eq!(limit.admit(start + Duration::from_millis(ms)), None);
        }
        assert_eq!(limit.admit(start + Duration::from_secs(1)), Some(3));
        assert_eq!(limit.admit(start + Duration::from_secs(5)), Some(0));
    }
}
