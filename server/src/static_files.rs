//! Dev-only static files: `www/` at `/`, `pkg/` at `/pkg/`, with exact MIME types.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::api::ApiError;
use crate::state::AppState;

/// The MIME type for a file name, by extension.
pub fn mime_for(path: &Path) -> &'static str {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json" | "map") => "application/json",
        Some("ts") => "text/plain; charset=utf-8",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("webm") => "video/webm",
        Some("mp4") => "video/mp4",
        Some("wav") => "audio/wav",
        Some("ogg") => "audio/ogg",
        _ => "application/octet-stream",
    }
}

/// Maps a request path to a file under `root`, refusing anything that could escape it.
pub fn resolve(root: &Path, rel: &str) -> Option<PathBuf> {
    let mut path = root.to_path_buf();
    for segment in rel.split('/').filter(|s| !s.is_empty()) {
        let bad = segment.starts_with('.') || segment.contains(['\\', '%', '\0', ':']);
        if bad {
            return None;
        }
        path.push(segment);
    }
    Some(path)
}

/// Fallback handler with `--dev`: files for GET/HEAD, JSON 404 for the rest.
pub async fn serve(State(state): State<Arc<AppState>>, method: Method, uri: Uri) -> Response {
    let Some(dev) = &state.dev else {
        return ApiError::not_found().into_response();
    };
    let path = uri.path();
    if (method != Method::GET && method != Method::HEAD) || path.starts_with("/api/") {
        return ApiError::not_found().into_response();
    }
    let (root, rel) = match path.strip_prefix("/pkg/") {
        Some(rel) => (&dev.pkg_dir, rel),
        None => (&dev.www_dir, path),
    };
    match read(root, rel).await {
        Some((file, body)) => {
            let mut res = (StatusCode::OK, body).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(mime_for(&file)),
            );
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            if method == Method::HEAD {
                *res.body_mut() = axum::body::Body::empty();
            }
            res
        }
        None => ApiError::not_found().into_response(),
    }
}

async fn read(root: &Path, rel: &str) -> Option<(PathBuf, Vec<u8>)> {
    let mut file = resolve(root, rel)?;
    if tokio::fs::metadata(&file).await.ok()?.is_dir() {
        file.push("index.html");
    }
    // Refuse symlinks that lead out of the root.
    let canon_root = tokio::fs::canonicalize(root).await.ok()?;
    let canon_file = tokio::fs::canonicalize(&file).await.ok()?;
    if !canon_file.starts_with(&canon_root) {
        return None;
    }
    let body = tokio::fs::read(&canon_file).await.ok()?;
    Some((file, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_types() {
        assert_eq!(
            mime_for(Path::new("a/ice_peer_bg.wasm")),
            "application/wasm"
        );
        assert_eq!(
            mime_for(Path::new("ice_peer.js")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            mime_for(Path::new("index.HTML")),
            "text/html; charset=utf-8"
        );
        assert_eq!(mime_for(Path::new("x")), "application/octet-stream");
    }

    #[test]
    fn traversal_is_refused() {
        let root = Path::new("/srv/www");
        assert_eq!(
            resolve(root, "/a/b.js"),
            Some(PathBuf::from("/srv/www/a/b.js"))
        );
        assert_eq!(resolve(root, "/"), Some(PathBuf::from("/srv/www")));
        assert_eq!(resolve(root, "/../etc/passwd"), None);
        assert_eq!(resolve(root, "/a/%2e%2e/x"), None);
        assert_eq!(resolve(root, "/.git/config"), None);
    }
}
