//! Static files (htmx, the stylesheet, the page script, the icon), embedded in the binary so
//! that `kimochi serve` needs nothing beside it. Their URLs carry a hash of their contents, so
//! browsers may cache them for a year and still never run a stale script after an upgrade.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// htmx is vendored from npm (`htmx.org` 2.0.11, BSD-2-Clause, licence beside it).
const ASSETS: &[Asset] = &[
    Asset {
        name: "htmx.min.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/htmx.min.js"),
    },
    Asset {
        name: "app.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/app.js"),
    },
    Asset {
        name: "board.js",
        content_type: "text/javascript; charset=utf-8",
        bytes: include_bytes!("../../static/board.js"),
    },
    Asset { name: "app.css", content_type: "text/css; charset=utf-8", bytes: include_bytes!("../../static/app.css") },
    Asset { name: "favicon.svg", content_type: "image/svg+xml", bytes: include_bytes!("../../static/favicon.svg") },
];

/// The first 12 hex digits of the SHA-256 of every asset: one version for the whole set.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut hasher = Sha256::new();
        for asset in ASSETS {
            hasher.update(asset.name.as_bytes());
            hasher.update(asset.bytes);
        }
        hasher.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect()
    })
}

/// The URL of an asset, e.g. `/static/3f2a…/app.css`.
pub fn url(name: &str) -> String {
    format!("/static/{}/{name}", version())
}

/// `GET /static/{version}/{name}`.
pub async fn asset_get(Path((requested_version, name)): Path<(String, String)>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    // A page rendered by an older binary may still ask for its version: serve the current file,
    // but do not let it be cached under the old URL.
    let cache = if requested_version == version() { "public, max-age=31536000, immutable" } else { "no-cache" };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, cache),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        asset.bytes,
    )
        .into_response()
}

/// `GET /favicon.ico`: browsers ask for it on pages that name no icon (the login form); an SVG
/// answers, so that the request is not a 404 in the console.
pub async fn favicon_get() -> Response {
    asset_get(Path((version().to_owned(), "favicon.svg".to_owned()))).await
}
