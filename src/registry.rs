//! Runtime rules (API.md §2, §3): what a daemon may register and how registration upserts,
//! heartbeats and deregistration act on the runtimes of the daemon token's user, and the
//! settings (visibility, timezone) members edit. Every function runs in the caller's
//! transaction and takes `now`. Fields a registration leaves out keep a re-registered
//! runtime's value (a new runtime gets the defaults: `local`, `""`, `{}`).

use std::collections::HashSet;

use serde_json::{json, Value};

use crate::access::{self, Role};
use crate::db::{self, runtimes::Runtime, Conn, DbResult, Tx};
use crate::error::ApiError;
use crate::events::{self, Actor};
use crate::ids;

pub const MAX_DAEMON_ID_CHARS: usize = 200;
pub const MAX_DEVICE_INFO_CHARS: usize = 500;
pub const MAX_RUNTIMES_PER_REGISTRATION: usize = 32;
pub const MAX_RUNTIME_NAME_CHARS: usize = 200;
pub const MAX_PROVIDER_CHARS: usize = 50;
pub const MAX_METADATA_BYTES: usize = 16 * 1024;
/// Runtime ids one heartbeat or deregistration may carry.
pub const MAX_IDS_PER_CALL: usize = 256;

/// The daemon token's user and workspace: the only runtimes a daemon may act on.
#[derive(Debug, Clone, Copy)]
pub struct DaemonScope<'a> {
    pub user_id: &'a str,
    pub workspace_id: &'a str,
}

/// One runtime of a registration, as the daemon sent it.
pub struct RuntimeSpec {
    pub name: String,
    pub provider: String,
    pub runtime_mode: Option<String>,
    /// Must be a JSON object when present.
    pub metadata: Option<Value>,
}

/// A registration that passed every check of §3, trimmed.
pub struct Registration {
    daemon_id: String,
    device_info: Option<String>,
    runtimes: Vec<CheckedRuntime>,
}

struct CheckedRuntime {
    name: String,
    provider: String,
    runtime_mode: Option<&'static str>,
    metadata: Option<String>,
}

/// What a heartbeat learns about one runtime id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Beat {
    Online,
    /// Unknown, or not one of this daemon's runtimes (the two are not told apart).
    Gone,
}

impl Beat {
    pub fn as_str(self) -> &'static str {
        match self {
            Beat::Online => "online",
            Beat::Gone => "gone",
        }
    }
}

/// Checks a registration (§3) without touching the database.
pub fn check_registration(
    daemon_id: &str,
    device_info: Option<&str>,
    runtimes: Vec<RuntimeSpec>,
) -> Result<Registration, ApiError> {
    let daemon_id = bounded("daemon_id", daemon_id, 1, MAX_DAEMON_ID_CHARS)?;
    let device_info = device_info
        .map(|d| bounded("device_info", d, 0, MAX_DEVICE_INFO_CHARS))
        .transpose()?;
    if runtimes.is_empty() || runtimes.len() > MAX_RUNTIMES_PER_REGISTRATION {
        return Err(ApiError::invalid_field(
            "runtimes",
            &format!("must hold 1 to {MAX_RUNTIMES_PER_REGISTRATION} runtimes"),
        ));
    }
    let mut providers = HashSet::new();
    let mut checked = Vec::with_capacity(runtimes.len());
    for (i, spec) in runtimes.into_iter().enumerate() {
        let field = |name: &str| format!("runtimes[{i}].{name}");
        let name = bounded(&field("name"), &spec.name, 1, MAX_RUNTIME_NAME_CHARS)?;
        let provider = bounded(&field("provider"), &spec.provider, 1, MAX_PROVIDER_CHARS)?;
        if !providers.insert(provider.clone()) {
            return Err(ApiError::invalid_field(
                &field("provider"),
                "appears twice in one registration",
            ));
        }
        let runtime_mode = match spec.runtime_mode.as_deref() {
            None => None,
            Some("local") => Some("local"),
            Some("cloud") => Some("cloud"),
            Some(_) => {
                return Err(ApiError::invalid_field(
                    &field("runtime_mode"),
                    "must be \"local\" or \"cloud\"",
                ))
            }
        };
        let metadata = match spec.metadata {
            None | Some(Value::Null) => None,
            Some(object @ Value::Object(_)) => {
                let text = object.to_string();
                if text.len() > MAX_METADATA_BYTES {
                    return Err(ApiError::invalid_field(
                        &field("metadata"),
                        &format!("must be at most {MAX_METADATA_BYTES} bytes of JSON"),
                    ));
                }
                Some(text)
            }
            Some(_) => {
                return Err(ApiError::invalid_json(format!(
                    "{}: must be a JSON object",
                    field("metadata")
                )))
            }
        };
        checked.push(CheckedRuntime {
            name,
            provider,
            runtime_mode,
            metadata,
        });
    }
    Ok(Registration {
        daemon_id,
        device_info,
        runtimes: checked,
    })
}

/// Upserts each runtime by (workspace, daemon_id, provider) for the scope's user, sets it
/// online and appends `daemon:register {action:"register"}` per runtime. A key held by
/// another owner → 409 `runtime_owned_by_another_user`; the caller's transaction then rolls
/// back, so nothing of the registration is written.
pub fn register(
    tx: &Tx,
    scope: DaemonScope,
    reg: &Registration,
    actor: &Actor,
    now: i64,
) -> Result<Vec<Runtime>, ApiError> {
    let mut out = Vec::with_capacity(reg.runtimes.len());
    for spec in &reg.runtimes {
        let new_id = ids::new_id();
        let row = db::runtimes::Registered {
            new_id: &new_id,
            workspace_id: scope.workspace_id,
            owner_id: scope.user_id,
            daemon_id: &reg.daemon_id,
            provider: &spec.provider,
            name: &spec.name,
            runtime_mode: spec.runtime_mode,
            device_info: reg.device_info.as_deref(),
            metadata: spec.metadata.as_deref(),
        };
        let runtime = db::runtimes::upsert_registered(tx, &row, now)?.ok_or_else(|| {
            ApiError::conflict(
                "runtime_owned_by_another_user",
                format!(
                    "daemon {:?} with provider {:?} is registered by another user",
                    reg.daemon_id, spec.provider
                ),
            )
        })?;
        let payload = json!({"action": "register", "runtime_id": runtime.id});
        events::append(
            tx,
            scope.workspace_id,
            "daemon:register",
            actor,
            payload,
            now,
        )?;
        out.push(runtime);
    }
    Ok(out)
}

/// A sign of life for one runtime of the scope: `online`, `last_seen_at = now`, and a
/// `runtime:status` event when it comes back from offline. Anything else is `Gone` and
/// writes nothing. Task claiming calls this too (a claim counts as a heartbeat).
pub fn heartbeat_one(
    tx: &Tx,
    scope: DaemonScope,
    runtime_id: &str,
    actor: &Actor,
    now: i64,
) -> Result<Beat, ApiError> {
    if owned_runtime(tx, scope, runtime_id)?.is_none() {
        return Ok(Beat::Gone);
    }
    if db::runtimes::mark_seen(tx, runtime_id, now)?.as_deref() == Some("offline") {
        append_status(tx, scope.workspace_id, runtime_id, "online", actor, now)?;
    }
    Ok(Beat::Online)
}

/// Marks the scope's runtimes offline now, with a `runtime:status` event for each that was
/// online. Any id outside the scope → 404 (and the caller's transaction rolls back).
pub fn deregister(
    tx: &Tx,
    scope: DaemonScope,
    runtime_ids: &[String],
    actor: &Actor,
    now: i64,
) -> Result<(), ApiError> {
    for id in runtime_ids {
        owned_runtime(tx, scope, id)?.ok_or_else(|| ApiError::not_found("runtime"))?;
        if db::runtimes::mark_offline(tx, id)? {
            append_status(tx, scope.workspace_id, id, "offline", actor, now)?;
        }
    }
    Ok(())
}

/// Appends `runtime:status {runtime_id, status}`.
pub fn append_status(
    tx: &Tx,
    workspace_id: &str,
    runtime_id: &str,
    status: &str,
    actor: &Actor,
    now: i64,
) -> DbResult<()> {
    let payload = json!({"runtime_id": runtime_id, "status": status});
    events::append(tx, workspace_id, "runtime:status", actor, payload, now)?;
    Ok(())
}

/// The runtime if it exists and belongs to the scope's user in the scope's workspace.
fn owned_runtime(c: &Conn, scope: DaemonScope, id: &str) -> Result<Option<Runtime>, ApiError> {
    Ok(db::runtimes::get(c, id)?.filter(|rt| {
        rt.workspace_id == scope.workspace_id && rt.owner_id.as_deref() == Some(scope.user_id)
    }))
}

/// The runtime and the caller's role in its workspace; unknown or not a member → 404.
pub fn runtime_for_member(c: &Conn, user_id: &str, id: &str) -> Result<(Runtime, Role), ApiError> {
    let runtime = db::runtimes::get(c, id)?.ok_or_else(|| ApiError::not_found("runtime"))?;
    let role = access::member_role(c, &runtime.workspace_id, user_id, "runtime")?;
    Ok((runtime, role))
}

/// A validated PATCH of a runtime's settings; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct SettingsPatch {
    pub visibility: Option<&'static str>,
    pub timezone: Option<String>,
}

/// `private` or `public`, else 400 `invalid_visibility`.
pub fn parse_visibility(text: &str) -> Result<&'static str, ApiError> {
    match text {
        "private" => Ok("private"),
        "public" => Ok("public"),
        _ => Err(ApiError::bad_request(
            "invalid_visibility",
            format!("visibility: {text:?} is not \"private\" or \"public\""),
        )),
    }
}

/// An IANA zone name in its canonical spelling; `""` means `UTC`; else 400 `invalid_timezone`.
pub fn parse_timezone(text: &str) -> Result<String, ApiError> {
    if text.is_empty() {
        return Ok("UTC".to_string());
    }
    text.parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_string())
        .map_err(|_| {
            ApiError::bad_request(
                "invalid_timezone",
                format!("timezone: {text:?} is not an IANA time zone name"),
            )
        })
}

/// Applies a settings patch as `user_id`: 404 unless a member of the runtime's workspace,
/// 403 unless *can edit runtime*. Unchanged values are a no-op; a real change bumps
/// `updated_at` and appends `daemon:register {action:"update"}`.
pub fn edit_settings(
    tx: &Tx,
    user_id: &str,
    runtime_id: &str,
    patch: &SettingsPatch,
    actor: &Actor,
    now: i64,
) -> Result<Runtime, ApiError> {
    let (runtime, role) = runtime_for_member(tx, user_id, runtime_id)?;
    if !access::can_edit_runtime(role, user_id, runtime.owner_id.as_deref()) {
        return Err(ApiError::forbidden("you can only edit your own runtimes"));
    }
    let visibility = patch.visibility.unwrap_or(&runtime.visibility);
    let timezone = patch.timezone.as_deref().unwrap_or(&runtime.timezone);
    if visibility == runtime.visibility && timezone == runtime.timezone {
        return Ok(runtime);
    }
    db::runtimes::update_settings(tx, runtime_id, visibility, timezone, now)?;
    let payload = json!({"action": "update", "runtime_id": runtime_id});
    events::append(
        tx,
        &runtime.workspace_id,
        "daemon:register",
        actor,
        payload,
        now,
    )?;
    db::runtimes::get(tx, runtime_id)?.ok_or_else(|| ApiError::not_found("runtime"))
}

/// The display name of a provider: `claude` → "Claude Code", `codex` → "Codex", any other
/// the provider name capitalised.
pub fn launch_header(provider: &str) -> String {
    match provider {
        "claude" => "Claude Code".to_string(),
        "codex" => "Codex".to_string(),
        other => {
            let mut chars = other.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        }
    }
}

/// `text` trimmed, with between `min` and `max` characters, else `invalid_field`.
fn bounded(field: &str, text: &str, min: usize, max: usize) -> Result<String, ApiError> {
    let text = text.trim();
    let chars = text.chars().count();
    if chars < min {
        return Err(ApiError::invalid_field(field, "must not be empty"));
    }
    if chars > max {
        return Err(ApiError::invalid_field(
            field,
            &format!("must be at most {max} characters"),
        ));
    }
    Ok(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, provider: &str) -> RuntimeSpec {
        RuntimeSpec {
            name: name.into(),
            provider: provider.into(),
            runtime_mode: None,
            metadata: None,
        }
    }

    fn rejects(result: Result<Registration, ApiError>, code: &str, field: &str) {
        match result {
            Ok(_) => panic!("expected {code} for {field}"),
            Err(e) => {
                assert_eq!(e.code, code, "{e}");
                assert!(e.message.starts_with(field), "{e}");
            }
        }
    }

    #[test]
    fn launch_headers() {
        let cases = [
            ("claude", "Claude Code"),
            ("codex", "Codex"),
            ("gemini", "Gemini"),
            ("élan", "Élan"),
            ("x", "X"),
            ("", ""),
        ];
        for (provider, header) in cases {
            assert_eq!(launch_header(provider), header, "{provider}");
        }
    }

    #[test]
    fn registration_bounds() {
        let long = |n: usize| "x".repeat(n);
        assert!(check_registration(&long(200), Some(&long(500)), vec![spec("a", "b")]).is_ok());
        rejects(
            check_registration("  ", None, vec![spec("a", "b")]),
            "invalid_field",
            "daemon_id",
        );
        rejects(
            check_registration(&long(201), None, vec![spec("a", "b")]),
            "invalid_field",
            "daemon_id",
        );
        rejects(
            check_registration("d", Some(&long(501)), vec![spec("a", "b")]),
            "invalid_field",
            "device_info",
        );
        rejects(
            check_registration("d", None, vec![]),
            "invalid_field",
            "runtimes",
        );
        let many = (0..33).map(|i| spec("a", &format!("p{i}"))).collect();
        rejects(
            check_registration("d", None, many),
            "invalid_field",
            "runtimes",
        );
        rejects(
            check_registration("d", None, vec![spec(&long(201), "b")]),
            "invalid_field",
            "runtimes[0].name",
        );
        rejects(
            check_registration("d", None, vec![spec("a", "b"), spec("a", &long(51))]),
            "invalid_field",
            "runtimes[1].provider",
        );
        rejects(
            check_registration("d", None, vec![spec("a", "b"), spec("c", "b")]),
            "invalid_field",
            "runtimes[1].provider",
        );
    }

    #[test]
    fn registration_modes_and_metadata() {
        let with = |mode: Option<&str>, metadata: Option<Value>| {
            check_registration(
                "d",
                None,
                vec![RuntimeSpec {
                    runtime_mode: mode.map(str::to_string),
                    metadata,
                    ..spec("a", "b")
                }],
            )
        };
        assert!(with(Some("cloud"), Some(json!({"k": [1, 2]}))).is_ok());
        assert!(with(None, Some(Value::Null)).is_ok());
        rejects(
            with(Some("edge"), None),
            "invalid_field",
            "runtimes[0].runtime_mode",
        );
        rejects(
            with(None, Some(json!([1]))),
            "invalid_json",
            "runtimes[0].metadata",
        );
        rejects(
            with(None, Some(json!("x"))),
            "invalid_json",
            "runtimes[0].metadata",
        );
        let big = json!({"k": "x".repeat(MAX_METADATA_BYTES)});
        rejects(
            with(None, Some(big)),
            "invalid_field",
            "runtimes[0].metadata",
        );
    }

    #[test]
    fn settings_values() {
        assert_eq!(parse_visibility("public").unwrap(), "public");
        assert_eq!(
            parse_visibility("Public").unwrap_err().code,
            "invalid_visibility"
        );
        assert_eq!(parse_timezone("").unwrap(), "UTC");
        assert_eq!(parse_timezone("Asia/Kathmandu").unwrap(), "Asia/Kathmandu");
        assert_eq!(
            parse_timezone("Mars/Base").unwrap_err().code,
            "invalid_timezone"
        );
    }
}
