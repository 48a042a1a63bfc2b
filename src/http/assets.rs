//! The embedded web UI: only files under `assets/` are served, with their content type,
//! cache headers and security headers; any other non-API path gets `index.html` so client
//! routes work on reload.

use rust_embed::RustEmbed;

use crate::http::response::{Body, Reply};

#[derive(RustEmbed)]
#[folder = "assets/"]
pub struct Assets;

/// A strict policy: no inline script, no third-party origins, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The UI response for a non-API GET path.
pub fn serve(path: &str) -> Reply {
    let name = path.trim_start_matches('/');
    let (name, file) = match Assets::get(name).filter(|_| !name.is_empty()) {
        Some(file) => (name, file),
        None => match Assets::get("index.html") {
            Some(file) => ("index.html", file),
            None => return Reply::text(404, "text/plain; charset=utf-8", "UI not built\n".into()),
        },
    };
    let content_type = file.metadata.mimetype().to_string();
    let cache = if name == "index.html" {
        "no-cache"
    } else {
        "public, max-age=300"
    };
    Reply {
        status: 200,
        body: Body::Bytes {
            content_type,
            bytes: file.data.into_owned(),
        },
        headers: Vec::new(),
    }
    .with_header("Cache-Control", cache)
    .with_header("Content-Security-Policy", CSP)
    .with_header("X-Content-Type-Options", "nosniff")
    .with_header("Referrer-Policy", "no-referrer")
    .with_header("X-Frame-Options", "DENY")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_embedded_and_unknown_paths_fall_back_to_it() {
        assert!(Assets::get("index.html").is_some());
        let r = serve("/runtimes/123");
        assert_eq!(r.status, 200);
        assert!(
            matches!(r.body, Body::Bytes { ref content_type, .. } if content_type.starts_with("text/html"))
        );
    }

    #[test]
    fn traversal_never_leaves_the_embedded_set() {
        for p in [
            "/../Cargo.toml",
            "/..%2fCargo.toml",
            "/assets/../../etc/passwd",
        ] {
            let r = serve(p);
            match r.body {
                Body::Bytes { bytes, .. } => {
                    assert_eq!(bytes, Assets::get("index.html").unwrap().data.into_owned())
                }
                other => panic!("unexpected body {other:?}"),
            }
        }
    }
}
