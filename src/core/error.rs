//! The failure kinds of `getIceServers()`, as the contract names them.
//! The browser edge turns an [`IceServersError`] into a JS `Error` named
//! "IceServersError" with `kind`, `status` and `attempts` properties.

use super::servers::InvalidResponse;
use super::text::decimal;
use core::fmt;

/// Contract `IceServersErrorKind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// "no-token": the token source gave nothing; no request was sent.
    NoToken,
    /// "unauthorized": 401 or 403; never retried.
    Unauthorized,
    /// "http": any other non-2xx status.
    Http,
    /// "network": `fetch` itself failed.
    Network,
    /// "timeout": the attempt exceeded `timeoutMs`.
    Timeout,
    /// "invalid-response": not the documented envelope, or no usable server in it.
    InvalidResponse,
    /// "aborted" (an addition to the contract's kinds): `destroy()` ended the
    /// request or its retries; nothing more is sent.
    Aborted,
}

impl ErrorKind {
    /// "no-token" | "unauthorized" | "http" | "network" | "timeout" | "invalid-response" | "aborted".
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::NoToken => "no-token",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Http => "http",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::InvalidResponse => "invalid-response",
            ErrorKind::Aborted => "aborted",
        }
    }
}

/// Why one request attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptFailure {
    /// A response with this non-2xx status.
    Status(u16),
    /// `fetch` rejected (offline, DNS, refused, CORS).
    Network,
    /// The attempt exceeded `timeoutMs` and was aborted.
    Timeout,
    /// A 2xx response (with this status) whose body was unusable, and why.
    Invalid(u16, InvalidResponse),
}

impl AttemptFailure {
    /// 401/403 → Unauthorized; other statuses → Http; Network; Timeout; Invalid → InvalidResponse.
    pub fn kind(self) -> ErrorKind {
        match self {
            AttemptFailure::Status(401 | 403) => ErrorKind::Unauthorized,
            AttemptFailure::Status(_) => ErrorKind::Http,
            AttemptFailure::Network => ErrorKind::Network,
            AttemptFailure::Timeout => ErrorKind::Timeout,
            AttemptFailure::Invalid(..) => ErrorKind::InvalidResponse,
        }
    }

    /// Worth another attempt: 5xx, 408, 429, Network, Timeout. Not: 401/403, other 4xx,
    /// other non-2xx statuses (1xx/3xx), Invalid (a 2xx with a bad body is deterministic).
    pub fn is_retryable(self) -> bool {
        match self {
            AttemptFailure::Status(s) => matches!(s, 408 | 429 | 500..=599),
            AttemptFailure::Network | AttemptFailure::Timeout => true,
            AttemptFailure::Invalid(..) => false,
        }
    }

    /// The HTTP status for `Status`; None otherwise (`Invalid` carries no status).
    pub fn status(self) -> Option<u16> {
        match self {
            AttemptFailure::Status(s) | AttemptFailure::Invalid(s, _) => Some(s),
            AttemptFailure::Network | AttemptFailure::Timeout => None,
        }
    }
}

/// What `getIceServers()` rejects with. Its message never contains a token or credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IceServersError {
    /// The contract kind.
    pub kind: ErrorKind,
    /// HTTP status of the last attempt, when there was a response.
    pub status: Option<u16>,
    /// Requests sent before giving up (0 for NoToken).
    pub attempts: u32,
    /// Why the body was unusable, for "invalid-response".
    pub reason: Option<InvalidResponse>,
}

impl IceServersError {
    /// The token source gave nothing after `attempts` requests (0: before
    /// the first, so none was sent; more: when asked again before a retry).
    pub fn no_token(attempts: u32) -> Self {
        Self::without_response(ErrorKind::NoToken, attempts)
    }

    /// `destroy()` ended it after `attempts` requests; nothing more is sent.
    pub fn aborted(attempts: u32) -> Self {
        Self::without_response(ErrorKind::Aborted, attempts)
    }

    /// An error of `kind` with no response behind it (no status, no
    /// reason): "no-token" or "aborted" after `attempts` requests.
    pub fn without_response(kind: ErrorKind, attempts: u32) -> Self {
        IceServersError {
            kind,
            status: None,
            attempts,
            reason: None,
        }
    }

    /// The error after `attempts` requests, the last of which failed with `last`.
    pub fn after(last: AttemptFailure, attempts: u32) -> Self {
        IceServersError {
            kind: last.kind(),
            status: last.status(),
            attempts,
            reason: match last {
                AttemptFailure::Invalid(_, reason) => Some(reason),
                _ => None,
            },
        }
    }
}

impl IceServersError {
    /// e.g. "ICE servers request failed: HTTP 500 after 4 attempts",
    /// "ICE servers request failed: no token (no request sent)", "... timed out after 1 attempt",
    /// "... invalid response after 1 attempt".
    pub fn message(&self) -> String {
        let mut text = String::from("ICE servers request failed: ");
        if self.kind == ErrorKind::NoToken && self.attempts == 0 {
            text.push_str("no token (no request sent)");
            return text;
        }
        text.push_str(match self.kind {
            ErrorKind::NoToken => "no token",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Http => "HTTP",
            ErrorKind::Network => "network error",
            ErrorKind::Timeout => "timed out",
            ErrorKind::InvalidResponse => "invalid response",
            ErrorKind::Aborted => "aborted by destroy()",
        });
        // What the server answered, when it answered: an HTTP error is its
        // status; any other kind names the status and the reason in brackets.
        let reason = self.reason.map(InvalidResponse::as_str);
        match (self.status, reason) {
            (Some(status), _) if self.kind == ErrorKind::Http => {
                text.push(' ');
                text.push_str(&decimal(u32::from(status)));
            }
            (Some(status), reason) => {
                text.push_str(" (HTTP ");
                text.push_str(&decimal(u32::from(status)));
                if let Some(reason) = reason {
                    text.push_str(": ");
                    text.push_str(reason);
                }
                text.push(')');
            }
            (None, Some(reason)) => {
                text.push_str(" (");
                text.push_str(reason);
                text.push(')');
            }
            (None, None) => {}
        }
        text.push_str(" after ");
        text.push_str(&decimal(self.attempts));
        text.push_str(if self.attempts == 1 {
            " attempt"
        } else {
            " attempts"
        });
        text
    }
}

impl fmt::Display for IceServersError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::super::servers::InvalidResponse;
    use super::{AttemptFailure, ErrorKind, IceServersError};

    #[test]
    fn kinds_and_retryability_by_status() {
        use ErrorKind::*;
        let table = [
            (400, Http, false),
            (401, Unauthorized, false),
            (403, Unauthorized, false),
            (404, Http, false),
            (408, Http, true),
            (429, Http, true),
            (500, Http, true),
            (502, Http, true),
            (503, Http, true),
            (599, Http, true),
            (302, Http, false),
            (304, Http, false),
            (101, Http, false),
            (600, Http, false),
            (0, Http, false),
        ];
        for (status, kind, retry) in table {
            let f = AttemptFailure::Status(status);
            assert_eq!(f.kind(), kind, "{status}");
            assert_eq!(f.is_retryable(), retry, "{status}");
            assert_eq!(f.status(), Some(status));
        }
    }

    #[test]
    fn non_status_failures() {
        assert_eq!(AttemptFailure::Network.kind(), ErrorKind::Network);
        assert!(AttemptFailure::Network.is_retryable());
        assert_eq!(AttemptFailure::Network.status(), None);
        assert_eq!(AttemptFailure::Timeout.kind(), ErrorKind::Timeout);
        assert!(AttemptFailure::Timeout.is_retryable());
        assert_eq!(AttemptFailure::Timeout.status(), None);
        for reason in [
            InvalidResponse::NotJson,
            InvalidResponse::NotSuccessful,
            InvalidResponse::NotAnEnvelope,
            InvalidResponse::NoUsableServer,
        ] {
            let f = AttemptFailure::Invalid(200, reason);
            assert_eq!(f.kind(), ErrorKind::InvalidResponse);
            assert!(!f.is_retryable());
            assert_eq!(f.status(), Some(200));
            assert_eq!(IceServersError::after(f, 1).reason, Some(reason));
        }
    }

    #[test]
    fn kind_names() {
        assert_eq!(ErrorKind::NoToken.as_str(), "no-token");
        assert_eq!(ErrorKind::Unauthorized.as_str(), "unauthorized");
        assert_eq!(ErrorKind::Http.as_str(), "http");
        assert_eq!(ErrorKind::Network.as_str(), "network");
        assert_eq!(ErrorKind::Timeout.as_str(), "timeout");
        assert_eq!(ErrorKind::InvalidResponse.as_str(), "invalid-response");
    }

    #[test]
    fn constructors() {
        assert_eq!(
            IceServersError::no_token(0),
            IceServersError {
                kind: ErrorKind::NoToken,
                status: None,
                attempts: 0,
                reason: None,
            }
        );
        assert_eq!(
            IceServersError::after(AttemptFailure::Status(503), 4),
            IceServersError {
                kind: ErrorKind::Http,
                status: Some(503),
                attempts: 4,
                reason: None,
            }
        );
        assert_eq!(
            IceServersError::after(AttemptFailure::Status(401), 1),
            IceServersError {
                kind: ErrorKind::Unauthorized,
                status: Some(401),
                attempts: 1,
                reason: None,
            }
        );
        assert_eq!(
            IceServersError::after(AttemptFailure::Timeout, 2),
            IceServersError {
                kind: ErrorKind::Timeout,
                status: None,
                attempts: 2,
                reason: None,
            }
        );
    }

    #[test]
    fn messages() {
        let msg = |f, n| IceServersError::after(f, n).to_string();
        assert_eq!(
            IceServersError::no_token(0).to_string(),
            "ICE servers request failed: no token (no request sent)"
        );
        assert_eq!(
            msg(AttemptFailure::Status(500), 4),
            "ICE servers request failed: HTTP 500 after 4 attempts"
        );
        assert_eq!(
            msg(AttemptFailure::Status(401), 1),
            "ICE servers request failed: unauthorized (HTTP 401) after 1 attempt"
        );
        assert_eq!(
            msg(AttemptFailure::Timeout, 1),
            "ICE servers request failed: timed out after 1 attempt"
        );
        assert_eq!(
            msg(AttemptFailure::Network, 3),
            "ICE servers request failed: network error after 3 attempts"
        );
        assert_eq!(
            msg(AttemptFailure::Invalid(200, InvalidResponse::NoUsableServer), 1),
            "ICE servers request failed: invalid response (HTTP 200: no usable ICE server) after 1 attempt"
        );
        // A hand-built Http error without a status still reads well.
        let e = IceServersError {
            kind: ErrorKind::Http,
            status: None,
            attempts: 0,
            reason: None,
        };
        assert_eq!(
            e.to_string(),
            "ICE servers request failed: HTTP after 0 attempts"
        );
    }

    #[test]
    fn no_token_before_a_retry_counts_the_requests_sent() {
        let e = IceServersError::no_token(2);
        assert_eq!(
            (e.kind, e.attempts, e.status),
            (ErrorKind::NoToken, 2, None)
        );
        assert_eq!(
            e.to_string(),
            "ICE servers request failed: no token after 2 attempts"
        );
    }

    #[test]
    fn aborted_by_destroy() {
        let e = IceServersError::aborted(2);
        assert_eq!(e.kind.as_str(), "aborted");
        assert_eq!((e.status, e.attempts), (None, 2));
        assert_eq!(
            e.to_string(),
            "ICE servers request failed: aborted by destroy() after 2 attempts"
        );
        assert_eq!(
            IceServersError::aborted(0).to_string(),
            "ICE servers request failed: aborted by destroy() after 0 attempts"
        );
    }
}
