//! The HTTP router: the ICE servers endpoint, dev routes, headers and CORS.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::api::{self, ApiError};
use crate::state::AppState;
use crate::{dev, signal, static_files};

/// The Content-Security-Policy sent with every response.
pub const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob: mediastream:; \
connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/// The full application.
pub fn router(state: Arc<AppState>, cors_origins: &[HeaderValue]) -> Router {
    let mut app = Router::new()
        .route("/api/calls/ice-servers", get(ice_servers))
        .route("/api/calls/signal", get(signal::route))
        .route(
            "/api/calls/rooms",
            post(signal::create_room).layer(DefaultBodyLimit::max(signal::MAX_ROOM_BODY_BYTES)),
        );
    app = if state.dev.is_some() {
        app.merge(dev::routes())
            .fallback(static_files::serve)
            .layer(axum::middleware::from_fn(local_hosts_only))
    } else {
        app.fallback(not_found)
    };
    let mut app = app
        .with_state(state)
        .layer(axum::middleware::map_response(security_headers));
    if !cors_origins.is_empty() {
        app = app.layer(cors(cors_origins));
    }
    app
}

async fn ice_servers(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if state.outage() {
        return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "simulated outage").into_response();
    }
    let claims = match state.jwt.authenticate(&headers) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    match state.provider.ice_servers(&claims.sub).await {
        Ok(data) => api::ok(data),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// Under `--dev`, only requests for an IP address or `localhost`: --dev
/// mints tokens for anyone who asks, and a page of another site that makes
/// its own name resolve to this machine (DNS rebinding) would send them with
/// that name as Host.
async fn local_hosts_only(request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok());
    if host.is_some_and(is_local_host) {
        next.run(request).await
    } else {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "--dev answers only for an IP address or localhost (open the demo by its IP)",
        )
        .into_response()
    }
}

/// True for a Host header naming an IP address, `localhost` or a name
/// under `.localhost` (RFC 6761: never resolved outside this machine).
fn is_local_host(host: &str) -> bool {
    let Ok(authority) = host.parse::<Authority>() else {
        return false;
    };
    let name = authority.host();
    let bare = name.trim_start_matches('[').trim_end_matches(']');
    bare.parse::<IpAddr>().is_ok()
        || name.eq_ignore_ascii_case("localhost")
        || name.to_ascii_lowercase().ends_with(".localhost")
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

fn cors(origins: &[HeaderValue]) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().cloned()))
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
        .max_age(Duration::from_secs(600))
}

#[cfg(test)]
mod tests {
    use super::is_local_host;

    #[test]
    fn local_hosts_are_ip_addresses_and_localhost() {
        for local in [
            "127.0.0.1:8080",
            "198.51.100.7",
            "[::1]:8080",
            "[fe80::1]",
            "localhost",
            "LOCALHOST:80",
            "app.localhost:8080",
        ] {
            assert!(is_local_host(local), "{local}");
        }
        for other in [
            "evil.example:8080",
            "evil.example",
            "localhost.evil.example",
            "127.0.0.1.nip.io",
            "",
            "a b",
        ] {
            assert!(!is_local_host(other), "{other}");
        }
    }
}
