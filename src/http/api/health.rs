//! `GET /healthz`: a database round-trip, no auth.

use serde_json::json;

use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::db;
use crate::error::ApiError;
use crate::http::request::Req;
use crate::http::response::Reply;

pub fn healthz(ctx: &Ctx, _: &Caller, _: &Req) -> Result<Reply, ApiError> {
    match ctx.db.read(db::ping) {
        Ok(()) => Reply::json(json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})),
        Err(e) => {
            log::warn!("health check failed: {e}");
            Reply::json_status(
                503,
                json!({"status": "unavailable", "version": env!("CARGO_PKG_VERSION")}),
            )
        }
    }
}
