//! The dashboard: the files of `assets/`, embedded in the binary at build
//! time and served at `/` and `/assets/*`. Nothing is fetched at run time.
//!
//! Light on a poor link: the page loads its files under
//! `/assets/<build>/…`, where `<build>` is a hash of every embedded file, so
//! they are cached for a year and never asked for again until the build
//! changes; every file carries an `ETag`, and a request that names it in
//! `If-None-Match` gets `304 Not Modified`. Compression (gzip or brotli,
//! whichever the browser accepts) is a layer of the router
//! ([`compression`]). [`security_headers`] sets the Content-Security-Policy
//! and the other headers of every response.

use std::sync::OnceLock;

use axum::extract::{Path, Request};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};

#[derive(rust_embed::Embed)]
#[folder = "assets/"]
struct Assets;

/// How long a file under the build's path may be cached: a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The dashboard's policy: scripts and every other resource from this
/// server only (no inline script, no eval), not framed by any page.
/// Inline `style` attributes are allowed (bar widths are set that way).
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A short hash of every embedded file's name and content: the path part
/// that changes whenever any file changes.
pub fn build_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let mut names: Vec<String> = Assets::iter().map(|n| n.to_string()).collect();
        names.sort();
        let mut hasher = Sha256::new();
        for name in names {
            if let Some(file) = Assets::get(&name) {
                hasher.update(name.as_bytes());
                hasher.update([0]);
                hasher.update(file.metadata.sha256_hash());
            }
        }
        hex::encode(&hasher.finalize()[..6])
    })
}

/// index.html with its asset paths under the build's path.
fn index_html() -> &'static [u8] {
    static HTML: OnceLock<Vec<u8>> = OnceLock::new();
    HTML.get_or_init(|| {
        let raw = Assets::get("index.html")
            .map(|f| String::from_utf8_lossy(&f.data).into_owned())
            .unwrap_or_default();
        raw.replace("\"assets/", &format!("\"assets/{}/", build_id()))
            .into_bytes()
    })
}

fn etag_of(bytes: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(bytes)[..8]))
}

fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

fn respond(
    headers: &HeaderMap,
    path: &str,
    body: Vec<u8>,
    etag: String,
    cache: &'static str,
) -> Response {
    let mut response = if not_modified(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut r = body.into_response();
        let mime = mime_guess::from_path(path).first_or_octet_stream();
        let mime = match mime.as_ref() {
            // Text types are UTF-8 (the Arabic and Russian strings).
            m if m.starts_with("text/") || m == "application/javascript" => {
                format!("{m}; charset=utf-8")
            }
            m => m.to_string(),
        };
        if let Ok(value) = HeaderValue::from_str(&mime) {
            r.headers_mut().insert(CONTENT_TYPE, value);
        }
        r
    };
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(ETAG, value);
    }
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

fn file(headers: &HeaderMap, path: &str, cache: &'static str) -> Response {
    match Assets::get(path) {
        Some(content) => {
            let etag = format!("\"{}\"", hex::encode(&content.metadata.sha256_hash()[..8]));
            respond(headers, path, content.data.into_owned(), etag, cache)
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

async fn index(headers: HeaderMap) -> Response {
    let html = index_html();
    respond(
        &headers,
        "index.html",
        html.to_vec(),
        etag_of(html),
        "no-cache",
    )
}

async fn asset(headers: HeaderMap, Path(path): Path<String>) -> Response {
    // Under the build's path: cached for a year. Anything else (an older
    // page, a bookmark): revalidated with the ETag every time.
    let build = build_id();
    match path.strip_prefix(build).and_then(|p| p.strip_prefix('/')) {
        Some(rest) => file(&headers, rest, IMMUTABLE),
        None => file(&headers, &path, "no-cache"),
    }
}

/// `/` and `/assets/*path`, with any state type.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/assets/{*path}", get(asset))
}

/// The embedded file names (for tests and diagnostics).
pub fn names() -> Vec<String> {
    Assets::iter().map(|n| n.to_string()).collect()
}

/// gzip or brotli for every answer worth compressing (the browser chooses
/// with `Accept-Encoding`).
pub fn compression() -> tower_http::compression::CompressionLayer {
    tower_http::compression::CompressionLayer::new()
        .gzip(true)
        .br(true)
        .quality(tower_http::CompressionLevel::Default)
}

/// Headers of every response: `nosniff`, no referrer, no framing; the
/// Content-Security-Policy on the dashboard's pages; `Cache-Control:
/// no-store` on API answers (they may hold signed-in data) unless the route
/// set its own.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let docs = request.uri().path().starts_with("/api/docs");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !docs {
        // The API documentation page (Swagger UI) runs inline script of its own.
        h.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    }
    if api && !docs && !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
