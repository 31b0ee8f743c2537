//! The core pieces composed the way the browser edge uses them for
//! `getIceServers()`: options → retry loop over scripted responses → parse →
//! cache, with an injected clock.
#![cfg(not(target_arch = "wasm32"))]

use ice_peer::core::cache::CachedServers;
use ice_peer::core::config::{Limits, RawNumbers};
use ice_peer::core::error::{AttemptFailure, ErrorKind, IceServersError};
use ice_peer::core::json::Json;
use ice_peer::core::servers::{parse_response, InvalidResponse, ParsedServers};

/// One scripted attempt: an HTTP status with a body, or a failure before any response.
#[derive(Clone)]
enum Reply {
    Http(u16, &'static str),
    Network,
    Timeout,
}

/// What the edge does: attempt, classify, wait per the policy, give up or succeed.
/// Returns the result and the total time slept.
fn fetch(
    limits: &Limits,
    script: &mut Vec<Reply>,
) -> (Result<ParsedServers, IceServersError>, f64) {
    let mut attempts = 0;
    let mut slept = 0.0;
    loop {
        attempts += 1;
        let reply = if script.is_empty() {
            Reply::Network
        } else {
            script.remove(0)
        };
        let failure = match reply {
            Reply::Http(status, body) if (200..300).contains(&status) => {
                match serde_json::from_str::<Json>(body) {
                    Err(_) => AttemptFailure::Invalid(200, InvalidResponse::NotJson),
                    Ok(json) => match parse_response(&json) {
                        Ok(parsed) => return (Ok(parsed), slept),
                        Err(reason) => AttemptFailure::Invalid(200, reason),
                    },
                }
            }
            Reply::Http(status, _) => AttemptFailure::Status(status),
            Reply::Network => AttemptFailure::Network,
            Reply::Timeout => AttemptFailure::Timeout,
        };
        match limits.retry.next_delay(attempts, failure) {
            Some(delay) => slept += delay,
            None => return (Err(IceServersError::after(failure, attempts)), slept),
        }
    }
}

const GOOD: &str = r#"{"success":true,"data":{"iceServers":[
    {"urls":"stun:stun.example.com:3478"},
    {"urls":["turn:turn.example.com:3478"],"username":"1700000000:alice","credential":"c2VjcmV0"}
  ],"ttl":86400}}"#;

fn defaults() -> Limits {
    Limits::from_raw(&RawNumbers::default()).unwrap()
}

#[test]
fn transient_failures_then_success() {
    let mut script = vec![
        Reply::Http(503, "busy"),
        Reply::Timeout,
        Reply::Http(200, GOOD),
    ];
    let (result, slept) = fetch(&defaults(), &mut script);
    let parsed = result.unwrap();
    assert_eq!(parsed.servers.len(), 2);
    assert_eq!(slept, 1000.0 + 2000.0);
}

#[test]
fn all_attempts_fail() {
    let mut script = vec![
        Reply::Network,
        Reply::Network,
        Reply::Network,
        Reply::Http(500, ""),
    ];
    let (result, slept) = fetch(&defaults(), &mut script);
    let err = result.unwrap_err();
    assert_eq!(
        err,
        IceServersError {
            kind: ErrorKind::Http,
            status: Some(500),
            attempts: 4,
            reason: None,
        }
    );
    assert_eq!(
        err.to_string(),
        "ICE servers request failed: HTTP 500 after 4 attempts"
    );
    assert_eq!(slept, 1000.0 + 2000.0 + 4000.0);
}

#[test]
fn unauthorized_and_bad_bodies_are_not_retried() {
    let (result, slept) = fetch(
        &defaults(),
        &mut vec![Reply::Http(401, r#"{"error":"expired"}"#)],
    );
    assert_eq!(
        result.unwrap_err(),
        IceServersError {
            kind: ErrorKind::Unauthorized,
            status: Some(401),
            attempts: 1,
            reason: None,
        }
    );
    assert_eq!(slept, 0.0);

    let (result, _) = fetch(&defaults(), &mut vec![Reply::Http(200, "<html>")]);
    assert_eq!(result.unwrap_err().kind, ErrorKind::InvalidResponse);

    let (result, _) = fetch(
        &defaults(),
        &mut vec![Reply::Http(200, r#"{"success":false}"#)],
    );
    assert_eq!(
        result.unwrap_err(),
        IceServersError {
            kind: ErrorKind::InvalidResponse,
            status: Some(200),
            attempts: 1,
            reason: Some(InvalidResponse::NotSuccessful),
        }
    );

    let (result, _) = fetch(&defaults(), &mut vec![Reply::Http(404, "")]);
    assert_eq!(
        result.unwrap_err(),
        IceServersError {
            kind: ErrorKind::Http,
            status: Some(404),
            attempts: 1,
            reason: None,
        }
    );
}

#[test]
fn timeouts_everywhere() {
    let raw = RawNumbers {
        retries: Some(1.0),
        retry_delay_ms: Some(0.0),
        ..Default::default()
    };
    let (result, slept) = fetch(
        &Limits::from_raw(&raw).unwrap(),
        &mut vec![Reply::Timeout, Reply::Timeout],
    );
    assert_eq!(
        result.unwrap_err(),
        IceServersError {
            kind: ErrorKind::Timeout,
            status: None,
            attempts: 2,
            reason: None,
        }
    );
    assert_eq!(slept, 0.0);
}

#[test]
fn cache_then_stale_if_error_then_expiry() {
    let limits = defaults();
    let t0 = 1_700_000_000_000.0;
    let (result, _) = fetch(&limits, &mut vec![Reply::Http(200, GOOD)]);
    let parsed = result.unwrap();
    let cache = CachedServers::new(
        parsed.servers,
        "jwt-a".into(),
        t0,
        limits.cache_ttl_ms,
        parsed.ttl_secs,
    );

    // Within the hour: served from the cache, for the same token only.
    assert!(cache.is_fresh_for("jwt-a", t0 + 59.0 * 60_000.0));
    assert!(!cache.is_fresh_for("jwt-b", t0 + 1.0));
    // After the hour a refresh is due; if it fails, the credentials are still inside ttl.
    let later = t0 + 2.0 * 3_600_000.0;
    assert!(!cache.is_fresh_for("jwt-a", later));
    let (refresh, _) = fetch(&limits, &mut vec![Reply::Network; 4]);
    assert!(refresh.is_err());
    assert!(cache.is_valid_for("jwt-a", later));
    assert!(!cache.is_valid_for("jwt-b", later));
    // After the ttl (one day) they are not handed out any more.
    assert!(!cache.is_valid_for("jwt-a", t0 + 86_400_000.0));
}
