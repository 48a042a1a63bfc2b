//! What handlers return (`Reply`) and the single mapping from `ApiError` to status + body.

use serde::Serialize;
use serde_json::{json, Value};

use crate::error::{ApiError, ErrorKind};
use crate::http::sse::StreamSpec;

#[derive(Debug)]
pub enum Body {
    Json(Value),
    Text {
        content_type: &'static str,
        text: String,
    },
    Bytes {
        content_type: String,
        bytes: Vec<u8>,
    },
    Empty,
    /// Not a body: the HTTP edge hands the connection to `http::sse`.
    EventStream(StreamSpec),
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Body,
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// 200 with `value` serialised as JSON.
    pub fn json(value: impl Serialize) -> Result<Reply, ApiError> {
        Reply::json_status(200, value)
    }

    /// 201 with the created object.
    pub fn created(value: impl Serialize) -> Result<Reply, ApiError> {
        Reply::json_status(201, value)
    }

    pub fn json_status(status: u16, value: impl Serialize) -> Result<Reply, ApiError> {
        let value = serde_json::to_value(value).map_err(ApiError::internal)?;
        Ok(Reply {
            status,
            body: Body::Json(value),
            headers: Vec::new(),
        })
    }

    /// 204 without a body.
    pub fn no_content() -> Result<Reply, ApiError> {
        Ok(Reply {
            status: 204,
            body: Body::Empty,
            headers: Vec::new(),
        })
    }

    pub fn text(status: u16, content_type: &'static str, text: String) -> Reply {
        Reply {
            status,
            body: Body::Text { content_type, text },
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Reply {
        self.headers.push((name.to_string(), value.into()));
        self
    }
}

/// The one place an error kind becomes an HTTP status.
pub fn status_of(kind: ErrorKind) -> u16 {
    match kind {
        ErrorKind::BadRequest => 400,
        ErrorKind::Unauthorized => 401,
        ErrorKind::Forbidden => 403,
        ErrorKind::NotFound => 404,
        ErrorKind::MethodNotAllowed => 405,
        ErrorKind::Conflict => 409,
        ErrorKind::Gone => 410,
        ErrorKind::PayloadTooLarge => 413,
        ErrorKind::Unavailable => 503,
        ErrorKind::Internal => 500,
    }
}

/// `{"error", "code", …extra}` with the right status (and `Allow` for 405).
pub fn error_reply(err: &ApiError) -> Reply {
    let mut body = json!({"error": err.message, "code": err.code});
    if let Value::Object(map) = &mut body {
        for (k, v) in &err.extra {
            map.insert(k.clone(), v.clone());
        }
    }
    let mut reply = Reply {
        status: status_of(err.kind),
        body: Body::Json(body),
        headers: Vec::new(),
    };
    if !err.allow.is_empty() {
        reply = reply.with_header("Allow", err.allow.join(", "));
    }
    if err.kind == ErrorKind::Unauthorized {
        reply = reply.with_header("WWW-Authenticate", "Bearer");
    }
    reply
}
