//! `ApiError`: what went wrong, as a client should see it — a kind (mapped to an HTTP status
//! only in `http/response.rs`), a stable snake_case code, a human message and optional extra
//! JSON fields. Internal details are logged, never sent.

use serde_json::{Map, Value};

use crate::db::DbError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    Gone,
    PayloadTooLarge,
    Unavailable,
    Internal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub code: String,
    pub message: String,
    /// Extra top-level fields of the error body (e.g. `active_agents`).
    pub extra: Map<String, Value>,
    /// For 405: the methods the path does accept.
    pub allow: Vec<&'static str>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, code: &str, message: impl Into<String>) -> ApiError {
        ApiError {
            kind,
            code: code.to_string(),
            message: message.into(),
            extra: Map::new(),
            allow: Vec::new(),
        }
    }

    pub fn with_extra(mut self, key: &str, value: Value) -> ApiError {
        self.extra.insert(key.to_string(), value);
        self
    }

    pub fn bad_request(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::BadRequest, code, message)
    }

    pub fn invalid_json(message: impl Into<String>) -> ApiError {
        ApiError::bad_request("invalid_json", message)
    }

    /// A value of the right type but out of range; the message names the field.
    pub fn invalid_field(field: &str, problem: &str) -> ApiError {
        ApiError::bad_request("invalid_field", format!("{field}: {problem}"))
    }

    pub fn invalid_id(what: &str) -> ApiError {
        ApiError::bad_request("invalid_id", format!("{what} is not a valid id"))
    }

    pub fn unauthorized() -> ApiError {
        ApiError::new(
            ErrorKind::Unauthorized,
            "unauthorized",
            "missing, unknown or revoked token",
        )
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Forbidden, "forbidden", message)
    }

    pub fn forbidden_code(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Forbidden, code, message)
    }

    /// `what` names the resource: "runtime" → "runtime not found".
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            ErrorKind::NotFound,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn conflict(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Conflict, code, message)
    }

    pub fn method_not_allowed(allow: Vec<&'static str>) -> ApiError {
        let mut e = ApiError::new(
            ErrorKind::MethodNotAllowed,
            "method_not_allowed",
            "method not allowed",
        );
        e.allow = allow;
        e
    }

    pub fn payload_too_large(limit: usize) -> ApiError {
        ApiError::new(
            ErrorKind::PayloadTooLarge,
            "payload_too_large",
            format!("request body is larger than {limit} bytes"),
        )
    }

    pub fn unavailable(code: &str, message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Unavailable, code, message)
    }

    /// Logs `detail` and returns a fixed message: internals never reach the client.
    pub fn internal(detail: impl std::fmt::Display) -> ApiError {
        log::error!("internal error: {detail}");
        ApiError::new(ErrorKind::Internal, "internal", "internal server error")
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> ApiError {
        match e {
            DbError::NotFound => ApiError::not_found("object"),
            DbError::Unique(_) => ApiError::conflict("conflict", "the object already exists"),
            DbError::ForeignKey(_) => {
                ApiError::conflict("conflict", "the change conflicts with related objects")
            }
            DbError::Busy => ApiError::unavailable("busy", "the database is busy, try again"),
            DbError::ReadOnly => {
                ApiError::unavailable("read_only", "this hangar is a read-only replica")
            }
            other => ApiError::internal(other),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}
