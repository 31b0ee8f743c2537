//! `PeerManagerOptions` validated, with the contract's defaults. The edge
//! reads raw values from JS; this module decides what is acceptable.

use core::fmt;

use super::recovery::RecoveryConfig;
use super::retry::RetryPolicy;
use super::servers::IceServer;
use super::text::concat;

/// Default `endpoint`.
pub const DEFAULT_ENDPOINT: &str = "/api/calls/ice-servers";
/// Default `cacheTtlMs` (1 h).
pub const DEFAULT_CACHE_TTL_MS: f64 = 3_600_000.0;
/// Default `retries`.
pub const DEFAULT_RETRIES: u32 = 3;
/// Default `retryDelayMs`.
pub const DEFAULT_RETRY_DELAY_MS: f64 = 1000.0;
/// Default `timeoutMs`.
pub const DEFAULT_TIMEOUT_MS: f64 = 5000.0;
/// Default `createPeerWaitMs`.
pub const DEFAULT_CREATE_PEER_WAIT_MS: f64 = 4000.0;
/// The URL of the default fallback server.
pub const GOOGLE_STUN: &str = "stun:stun.l.google.com:19302";

/// Raw numeric options as JS gave them (None = absent/undefined).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawNumbers {
    /// `cacheTtlMs`.
    pub cache_ttl_ms: Option<f64>,
    /// `retries`.
    pub retries: Option<f64>,
    /// `retryDelayMs`.
    pub retry_delay_ms: Option<f64>,
    /// `timeoutMs`.
    pub timeout_ms: Option<f64>,
    /// `createPeerWaitMs`.
    pub create_peer_wait_ms: Option<f64>,
    /// Additions to the contract: recovery tuning. `restartAttempts`.
    pub restart_attempts: Option<f64>,
    /// `disconnectedTimeoutMs`.
    pub disconnected_timeout_ms: Option<f64>,
    /// `restartTimeoutMs`.
    pub restart_timeout_ms: Option<f64>,
}

/// Validated numbers.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// How long fetched servers are reused.
    pub cache_ttl_ms: f64,
    /// Retries and their delays.
    pub retry: RetryPolicy,
    /// Per-attempt timeout.
    pub timeout_ms: f64,
    /// How long `createPeer` waits for servers before using the fallback.
    pub create_peer_wait_ms: f64,
    /// ICE-restart policy.
    pub recovery: RecoveryConfig,
}

/// A bad option: which one and why, e.g. `retries must be a whole number from 0 to 10`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptionError {
    /// The option's JavaScript name, e.g. "retries".
    pub option: &'static str,
    /// What it must be, e.g. "a whole number from 0 to 10".
    pub expected: &'static str,
}

impl OptionError {
    /// "PeerManagerOptions.{option} must be {expected}".
    pub fn message(&self) -> String {
        concat(&[
            "PeerManagerOptions.",
            self.option,
            " must be ",
            self.expected,
        ])
    }
}

impl fmt::Display for OptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// The numeric options' JavaScript names, in the order they are checked
/// (the order of [`RawNumbers`]' fields and of [`Limits::from_values`]).
pub const NUMBER_OPTIONS: [&str; 8] = [
    "cacheTtlMs",
    "retries",
    "retryDelayMs",
    "timeoutMs",
    "createPeerWaitMs",
    "restartAttempts",
    "disconnectedTimeoutMs",
    "restartTimeoutMs",
];

/// The default of each of [`NUMBER_OPTIONS`]: a table in the data, not
/// eight stores in the code.
const DEFAULTS: [f64; 8] = [
    DEFAULT_CACHE_TTL_MS,
    DEFAULT_RETRIES as f64,
    DEFAULT_RETRY_DELAY_MS,
    DEFAULT_TIMEOUT_MS,
    DEFAULT_CREATE_PEER_WAIT_MS,
    RecoveryConfig::DEFAULT.max_attempts as f64,
    RecoveryConfig::DEFAULT.disconnected_grace_ms,
    RecoveryConfig::DEFAULT.attempt_timeout_ms,
];

/// What each rule accepts, by rule number.
const EXPECTED: [&str; 3] = [
    "a finite number >= 0",
    "a finite number > 0",
    "a whole number from 0 to 10",
];
const NON_NEGATIVE: u8 = 0;
const POSITIVE: u8 = 1;
const WHOLE_0_TO_10: u8 = 2;
/// The rule of each of [`NUMBER_OPTIONS`].
const RULES: [u8; 8] = [
    NON_NEGATIVE,
    WHOLE_0_TO_10,
    NON_NEGATIVE,
    POSITIVE,
    NON_NEGATIVE,
    WHOLE_0_TO_10,
    NON_NEGATIVE,
    POSITIVE,
];

impl Limits {
    /// Defaults for absent values. Rules: cacheTtlMs finite >= 0; retries whole 0..=10;
    /// retryDelayMs finite >= 0; timeoutMs finite > 0; createPeerWaitMs finite >= 0;
    /// restartAttempts whole 0..=10 (default 3); disconnectedTimeoutMs finite >= 0 (default 3000);
    /// restartTimeoutMs finite > 0 (default 10_000).
    ///
    /// Options are checked in that order; the first bad one is reported. The recovery
    /// backoff base is not an option: it stays at [`RecoveryConfig::default`]'s 1000 ms.
    pub fn from_raw(raw: &RawNumbers) -> Result<Self, OptionError> {
        Self::from_values([
            raw.cache_ttl_ms,
            raw.retries,
            raw.retry_delay_ms,
            raw.timeout_ms,
            raw.create_peer_wait_ms,
            raw.restart_attempts,
            raw.disconnected_timeout_ms,
            raw.restart_timeout_ms,
        ])
    }

    /// [`Limits::from_raw`] with the values of [`NUMBER_OPTIONS`] in that
    /// order. One loop over a table of rules: the eight checks inlined one
    /// after another cost the wasm far more.
    pub fn from_values(values: [Option<f64>; 8]) -> Result<Self, OptionError> {
        let mut v = [0.0; 8];
        for at in 0..8 {
            let x = values[at].unwrap_or(DEFAULTS[at]);
            let rule = RULES[at];
            let ok = match rule {
                WHOLE_0_TO_10 => (0.0..=10.0).contains(&x) && x.fract() == 0.0,
                POSITIVE => x.is_finite() && x > 0.0,
                _ => x.is_finite() && x >= 0.0,
            };
            if !ok {
                return Err(OptionError {
                    option: NUMBER_OPTIONS[at],
                    expected: EXPECTED[rule as usize],
                });
            }
            v[at] = x;
        }
        Ok(Limits {
            cache_ttl_ms: v[0],
            retry: RetryPolicy {
                retries: v[1] as u32,
                base_delay_ms: v[2],
            },
            timeout_ms: v[3],
            create_peer_wait_ms: v[4],
            recovery: RecoveryConfig {
                max_attempts: v[5] as u32,
                disconnected_grace_ms: v[6],
                backoff_base_ms: RecoveryConfig::DEFAULT.backoff_base_ms,
                attempt_timeout_ms: v[7],
            },
        })
    }
}

/// `[{ urls: ["stun:stun.l.google.com:19302"] }]`.
pub fn default_fallback() -> Vec<IceServer> {
    vec![IceServer {
        urls: vec![GOOGLE_STUN.to_owned()],
        username: None,
        credential: None,
    }]
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::{default_fallback, Limits, OptionError, RawNumbers, GOOGLE_STUN};
    use crate::core::recovery::RecoveryConfig;
    use crate::core::retry::RetryPolicy;

    #[test]
    fn defaults() {
        let limits = Limits::from_raw(&RawNumbers::default()).unwrap();
        assert_eq!(
            limits,
            Limits {
                cache_ttl_ms: 3_600_000.0,
                retry: RetryPolicy {
                    retries: 3,
                    base_delay_ms: 1000.0
                },
                timeout_ms: 5000.0,
                create_peer_wait_ms: 4000.0,
                recovery: RecoveryConfig {
                    max_attempts: 3,
                    disconnected_grace_ms: 3000.0,
                    backoff_base_ms: 1000.0,
                    attempt_timeout_ms: 10_000.0,
                },
            }
        );
    }

    #[test]
    fn given_values_are_used() {
        let raw = RawNumbers {
            cache_ttl_ms: Some(0.0),
            retries: Some(10.0),
            retry_delay_ms: Some(0.0),
            timeout_ms: Some(0.5),
            create_peer_wait_ms: Some(0.0),
            restart_attempts: Some(0.0),
            disconnected_timeout_ms: Some(0.0),
            restart_timeout_ms: Some(250.0),
        };
        let limits = Limits::from_raw(&raw).unwrap();
        assert_eq!(limits.cache_ttl_ms, 0.0);
        assert_eq!(
            limits.retry,
            RetryPolicy {
                retries: 10,
                base_delay_ms: 0.0
            }
        );
        assert_eq!(limits.timeout_ms, 0.5);
        assert_eq!(limits.create_peer_wait_ms, 0.0);
        assert_eq!(
            limits.recovery,
            RecoveryConfig {
                max_attempts: 0,
                disconnected_grace_ms: 0.0,
                backoff_base_ms: 1000.0,
                attempt_timeout_ms: 250.0
            }
        );
    }

    fn err(raw: RawNumbers) -> OptionError {
        Limits::from_raw(&raw).unwrap_err()
    }

    #[test]
    fn each_bad_value_names_its_option() {
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        let non_neg = "a finite number >= 0";
        let pos = "a finite number > 0";
        let whole = "a whole number from 0 to 10";
        let e = |option, expected| OptionError { option, expected };
        for v in [-1.0, nan, inf, -inf] {
            assert_eq!(
                err(RawNumbers {
                    cache_ttl_ms: Some(v),
                    ..Default::default()
                }),
                e("cacheTtlMs", non_neg)
            );
            assert_eq!(
                err(RawNumbers {
                    retry_delay_ms: Some(v),
                    ..Default::default()
                }),
                e("retryDelayMs", non_neg)
            );
            assert_eq!(
                err(RawNumbers {
                    create_peer_wait_ms: Some(v),
                    ..Default::default()
                }),
                e("createPeerWaitMs", non_neg)
            );
            assert_eq!(
                err(RawNumbers {
                    disconnected_timeout_ms: Some(v),
                    ..Default::default()
                }),
                e("disconnectedTimeoutMs", non_neg)
            );
        }
        for v in [0.0, -0.0, -1.0, nan, inf] {
            assert_eq!(
                err(RawNumbers {
                    timeout_ms: Some(v),
                    ..Default::default()
                }),
                e("timeoutMs", pos)
            );
            assert_eq!(
                err(RawNumbers {
                    restart_timeout_ms: Some(v),
                    ..Default::default()
                }),
                e("restartTimeoutMs", pos)
            );
        }
        for v in [-1.0, 11.0, 2.5, 0.1, nan, inf, -inf, 1e20] {
            assert_eq!(
                err(RawNumbers {
                    retries: Some(v),
                    ..Default::default()
                }),
                e("retries", whole)
            );
            assert_eq!(
                err(RawNumbers {
                    restart_attempts: Some(v),
                    ..Default::default()
                }),
                e("restartAttempts", whole)
            );
        }
    }

    #[test]
    fn first_bad_option_is_reported() {
        let raw = RawNumbers {
            retries: Some(-1.0),
            timeout_ms: Some(0.0),
            ..Default::default()
        };
        assert_eq!(err(raw).option, "retries");
    }

    #[test]
    fn message() {
        let e = err(RawNumbers {
            retries: Some(11.0),
            ..Default::default()
        });
        assert_eq!(
            e.to_string(),
            "PeerManagerOptions.retries must be a whole number from 0 to 10"
        );
        let e = err(RawNumbers {
            timeout_ms: Some(0.0),
            ..Default::default()
        });
        assert_eq!(
            e.to_string(),
            "PeerManagerOptions.timeoutMs must be a finite number > 0"
        );
    }

    #[test]
    fn fallback() {
        let f = default_fallback();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].urls, vec![GOOGLE_STUN.to_owned()]);
        assert_eq!(f[0].username, None);
        assert_eq!(f[0].credential, None);
    }
}
