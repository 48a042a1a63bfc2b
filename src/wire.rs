//! JSON shapes that appear both in API responses and inside event payloads, defined once so
//! the two never drift. Each is built by hand from a db row: renaming a row field must not
//! silently change the contract.

use serde_json::{json, Value};

use crate::clock::rfc3339;
use crate::db::runtimes::Runtime;
use crate::registry;

// ---- Runtime (API.md §2) -------------------------------------------------------------

/// `Runtime` as API.md §2 shows it; `metadata` is an object (`{}` when none).
pub fn runtime_json(rt: &Runtime) -> Value {
    let metadata = serde_json::from_str::<Value>(&rt.metadata)
        .ok()
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    json!({
        "id": rt.id,
        "workspace_id": rt.workspace_id,
        "daemon_id": rt.daemon_id,
        "name": rt.name,
        "runtime_mode": rt.runtime_mode,
        "provider": rt.provider,
        "launch_header": registry::launch_header(&rt.provider),
        "status": rt.status,
        "device_info": rt.device_info,
        "metadata": metadata,
        "owner_id": rt.owner_id,
        "visibility": rt.visibility,
        "timezone": rt.timezone,
        "last_seen_at": rt.last_seen_at.map(rfc3339),
        "created_at": rfc3339(rt.created_at),
        "updated_at": rfc3339(rt.updated_at),
    })
}
