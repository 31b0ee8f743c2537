//! The HTTP router: the ICE servers endpoint, dev routes, headers and CORS.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
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
        app.merge(dev::routes()).fallback(static_files::serve)
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
