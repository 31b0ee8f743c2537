//! The JSON envelope every API route answers with.
//!
//! Success: `{ "success": true, "data": ... }`; failure: `{ "success": false, "error": "..." }`.
//! Both carry `Cache-Control: no-store` because they may hold credentials.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

#[derive(Serialize)]
struct Success<T> {
    success: bool,
    data: T,
}

#[derive(Serialize)]
struct Failure<'a> {
    success: bool,
    error: &'a str,
}

/// A 200 `{ success: true, data }` response.
pub fn ok<T: Serialize>(data: T) -> Response {
    let mut res = Json(Success {
        success: true,
        data,
    })
    .into_response();
    no_store(&mut res);
    res
}

/// A 201 `{ success: true, data }` response: something was created.
pub fn created<T: Serialize>(data: T) -> Response {
    let mut res = ok(data);
    *res.status_mut() = axum::http::StatusCode::CREATED;
    res
}

fn no_store(res: &mut Response) {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// An error answer: status plus a message that is safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Client-safe message (never a secret, never an upstream body).
    pub message: String,
}

impl ApiError {
    /// Any status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 401 with the reason.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }

    /// 400 with the reason.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not found")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Failure {
            success: false,
            error: &self.message,
        };
        let mut res = (self.status, Json(body)).into_response();
        no_store(&mut res);
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"ice-peer\""),
            );
        }
        res
    }
}
