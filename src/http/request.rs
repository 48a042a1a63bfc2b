//! The parsed request a handler sees: method, decoded path segments, query, the headers we
//! use and the body (already capped). Helpers turn path ids and JSON bodies into values or
//! the contract's 400s.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::ids;

/// Request bodies larger than this are refused with 413 before they are read.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The body cap of the one route that takes a provider's bill (API: up to 5 MiB).
pub const MAX_BILL_BYTES: usize = 5 * 1024 * 1024;

#[derive(Debug, Clone, Default)]
pub struct Req {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    /// Header (lower-cased name, value) pairs.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Req {
    /// Splits a raw URL (`/a/b?x=1`) into path, segments and query.
    pub fn from_url(method: &str, url: &str) -> Req {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        Req {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            segments: path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(|s| percent_decode(s, false))
                .collect(),
            query: query
                .split('&')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (k, v) = p.split_once('=').unwrap_or((p, ""));
                    (percent_decode(k, true), percent_decode(v, true))
                })
                .collect(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The first value of a query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The path segment at `index` as a canonical id, or 400 `invalid_id`.
    pub fn path_id(&self, index: usize, what: &str) -> Result<String, ApiError> {
        self.segments
            .get(index)
            .and_then(|s| ids::parse(s))
            .ok_or_else(|| ApiError::invalid_id(what))
    }

    /// The body as a JSON object; an empty body is `{}`. Anything else → `invalid_json`.
    pub fn json_object(&self) -> Result<Map<String, Value>, ApiError> {
        if self.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(Map::new());
        }
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(ApiError::invalid_json("request body must be a JSON object")),
            Err(e) => Err(ApiError::invalid_json(format!(
                "request body is not valid JSON: {e}"
            ))),
        }
    }

    /// The body decoded into `T`. With `allowed`, any other field is 400 `unknown_field`
    /// (user-facing writes); daemon endpoints pass `None` and ignore unknown fields.
    pub fn body_as<T: DeserializeOwned>(&self, allowed: Option<&[&str]>) -> Result<T, ApiError> {
        let map = self.json_object()?;
        if let Some(allowed) = allowed {
            if let Some(field) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
                return Err(ApiError::bad_request(
                    "unknown_field",
                    format!("unknown field: {field}"),
                ));
            }
        }
        decode(Value::Object(map))
    }
}

/// Decodes a JSON value into `T`: a missing field is `invalid_field` naming it, a wrong type
/// is `invalid_json`.
pub fn decode<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_json::from_value(value).map_err(|e| {
        let msg = e.to_string();
        match msg.strip_prefix("missing field `") {
            Some(rest) => {
                let field = rest.split('`').next().unwrap_or(rest);
                ApiError::invalid_field(field, "is required")
            }
            None => ApiError::invalid_json(format!("request body has a wrong type: {msg}")),
        }
    })
}

/// Decodes `%XX` escapes (and `+` as space in query strings); invalid escapes stay as-is.
fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_path_and_query() {
        let r = Req::from_url("get", "/api/x%20y/z?tz=Asia%2FKolkata&days=7&flag&a+b=c+d");
        assert_eq!(r.method, "GET");
        assert_eq!(r.path, "/api/x%20y/z");
        assert_eq!(r.segments, ["api", "x y", "z"]);
        assert_eq!(r.query("tz"), Some("Asia/Kolkata"));
        assert_eq!(r.query("days"), Some("7"));
        assert_eq!(r.query("flag"), Some(""));
        assert_eq!(r.query("a b"), Some("c d"));
        assert_eq!(r.query("none"), None);
    }

    #[test]
    fn bad_escapes_do_not_panic() {
        for url in ["/%", "/%4", "/%zz", "/a%f", "/?%=%", "/%ff%fe"] {
            let _ = Req::from_url("GET", url);
        }
        assert_eq!(Req::from_url("GET", "/%41%").segments, ["A%"]);
    }

    #[test]
    fn json_bodies() {
        let mut r = Req::from_url("POST", "/");
        assert!(r.json_object().unwrap().is_empty());
        r.body = b"[1]".to_vec();
        assert_eq!(r.json_object().unwrap_err().code, "invalid_json");
        r.body = b"{\"name\": 1}".to_vec();
        #[derive(serde::Deserialize, Debug)]
        struct B {
            #[allow(dead_code)]
            name: String,
        }
        assert_eq!(
            r.body_as::<B>(Some(&["name"])).unwrap_err().code,
            "invalid_json"
        );
        r.body = b"{\"other\": 1}".to_vec();
        assert_eq!(
            r.body_as::<B>(Some(&["name"])).unwrap_err().code,
            "unknown_field"
        );
        let missing = r.body_as::<B>(None).unwrap_err();
        assert_eq!(
            (missing.code.as_str(), missing.message.as_str()),
            ("invalid_field", "name: is required")
        );
    }
}
