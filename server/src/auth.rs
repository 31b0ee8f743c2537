//! HS256 JWT verification (and minting, for the dev token route).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{header, HeaderMap};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::api::ApiError;
use crate::secret::Secret;

/// Longest `sub` accepted; it ends up in TURN usernames (STUN allows 513 bytes).
pub const MAX_SUB_LEN: usize = 128;

/// Shortest HS256 secret accepted: RFC 7518 §3.2 asks for a key as long as the hash (32 bytes).
pub const MIN_JWT_SECRET_LEN: usize = 32;

/// The claims we read and write.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// User id.
    pub sub: String,
    /// Expiry, seconds since the epoch.
    pub exp: u64,
    /// Issued at, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
}

/// What a minted token carries beyond [`Claims`]: the configured audience and issuer.
#[derive(Serialize)]
struct Minted<'a> {
    #[serde(flatten)]
    claims: &'a Claims,
    #[serde(skip_serializing_if = "Option::is_none")]
    aud: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    iss: Option<&'a str>,
}

/// Keys and validation rules for one secret.
pub struct Jwt {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    audience: Option<String>,
    issuer: Option<String>,
}

impl std::fmt::Debug for Jwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jwt(<redacted>)")
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Whether `sub` may go into a TURN username.
pub fn valid_sub(sub: &str) -> bool {
    !sub.is_empty() && sub.len() <= MAX_SUB_LEN && !sub.chars().any(char::is_control)
}

impl Jwt {
    /// HS256 only; `exp` and `sub` required, `nbf` checked when present, 5 s
    /// leeway; `aud` and `iss` required and checked when configured, and
    /// ignored otherwise.
    pub fn new(secret: &Secret, audience: Option<&str>, issuer: Option<&str>) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = 5;
        let mut required = vec!["exp", "sub"];
        match audience {
            Some(aud) => {
                validation.set_audience(&[aud]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        if let Some(iss) = issuer {
            validation.set_issuer(&[iss]);
            required.push("iss");
        }
        validation.set_required_spec_claims(&required);
        Self {
            encoding: EncodingKey::from_secret(secret.expose().as_bytes()),
            decoding: DecodingKey::from_secret(secret.expose().as_bytes()),
            validation,
            audience: audience.map(str::to_owned),
            issuer: issuer.map(str::to_owned),
        }
    }

    /// When a token with these claims stops being accepted: its `exp` plus
    /// the leeway. `None` for an `exp` past what the clock can represent.
    pub fn expires_at(&self, claims: &Claims) -> Option<SystemTime> {
        let secs = claims.exp.saturating_add(self.validation.leeway);
        UNIX_EPOCH.checked_add(Duration::from_secs(secs))
    }

    /// Verifies a compact JWT and returns its claims.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        use jsonwebtoken::errors::ErrorKind;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                ApiError::unauthorized(match e.kind() {
                    ErrorKind::ExpiredSignature => "token expired",
                    ErrorKind::InvalidSignature => "invalid token signature",
                    ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                        "token algorithm not allowed"
                    }
                    ErrorKind::MissingRequiredClaim(_) => "token lacks a required claim",
                    ErrorKind::ImmatureSignature => "token not yet valid",
                    ErrorKind::InvalidAudience => "token audience not accepted",
                    ErrorKind::InvalidIssuer => "token issuer not accepted",
                    _ => "malformed token",
                })
            })?;
        if !valid_sub(&data.claims.sub) {
            return Err(ApiError::unauthorized("invalid token subject"));
        }
        Ok(data.claims)
    }

    /// Signs an HS256 token for `sub` valid for `ttl`, with the configured
    /// `aud` and `iss`; returns it with its `exp`.
    pub fn mint(&self, sub: &str, ttl: Duration) -> Result<(String, u64), ApiError> {
        let now = unix_now();
        let claims = Claims {
            sub: sub.to_owned(),
            exp: now + ttl.as_secs(),
            iat: Some(now),
        };
        let minted = Minted {
            claims: &claims,
            aud: self.audience.as_deref(),
            iss: self.issuer.as_deref(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &minted, &self.encoding)
            .map(|t| (t, claims.exp))
            .map_err(|_| {
                ApiError::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "signing failed",
                )
            })
    }

    /// Reads `Authorization: Bearer <jwt>` and verifies it.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Claims, ApiError> {
        let value = headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization header"))?;
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
        let token = match value.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return Err(ApiError::unauthorized("expected a Bearer token")),
        };
        if token.is_empty() {
            return Err(ApiError::unauthorized("expected a Bearer token"));
        }
        self.verify(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "unit-test-jwt-secret-0123456789a";

    #[test]
    fn mint_then_verify() {
        let jwt = Jwt::new(&Secret::new(KEY), None, None);
        let (token, exp) = jwt.mint("alice", Duration::from_secs(60)).unwrap();
        let claims = jwt.verify(&token).unwrap();
        assert_eq!(claims.sub, "alice");
        assert_eq!(claims.exp, exp);
        assert!(
            Jwt::new(&Secret::new("another-key-of-at-least-32-bytes"), None, None)
                .verify(&token)
                .is_err()
        );
    }

    #[test]
    fn a_token_expires_at_exp_plus_the_leeway_or_never_past_the_clock() {
        let jwt = Jwt::new(&Secret::new(KEY), None, None);
        let claims = |exp| Claims {
            sub: "alice".into(),
            exp,
            iat: None,
        };
        let at = UNIX_EPOCH + Duration::from_secs(1_000_005);
        assert_eq!(jwt.expires_at(&claims(1_000_000)), Some(at));
        assert_eq!(jwt.expires_at(&claims(u64::MAX)), None);
    }

    #[test]
    fn minted_tokens_carry_the_configured_audience_and_issuer() {
        let strict = Jwt::new(&Secret::new(KEY), Some("calls"), Some("auth"));
        let (token, _) = strict.mint("alice", Duration::from_secs(60)).unwrap();
        assert_eq!(strict.verify(&token).unwrap().sub, "alice");
        // Nothing configured: aud and iss are neither minted nor required.
        let plain = Jwt::new(&Secret::new(KEY), None, None);
        assert_eq!(plain.verify(&token).unwrap().sub, "alice");
        let (bare, _) = plain.mint("bob", Duration::from_secs(60)).unwrap();
        assert!(strict.verify(&bare).is_err());
    }

    #[test]
    fn bearer_parsing() {
        let jwt = Jwt::new(&Secret::new(KEY), None, None);
        let (token, _) = jwt.mint("bob", Duration::from_secs(60)).unwrap();
        let mut h = HeaderMap::new();
        assert!(jwt
            .authenticate(&h)
            .unwrap_err()
            .message
            .contains("missing"));
        h.insert(
            header::AUTHORIZATION,
            format!("Basic {token}").parse().unwrap(),
        );
        assert!(jwt.authenticate(&h).unwrap_err().message.contains("Bearer"));
        h.insert(
            header::AUTHORIZATION,
            format!("bearer {token}").parse().unwrap(),
        );
        assert_eq!(jwt.authenticate(&h).unwrap().sub, "bob");
    }

    #[test]
    fn sub_rules() {
        assert!(valid_sub("demo-user"));
        assert!(!valid_sub(""));
        assert!(!valid_sub("a\nb"));
        assert!(!valid_sub(&"x".repeat(MAX_SUB_LEN + 1)));
    }
}
