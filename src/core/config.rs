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
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// What a numeric option accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rule {
    /// A finite number >= 0 (a duration that may be zero).
    NonNegative,
    /// A finite number > 0 (a deadline).
    Positive,
    /// A whole number from 0 to 10 (a count of attempts).
    WholeUpToTen,
}

impl Rule {
    fn accepts(self, x: f64) -> bool {
        match self {
            Rule::NonNegative => x.is_finite() && x >= 0.0,
            Rule::Positive => x.is_finite() && x > 0.0,
            Rule::WholeUpToTen => (0.0..=10.0).contains(&x) && x.fract() == 0.0,
        }
    }

    /// How an error message says what the rule accepts.
    fn expected(self) -> &'static str {
        match self {
            Rule::NonNegative => "a finite number >= 0",
            Rule::Positive => "a finite number > 0",
            Rule::WholeUpToTen => "a whole number from 0 to 10",
        }
    }
}

/// One numeric option of `PeerManagerOptions`: its name, default and rule.
#[derive(Clone, Copy, Debug)]
pub struct NumberOption {
    /// The JavaScript name, e.g. "retries".
    pub name: &'static str,
    default: f64,
    rule: Rule,
}

impl NumberOption {
    /// The value given, or the default when absent; an [`OptionError`] when
    /// the rule refuses it.
    pub fn read(&self, value: Option<f64>) -> Result<f64, OptionError> {
        let x = value.unwrap_or(self.default);
        if self.rule.accepts(x) {
            Ok(x)
        } else {
            Err(OptionError {
                option: self.name,
                expected: self.rule.expected(),
            })
        }
    }
}

/// `cacheTtlMs`: how long fetched servers are reused.
pub const CACHE_TTL_MS: NumberOption = NumberOption {
    name: "cacheTtlMs",
    default: DEFAULT_CACHE_TTL_MS,
    rule: Rule::NonNegative,
};
/// `retries`: attempts after the first.
pub const RETRIES: NumberOption = NumberOption {
    name: "retries",
    default: DEFAULT_RETRIES as f64,
    rule: Rule::WholeUpToTen,
};
/// `retryDelayMs`: the base of the retry backoff.
pub const RETRY_DELAY_MS: NumberOption = NumberOption {
    name: "retryDelayMs",
    default: DEFAULT_RETRY_DELAY_MS,
    rule: Rule::NonNegative,
};
/// `timeoutMs`: one attempt's deadline.
pub const TIMEOUT_MS: NumberOption = NumberOption {
    name: "timeoutMs",
    default: DEFAULT_TIMEOUT_MS,
    rule: Rule::Positive,
};
/// `createPeerWaitMs`: how long `createPeer` waits for servers.
pub const CREATE_PEER_WAIT_MS: NumberOption = NumberOption {
    name: "createPeerWaitMs",
    default: DEFAULT_CREATE_PEER_WAIT_MS,
    rule: Rule::NonNegative,
};
/// `restartAttempts` (an addition): ICE restarts before giving up.
pub const RESTART_ATTEMPTS: NumberOption = NumberOption {
    name: "restartAttempts",
    default: RecoveryConfig::DEFAULT.max_attempts as f64,
    rule: Rule::WholeUpToTen,
};
/// `disconnectedTimeoutMs` (an addition): the grace before a restart.
pub const DISCONNECTED_TIMEOUT_MS: NumberOption = NumberOption {
    name: "disconnectedTimeoutMs",
    default: RecoveryConfig::DEFAULT.disconnected_grace_ms,
    rule: Rule::NonNegative,
};
/// `restartTimeoutMs` (an addition): one restart's deadline.
pub const RESTART_TIMEOUT_MS: NumberOption = NumberOption {
    name: "restartTimeoutMs",
    default: RecoveryConfig::DEFAULT.attempt_timeout_ms,
    rule: Rule::Positive,
};

impl RawNumbers {
    /// The value given for the option named `name` (a JavaScript name).
    pub fn get(&self, name: &str) -> Option<f64> {
        match name {
            "cacheTtlMs" => self.cache_ttl_ms,
            "retries" => self.retries,
            "retryDelayMs" => self.retry_delay_ms,
            "timeoutMs" => self.timeout_ms,
            "createPeerWaitMs" => self.create_peer_wait_ms,
            "restartAttempts" => self.restart_attempts,
            "disconnectedTimeoutMs" => self.disconnected_timeout_ms,
            "restartTimeoutMs" => self.restart_timeout_ms,
            _ => None,
        }
    }
}

impl Limits {
    /// [`Limits::read`] of the values in `raw`.
    pub fn from_raw(raw: &RawNumbers) -> Result<Self, OptionError> {
        Self::read(|name| raw.get(name))
    }

    /// Each option's value got by its JavaScript name from `value` and
    /// validated (see its [`NumberOption`]), with its default when absent.
    /// They are checked in the order written here, and the first bad one is
    /// reported. The recovery backoff base is not an option: it stays at
    /// [`RecoveryConfig::DEFAULT`]'s 1000 ms.
    pub fn read(mut value: impl FnMut(&'static str) -> Option<f64>) -> Result<Self, OptionError> {
        let mut number = |option: &NumberOption| option.read(value(option.name));
        Ok(Limits {
            cache_ttl_ms: number(&CACHE_TTL_MS)?,
            retry: RetryPolicy {
                retries: number(&RETRIES)? as u32,
                base_delay_ms: number(&RETRY_DELAY_MS)?,
            },
            timeout_ms: number(&TIMEOUT_MS)?,
            create_peer_wait_ms: number(&CREATE_PEER_WAIT_MS)?,
            recovery: RecoveryConfig {
                max_attempts: number(&RESTART_ATTEMPTS)? as u32,
                disconnected_grace_ms: number(&DISCONNECTED_TIMEOUT_MS)?,
                backoff_base_ms: RecoveryConfig::DEFAULT.backoff_base_ms,
                attempt_timeout_ms: number(&RESTART_TIMEOUT_MS)?,
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
