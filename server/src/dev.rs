//! Dev-only routes (`--dev`): demo token minting and the simulated outage switch.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use crate::api::ApiError;
use crate::auth::valid_sub;
use crate::state::AppState;

/// Lifetime of a demo token.
pub const DEMO_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// `sub` when none is given.
pub const DEFAULT_SUB: &str = "demo-user";

/// `POST /api/dev/token` and `POST /api/dev/outage`.
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/dev/token", post(token))
        .route("/api/dev/outage", post(outage))
}

#[derive(Deserialize, Default)]
struct SubParam {
    sub: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TokenResponse {
    token: String,
    sub: String,
    expires_at: u64,
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Body `{"sub": "..."}` (optional) or query `?sub=...`; answers `{token, sub, expiresAt}` (ms).
async fn token(
    State(state): State<Arc<AppState>>,
    query: Result<Query<SubParam>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let Query(query) = query.map_err(|_| ApiError::bad_request("invalid query string"))?;
    let from_body = if body.iter().all(u8::is_ascii_whitespace) {
        SubParam::default()
    } else {
        serde_json::from_slice::<SubParam>(&body)
            .map_err(|_| ApiError::bad_request("body must be JSON like {\"sub\":\"alice\"}"))?
    };
    let sub = from_body
        .sub
        .or(query.sub)
        .unwrap_or_else(|| DEFAULT_SUB.to_owned());
    if !valid_sub(&sub) {
        return Err(ApiError::bad_request(
            "sub must be 1 to 128 bytes without control characters",
        ));
    }
    let (token, exp) = state.jwt.mint(&sub, DEMO_TOKEN_TTL)?;
    Ok(no_store(
        Json(TokenResponse {
            token,
            sub,
            expires_at: exp.saturating_mul(1000),
        })
        .into_response(),
    ))
}

#[derive(Deserialize)]
struct OutageParam {
    down: Option<String>,
}

#[derive(Serialize)]
struct OutageResponse {
    down: bool,
}

/// `?down=true|false` with `Authorization: Bearer <dev token>`; answers `{ "down": bool }`.
///
/// The token is what keeps another site from flipping the switch: a
/// cross-site form or `fetch` can POST here, but cannot add an
/// `Authorization` header without a CORS preflight, nor read a minted token.
async fn outage(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    query: Result<Query<OutageParam>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    state.jwt.authenticate(&headers)?;
    let down = match query.ok().and_then(|Query(q)| q.down).as_deref() {
        Some("true") => true,
        Some("false") => false,
        _ => return Err(ApiError::bad_request("expected ?down=true or ?down=false")),
    };
    state.set_outage(down);
    tracing::info!(down, "simulated outage switched");
    Ok(no_store(Json(OutageResponse { down }).into_response()))
}
