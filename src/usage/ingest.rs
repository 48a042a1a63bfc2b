//! Usage ingest (API.md §3): validating a daemon's report entry by entry, then, in the caller's
//! transaction, upserting each (task, provider, model) ledger row with replace semantics and
//! moving its share of the rollups from the old row to the new one (deferred: the deltas are
//! appended to `usage_pending`, which the background fold adds to the rollups and every
//! rollup reader counts meanwhile). Any invalid entry rejects the whole report before anything
//! is written.

use std::collections::HashMap;

use chrono::DateTime;
use serde_json::json;

use crate::budgets;
use crate::budgets::kept::KeptSpend;
use crate::db::usage::rollup::{self, Contribution, Sums};
use crate::db::usage::{self as ledger, LedgerRow, TaskContext};
use crate::db::Tx;
use crate::error::ApiError;
use crate::events::{self, Actor};
use crate::usage::money::{self, MoneyErrorKind, Ticks};
use crate::usage::pricing::{PriceTable, Tokens};

/// Entries a report may hold.
pub const MAX_ENTRIES: usize = 100;
/// The largest token count of one kind in one entry.
pub const MAX_COUNT: i64 = 1_000_000_000_000;
/// How far ahead of the server's clock an `occurred_at` may be.
pub const MAX_FUTURE_MS: i64 = 5 * 60_000;
/// How far back an `occurred_at` may be.
pub const MAX_AGE_MS: i64 = 400 * 86_400_000;
/// Longest accepted names.
const MAX_PROVIDER_CHARS: usize = 50;
const MAX_MODEL_CHARS: usize = 200;

/// One entry as sent: strings as decoded, numbers as their raw JSON text (so nothing is read
/// through a float), each `None` when absent or null.
#[derive(Debug, Clone, Copy, Default)]
pub struct EntryInput<'a> {
    pub provider: Option<&'a str>,
    pub model: Option<&'a str>,
    pub input_tokens: Option<&'a str>,
    pub output_tokens: Option<&'a str>,
    pub cache_read_tokens: Option<&'a str>,
    pub cache_write_tokens: Option<&'a str>,
    pub cost_usd: Option<&'a str>,
    pub occurred_at: Option<&'a str>,
}

/// A valid entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Lower-cased; empty means "the runtime's provider".
    pub provider: String,
    /// Trimmed, never empty.
    pub model: String,
    pub tokens: Tokens,
    pub cost: Option<Ticks>,
    pub occurred_at: Option<i64>,
}

/// Validates a whole report at `now`: 1..=100 entries, each valid, no (provider, model) twice.
/// The error names the first offending field, e.g. `usage[2].input_tokens`.
pub fn validate(inputs: &[EntryInput], now: i64) -> Result<Vec<Entry>, ApiError> {
    if inputs.is_empty() || inputs.len() > MAX_ENTRIES {
        return Err(ApiError::invalid_field(
            "usage",
            &format!("must hold 1 to {MAX_ENTRIES} entries"),
        ));
    }
    let entries = inputs
        .iter()
        .enumerate()
        .map(|(at, input)| validate_entry(at, input, now))
        .collect::<Result<Vec<_>, _>>()?;
    reject_repeats(&entries)?;
    Ok(entries)
}

/// A validated report with everything its transaction needs, owned: the transaction may run
/// in a batch another thread leads (`Ctx::write_grouped`).
pub struct Report {
    /// The daemon token's user and workspace.
    pub user_id: String,
    pub workspace_id: String,
    pub task_id: String,
    pub entries: Vec<Entry>,
    pub actor: Actor,
    pub now: i64,
}

impl Report {
    /// The endpoint's whole transaction: `record`, then every budget watching the task (with
    /// the spend `kept` holds from earlier reports).
    pub fn apply(
        self,
        tx: &Tx,
        pricing: &PriceTable,
        kept: &KeptSpend,
    ) -> Result<Vec<LedgerRow>, ApiError> {
        let rows = record(
            tx,
            &self.user_id,
            &self.workspace_id,
            &self.task_id,
            self.entries,
            &self.actor,
            self.now,
        )?;
        budgets::evaluate::evaluate_after_usage(tx, pricing, kept, &rows, self.now)?;
        Ok(rows)
    }
}

/// Records a validated report for `task_id` on behalf of the daemon of (`user_id`,
/// `workspace_id`), appends `usage:reported`, and returns the task's ledger rows. A task that
/// does not exist, is not on a runtime, or whose runtime is not this daemon's → 404.
pub fn record(
    tx: &Tx,
    user_id: &str,
    workspace_id: &str,
    task_id: &str,
    entries: Vec<Entry>,
    actor: &Actor,
    now: i64,
) -> Result<Vec<LedgerRow>, ApiError> {
    let task = ledger::task_context(tx, task_id)?
        .filter(|t| t.workspace_id == workspace_id)
        .ok_or_else(|| ApiError::not_found("task"))?;
    let (runtime_id, provider) = daemon_runtime(&task, user_id, workspace_id)?;
    let entries: Vec<Entry> = entries
        .into_iter()
        .map(|e| {
            if e.provider.is_empty() {
                Entry {
                    provider: provider.clone(),
                    ..e
                }
            } else {
                e
            }
        })
        .collect();
    reject_repeats(&entries)?;
    let mut rows = ledger::rows_for_task(tx, task_id)?;
    let reported = replace_rows(tx, &task, &runtime_id, &entries, &rows, now)?;
    events::append(
        tx,
        workspace_id,
        "usage:reported",
        actor,
        json!({"task_id": task.task_id, "runtime_id": runtime_id, "agent_id": task.agent_id}),
        now,
    )?;
    // The task's whole ledger after the report, as `rows_for_task` orders it.
    rows.retain(|r| {
        !reported
            .iter()
            .any(|n| n.provider == r.provider && n.model == r.model)
    });
    rows.extend(reported);
    rows.sort_by(|a, b| (&a.provider, &a.model).cmp(&(&b.provider, &b.model)));
    Ok(rows)
}

/// The task's runtime id and lower-cased provider, if the runtime is this daemon's.
fn daemon_runtime(
    task: &TaskContext,
    user_id: &str,
    workspace_id: &str,
) -> Result<(String, String), ApiError> {
    match (
        &task.runtime_id,
        &task.runtime_workspace_id,
        &task.runtime_owner_id,
        &task.runtime_provider,
    ) {
        (Some(runtime), Some(ws), Some(owner), Some(provider))
            if ws == workspace_id && owner == user_id =>
        {
            Ok((runtime.clone(), provider.trim().to_lowercase()))
        }
        _ => Err(ApiError::not_found("task")),
    }
}

/// Upserts the ledger rows of `entries` (replacing `existing` ones) and defers the moves of
/// their rollup shares; returns the rows written.
fn replace_rows(
    tx: &Tx,
    task: &TaskContext,
    runtime_id: &str,
    entries: &[Entry],
    existing: &[LedgerRow],
    now: i64,
) -> Result<Vec<LedgerRow>, ApiError> {
    let mut written = Vec::with_capacity(entries.len());
    let mut olds = Vec::with_capacity(entries.len());
    let mut model_ids = Vec::with_capacity(entries.len());
    for entry in entries {
        model_ids.push(ledger::model_id(tx, &entry.provider, &entry.model)?);
        let old = existing
            .iter()
            .find(|r| r.provider == entry.provider && r.model == entry.model)
            .cloned();
        let cost_ticks = entry
            .cost
            .map(|t| i64::try_from(t).map_err(ApiError::internal))
            .transpose()?;
        written.push(LedgerRow {
            task_id: task.task_id.clone(),
            provider: entry.provider.clone(),
            model: entry.model.clone(),
            workspace_id: task.workspace_id.clone(),
            runtime_id: runtime_id.to_string(),
            agent_id: task.agent_id.clone(),
            input_tokens: entry.tokens.input,
            output_tokens: entry.tokens.output,
            cache_read_tokens: entry.tokens.cache_read,
            cache_write_tokens: entry.tokens.cache_write,
            cost_ticks,
            // A re-report keeps the row's instant unless it brings a new one.
            occurred_at: entry
                .occurred_at
                .or(old.as_ref().map(|o| o.occurred_at))
                .unwrap_or(now),
            created_at: old.as_ref().map_or(now, |o| o.created_at),
            updated_at: now,
        });
        olds.push(old);
    }
    ledger::upsert(tx, &written)?;
    let changes: Vec<(Option<Contribution>, Contribution)> = written
        .iter()
        .zip(&olds)
        .zip(&model_ids)
        .map(|((new, old), &model_id)| {
            (
                old.as_ref().map(|o| share(o, model_id)),
                share(new, model_id),
            )
        })
        .collect();
    rollup::defer(tx, &changes)?;
    Ok(written)
}

/// A ledger row's share of the rollups.
fn share(row: &LedgerRow, model_id: i64) -> Contribution<'_> {
    Contribution {
        workspace_id: &row.workspace_id,
        runtime_id: &row.runtime_id,
        agent_id: &row.agent_id,
        model_id,
        instant: row.occurred_at,
        sums: Sums::of_row(row),
    }
}

fn validate_entry(at: usize, input: &EntryInput, now: i64) -> Result<Entry, ApiError> {
    let field = |name: &str| format!("usage[{at}].{name}");
    let provider = input.provider.unwrap_or("").trim().to_lowercase();
    if provider.chars().count() > MAX_PROVIDER_CHARS {
        return Err(ApiError::invalid_field(
            &field("provider"),
            &format!("must be at most {MAX_PROVIDER_CHARS} characters"),
        ));
    }
    let model = input.model.unwrap_or("").trim().to_string();
    if model.is_empty() {
        return Err(ApiError::invalid_field(
            &field("model"),
            "must not be empty",
        ));
    }
    if model.chars().count() > MAX_MODEL_CHARS {
        return Err(ApiError::invalid_field(
            &field("model"),
            &format!("must be at most {MAX_MODEL_CHARS} characters"),
        ));
    }
    let count = |name: &str, raw: Option<&str>, required: bool| -> Result<i64, ApiError> {
        match raw {
            None if required => Err(ApiError::invalid_field(&field(name), "is required")),
            None => Ok(0),
            Some(text) => number(&field(name), text, |t| money::parse_count(t, MAX_COUNT)),
        }
    };
    let tokens = Tokens {
        input: count("input_tokens", input.input_tokens, true)?,
        output: count("output_tokens", input.output_tokens, true)?,
        cache_read: count("cache_read_tokens", input.cache_read_tokens, false)?,
        cache_write: count("cache_write_tokens", input.cache_write_tokens, false)?,
    };
    let cost = input
        .cost_usd
        .map(|text| number(&field("cost_usd"), text, money::parse_usd))
        .transpose()?;
    let occurred_at = input
        .occurred_at
        .map(|text| instant(&field("occurred_at"), text, now))
        .transpose()?;
    Ok(Entry {
        provider,
        model,
        tokens,
        cost,
        occurred_at,
    })
}

/// Reads a raw JSON value with `parse`: a value that is not a number at all is the wrong JSON
/// type (`invalid_json`); a number out of range is `invalid_field` naming `field`.
fn number<T>(
    field: &str,
    text: &str,
    parse: impl Fn(&str) -> Result<T, money::MoneyError>,
) -> Result<T, ApiError> {
    parse(text).map_err(|e| match e.kind() {
        MoneyErrorKind::NotANumber => ApiError::invalid_json(format!("{field} must be a number")),
        _ => ApiError::invalid_field(field, e.message()),
    })
}

fn instant(field: &str, text: &str, now: i64) -> Result<i64, ApiError> {
    let at = DateTime::parse_from_rfc3339(text.trim())
        .map_err(|_| ApiError::invalid_field(field, "must be an RFC 3339 timestamp"))?
        .timestamp_millis();
    if at > now.saturating_add(MAX_FUTURE_MS) {
        return Err(ApiError::invalid_field(
            field,
            "must not be more than 5 minutes in the future",
        ));
    }
    if at < now.saturating_sub(MAX_AGE_MS) {
        return Err(ApiError::invalid_field(
            field,
            "must not be older than 400 days",
        ));
    }
    Ok(at)
}

/// Two entries with the same (provider, model) make the report ambiguous.
fn reject_repeats(entries: &[Entry]) -> Result<(), ApiError> {
    let mut seen: HashMap<(&str, &str), usize> = HashMap::with_capacity(entries.len());
    for (at, e) in entries.iter().enumerate() {
        if let Some(first) = seen.insert((&e.provider, &e.model), at) {
            return Err(ApiError::invalid_field(
                &format!("usage[{at}].model"),
                &format!("repeats the provider and model of usage[{first}]"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_790_000_000_000;

    fn entry<'a>(model: &'a str) -> EntryInput<'a> {
        EntryInput {
            model: Some(model),
            input_tokens: Some("10"),
            output_tokens: Some("5"),
            ..EntryInput::default()
        }
    }

    fn rejects(inputs: &[EntryInput], code: &str, field: &str) {
        let e = validate(inputs, NOW).expect_err("must be rejected");
        assert_eq!(e.code, code, "{e:?}");
        assert!(e.message.contains(field), "{field} not named in {e:?}");
    }

    #[test]
    fn accepts_a_plain_entry_with_defaults() {
        let got = validate(
            &[EntryInput {
                provider: Some(" Claude "),
                model: Some(" claude-opus-5 "),
                cache_read_tokens: Some("7"),
                cost_usd: Some("0.0000000001"),
                occurred_at: Some("2026-09-21T12:00:00.5+02:00"),
                ..entry("x")
            }],
            NOW,
        )
        .unwrap();
        assert_eq!(
            got,
            vec![Entry {
                provider: "claude".into(),
                model: "claude-opus-5".into(),
                tokens: Tokens {
                    input: 10,
                    output: 5,
                    cache_read: 7,
                    cache_write: 0
                },
                cost: Some(1),
                occurred_at: Some(1_789_984_800_500),
            }]
        );
    }

    #[test]
    fn refuses_bad_entries_naming_the_field() {
        let huge = "1000000000001";
        let cases: Vec<(EntryInput, &str, &str)> = vec![
            (entry(""), "invalid_field", "usage[0].model"),
            (entry("   "), "invalid_field", "usage[0].model"),
            (
                EntryInput {
                    input_tokens: Some("-1"),
                    ..entry("m")
                },
                "invalid_field",
                "usage[0].input_tokens",
            ),
            (
                EntryInput {
                    output_tokens: Some("1.5"),
                    ..entry("m")
                },
                "invalid_field",
                "usage[0].output_tokens",
            ),
            (
                EntryInput {
                    cache_read_tokens: Some(huge),
                    ..entry("m")
                },
                "invalid_field",
                "usage[0].cache_read_tokens",
            ),
            (
                EntryInput {
                    cache_write_tokens: Some("\"3\""),
                    ..entry("m")
                },
                "invalid_json",
                "usage[0].cache_write_tokens",
            ),
            (
                EntryInput {
                    input_tokens: None,
                    ..entry("m")
                },
                "invalid_field",
                "usage[0].input_tokens",
            ),
            (
                EntryInput {
                    cost_usd: Some("1000000.01"),
                    ..entry("m")
                },
                "invalid_field",
                "usage[0].cost_usd",
            ),
            (
                EntryInput {
                    cost_usd: Some("0.00000000001"),
                    ..entry("m")
                },
                "invalid_field",
                "usage[0].cost_usd",
            ),
            (
                EntryInput {
                    cost_usd: Some("-0.5"),
                    ..entry("m")
                },
                "invalid_field",
                "usage[0].cost_usd",
            ),
            (
                EntryInput {
                    occurred_at: Some("yesterday"),
                    ..entry("m")
                },
                "invalid_field",
                "usage[0].occurred_at",
            ),
        ];
        for (input, code, field) in cases {
            rejects(&[input], code, field);
        }
    }

    #[test]
    fn bounds_the_instant_and_the_entry_count() {
        let at = |ms: i64| crate::clock::rfc3339(ms);
        let edge_future = at(NOW + MAX_FUTURE_MS);
        let edge_past = at(NOW - MAX_AGE_MS);
        assert!(validate(
            &[EntryInput {
                occurred_at: Some(&edge_future),
                ..entry("a")
            }],
            NOW
        )
        .is_ok());
        assert!(validate(
            &[EntryInput {
                occurred_at: Some(&edge_past),
                ..entry("a")
            }],
            NOW
        )
        .is_ok());
        let future = at(NOW + MAX_FUTURE_MS + 1);
        let past = at(NOW - MAX_AGE_MS - 1);
        for bad in [&future, &past] {
            rejects(
                &[EntryInput {
                    occurred_at: Some(bad),
                    ..entry("a")
                }],
                "invalid_field",
                "usage[0].occurred_at",
            );
        }
        rejects(&[], "invalid_field", "usage");
        let names: Vec<String> = (0..=MAX_ENTRIES).map(|i| format!("m{i}")).collect();
        let many: Vec<EntryInput> = names.iter().map(|n| entry(n)).collect();
        assert!(validate(&many[..MAX_ENTRIES], NOW).is_ok());
        rejects(&many, "invalid_field", "usage");
    }

    #[test]
    fn refuses_a_repeated_provider_and_model() {
        let a = EntryInput {
            provider: Some("Claude"),
            ..entry("m")
        };
        let b = EntryInput {
            provider: Some("claude"),
            ..entry(" m ")
        };
        rejects(&[entry("x"), a, b], "invalid_field", "usage[2].model");
        let other_provider = EntryInput {
            provider: Some("codex"),
            ..entry("m")
        };
        assert!(validate(&[a, other_provider], NOW).is_ok());
    }
}
