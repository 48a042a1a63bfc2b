-- hangar schema, as migration steps keyed by PRAGMA user_version.
-- Append-only: a shipped step is never edited. Each step runs in one transaction.
-- Instants are INTEGER Unix milliseconds (UTC); ids are lowercase UUID text.

-- step 1: identity — workspaces, users, members, API tokens
CREATE TABLE workspace (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name        TEXT NOT NULL,
    timezone    TEXT,
    created_at  INTEGER NOT NULL
);
CREATE TABLE member (
    workspace_id TEXT NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role         TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    joined_at    INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX member_by_user ON member(user_id);
CREATE TABLE api_token (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL CHECK (kind IN ('user', 'daemon')),
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    workspace_id TEXT REFERENCES workspace(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER,
    CHECK ((kind = 'daemon') = (workspace_id IS NOT NULL))
);
CREATE INDEX api_token_by_user ON api_token(user_id, kind);

-- step 2: runtimes and the event outbox
CREATE TABLE runtime (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    daemon_id    TEXT,
    name         TEXT NOT NULL,
    provider     TEXT NOT NULL,
    runtime_mode TEXT NOT NULL DEFAULT 'local' CHECK (runtime_mode IN ('local', 'cloud')),
    device_info  TEXT NOT NULL DEFAULT '',
    metadata     TEXT NOT NULL DEFAULT '{}',
    owner_id     TEXT REFERENCES users(id) ON DELETE SET NULL,
    visibility   TEXT NOT NULL DEFAULT 'private' CHECK (visibility IN ('private', 'public')),
    timezone     TEXT NOT NULL DEFAULT 'UTC',
    status       TEXT NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'offline')),
    last_seen_at INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, daemon_id, provider)
);
CREATE INDEX runtime_by_status ON runtime(status, last_seen_at);
CREATE TABLE event (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    workspace_id TEXT NOT NULL,
    type         TEXT NOT NULL,
    actor_type   TEXT NOT NULL CHECK (actor_type IN ('member', 'daemon', 'system')),
    actor_id     TEXT,
    payload      TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX event_by_workspace ON event(workspace_id, id);
CREATE INDEX event_by_time ON event(created_at);

-- step 3: the work that runs on runtimes — agents, tasks, autopilots, squads
CREATE TABLE agent (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    runtime_id   TEXT NOT NULL REFERENCES runtime(id) ON DELETE RESTRICT,
    owner_id     TEXT REFERENCES users(id) ON DELETE SET NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    archived_at  INTEGER,
    archived_by  TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX agent_active_name ON agent(workspace_id, name) WHERE archived_at IS NULL;
CREATE INDEX agent_by_runtime ON agent(runtime_id, archived_at);
CREATE TABLE task (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    agent_id      TEXT NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
    runtime_id    TEXT REFERENCES runtime(id) ON DELETE SET NULL,
    autopilot_id  TEXT,
    prompt        TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN
                    ('queued', 'dispatched', 'running', 'completed', 'failed', 'cancelled')),
    error         TEXT,
    output        TEXT,
    created_at    INTEGER NOT NULL,
    dispatched_at INTEGER,
    started_at    INTEGER,
    completed_at  INTEGER
);
CREATE INDEX task_for_claim ON task(runtime_id, status, created_at);
CREATE INDEX task_by_agent ON task(agent_id, status);
CREATE INDEX task_by_workspace ON task(workspace_id, created_at);
CREATE INDEX task_by_autopilot ON task(autopilot_id, status);
-- No foreign key to agent: an autopilot outlives a deleted agent and is paused instead.
CREATE TABLE autopilot (
    id                TEXT PRIMARY KEY,
    workspace_id      TEXT NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    assignee_agent_id TEXT NOT NULL,
    name              TEXT NOT NULL,
    prompt            TEXT NOT NULL,
    interval_minutes  INTEGER NOT NULL CHECK (interval_minutes BETWEEN 1 AND 10080),
    status            TEXT NOT NULL CHECK (status IN ('active', 'paused')),
    next_run_at       INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX autopilot_due ON autopilot(status, next_run_at);
CREATE INDEX autopilot_by_assignee ON autopilot(assignee_agent_id);
CREATE TABLE squad (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    leader_agent_id TEXT NOT NULL REFERENCES agent(id) ON DELETE RESTRICT,
    archived_at     INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX squad_by_leader ON squad(leader_agent_id);
CREATE TABLE squad_member (
    squad_id TEXT NOT NULL REFERENCES squad(id) ON DELETE CASCADE,
    agent_id TEXT NOT NULL REFERENCES agent(id) ON DELETE CASCADE,
    PRIMARY KEY (squad_id, agent_id)
);
CREATE INDEX squad_member_by_agent ON squad_member(agent_id);

-- step 4: how far each workspace's events have been pruned (answers 410 cursor_expired)
CREATE TABLE event_pruned (
    workspace_id TEXT PRIMARY KEY,
    through_id   INTEGER NOT NULL
);

-- step 5: usage ledger and rollups
-- (provider, model) names, interned: the rollups key on the small integer id.
CREATE TABLE usage_model (
    id       INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    model    TEXT NOT NULL,
    UNIQUE (provider, model)
);
-- The ledger: one row per (task, provider, model); a re-report replaces the row's counts. It
-- has no foreign keys, so history outlives deleted tasks, agents and runtimes.
CREATE TABLE task_usage (
    task_id            TEXT NOT NULL,
    provider           TEXT NOT NULL,
    model              TEXT NOT NULL,
    workspace_id       TEXT NOT NULL,
    runtime_id         TEXT NOT NULL,
    agent_id           TEXT NOT NULL,
    input_tokens       INTEGER NOT NULL,
    output_tokens      INTEGER NOT NULL,
    cache_read_tokens  INTEGER NOT NULL,
    cache_write_tokens INTEGER NOT NULL,
    cost_ticks         INTEGER,           -- provider-reported cost in 10^-10 USD; NULL = none
    occurred_at        INTEGER NOT NULL,  -- the instant the row is bucketed at
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    PRIMARY KEY (task_id, provider, model)
) WITHOUT ROWID;
-- Rollups of the ledger, kept by delta in the ledger write's transaction. `span` is the
-- bucket length in minutes (15, 60 or 1440) and `bucket` its start (Unix ms, a multiple of the
-- span): every zone offset is a multiple of 15 minutes, so a local day or hour is an exact
-- union of aligned buckets, and the coarse spans keep long windows cheap to read. Token sums
-- are split by whether the ledger row carries a reported cost; the reported cost is held as
-- cents (10^8 ticks) plus the remainder so that no sum can overflow 64 bits.
CREATE TABLE usage_rollup (
    runtime_id           TEXT NOT NULL,
    span                 INTEGER NOT NULL,
    bucket               INTEGER NOT NULL,
    model_id             INTEGER NOT NULL,
    workspace_id         TEXT NOT NULL,
    ledger_rows          INTEGER NOT NULL,
    priced_input         INTEGER NOT NULL,
    priced_output        INTEGER NOT NULL,
    priced_cache_read    INTEGER NOT NULL,
    priced_cache_write   INTEGER NOT NULL,
    reported_input       INTEGER NOT NULL,
    reported_output      INTEGER NOT NULL,
    reported_cache_read  INTEGER NOT NULL,
    reported_cache_write INTEGER NOT NULL,
    reported_cents       INTEGER NOT NULL,
    reported_subcent     INTEGER NOT NULL,
    PRIMARY KEY (runtime_id, span, bucket, model_id)
) WITHOUT ROWID;
CREATE INDEX usage_rollup_by_workspace ON usage_rollup(workspace_id, span, bucket);
CREATE TABLE usage_workspace_rollup (
    workspace_id         TEXT NOT NULL,
    span                 INTEGER NOT NULL,
    bucket               INTEGER NOT NULL,
    model_id             INTEGER NOT NULL,
    ledger_rows          INTEGER NOT NULL,
    priced_input         INTEGER NOT NULL,
    priced_output        INTEGER NOT NULL,
    priced_cache_read    INTEGER NOT NULL,
    priced_cache_write   INTEGER NOT NULL,
    reported_input       INTEGER NOT NULL,
    reported_output      INTEGER NOT NULL,
    reported_cache_read  INTEGER NOT NULL,
    reported_cache_write INTEGER NOT NULL,
    reported_cents       INTEGER NOT NULL,
    reported_subcent     INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, span, bucket, model_id)
) WITHOUT ROWID;
CREATE TABLE usage_agent_rollup (
    workspace_id         TEXT NOT NULL,
    span                 INTEGER NOT NULL,
    bucket               INTEGER NOT NULL,
    agent_id             TEXT NOT NULL,
    runtime_id           TEXT NOT NULL,
    model_id             INTEGER NOT NULL,
    ledger_rows          INTEGER NOT NULL,
    priced_input         INTEGER NOT NULL,
    priced_output        INTEGER NOT NULL,
    priced_cache_read    INTEGER NOT NULL,
    priced_cache_write   INTEGER NOT NULL,
    reported_input       INTEGER NOT NULL,
    reported_output      INTEGER NOT NULL,
    reported_cache_read  INTEGER NOT NULL,
    reported_cache_write INTEGER NOT NULL,
    reported_cents       INTEGER NOT NULL,
    reported_subcent     INTEGER NOT NULL,
    PRIMARY KEY (workspace_id, span, bucket, agent_id, runtime_id, model_id)
) WITHOUT ROWID;
CREATE INDEX usage_agent_rollup_by_runtime ON usage_agent_rollup(runtime_id, span, bucket);
-- The activity report counts a runtime's started tasks by local hour.
CREATE INDEX task_by_runtime_started ON task(runtime_id, started_at);
-- step 6: drill-down reads a workspace's ledger rows by instant
CREATE INDEX task_usage_by_workspace_time ON task_usage(workspace_id, occurred_at);

-- step 7: workspace price overrides (a price book with effective dates)
-- Prices in whole ticks (10^-10 USD) per token; valid_from on the 15-minute UTC grid.
CREATE TABLE price_override (
    id          TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    model       TEXT NOT NULL,
    input       INTEGER NOT NULL,
    output      INTEGER NOT NULL,
    cache_read  INTEGER NOT NULL,
    cache_write INTEGER NOT NULL,
    valid_from  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL,
    UNIQUE (workspace_id, model, valid_from)
);

-- step 8: budgets — spend limits per period in a zone, and the thresholds each period announced
-- A budget watches the spend of its scope (the workspace, one runtime or one agent; no foreign
-- key to the runtime or agent, whose usage history outlives them) over the current day, week
-- (from Monday) or calendar month in `timezone`. `exceeded_until` is the end of the period in
-- which the last evaluation found the spend at or over the amount (NULL when under): it is
-- what claims and the scheduler read, so they never price anything.
CREATE TABLE budget (
    id             TEXT PRIMARY KEY,
    workspace_id   TEXT NOT NULL REFERENCES workspace(id) ON DELETE CASCADE,
    name           TEXT,
    scope_type     TEXT NOT NULL CHECK (scope_type IN ('workspace', 'runtime', 'agent')),
    scope_id       TEXT,
    amount_micros  INTEGER NOT NULL CHECK (amount_micros > 0),  -- 10^-6 USD
    period         TEXT NOT NULL CHECK (period IN ('day', 'week', 'month')),
    timezone       TEXT NOT NULL,
    thresholds     TEXT NOT NULL,  -- ascending percentages, comma-separated ("50,80,100")
    action         TEXT NOT NULL DEFAULT 'alert' CHECK (action IN ('alert', 'pause_dispatch')),
    exceeded_until INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CHECK ((scope_type = 'workspace') = (scope_id IS NULL))
);
CREATE INDEX budget_by_workspace ON budget(workspace_id, scope_type, scope_id);
-- One row per threshold announced in a period: the key is what makes the announcement
-- happen exactly once, whatever the concurrency, restarts or re-reports.
CREATE TABLE budget_alert (
    budget_id    TEXT NOT NULL REFERENCES budget(id) ON DELETE CASCADE,
    period_start INTEGER NOT NULL,
    threshold    INTEGER NOT NULL,
    spent_micros INTEGER NOT NULL,
    crossed_at   INTEGER NOT NULL,
    UNIQUE (budget_id, period_start, threshold)
);

-- step 9: only tasks an autopilot enqueued are looked up by autopilot: the index leaves out
-- the (usually many) manual tasks, which every task insert and delete paid for.
DROP INDEX task_by_autopilot;
CREATE INDEX task_by_autopilot ON task(autopilot_id, status) WHERE autopilot_id IS NOT NULL;

-- step 10: claims, stranded-task sweeps and a runtime's retirement look only at active tasks
-- (queries repeat this exact status list, so that SQLite may use the partial index), and a
-- runtime's tasks are mostly finished: a task leaves the index when it finishes, and
-- deleting finished tasks does not touch it. The agent is in the key so that the claim's and
-- the retirement's agent checks need not read the task rows.
DROP INDEX task_for_claim;
CREATE INDEX task_for_claim ON task(runtime_id, status, created_at, agent_id)
    WHERE status IN ('queued', 'dispatched', 'running');

-- step 11: the activity report reads a runtime's task starts per 15-minute UTC bucket from a
-- rollup, not from an index of every task by (runtime, started_at): retiring a big runtime
-- deletes its agents' tasks, and each index on `task` adds a tenth to that delete. The
-- triggers follow every insert and every change of a task's runtime or start; a delete of
-- started tasks is taken back by its caller (the retirement, `db::retire`), and a deleted
-- runtime's rows go with it.
CREATE TABLE task_start_rollup (
    runtime_id TEXT NOT NULL REFERENCES runtime(id) ON DELETE CASCADE,
    bucket     INTEGER NOT NULL,  -- Unix ms of the bucket's start, a multiple of 15 minutes
    started    INTEGER NOT NULL,
    PRIMARY KEY (runtime_id, bucket)
) WITHOUT ROWID;
INSERT INTO task_start_rollup (runtime_id, bucket, started)
    SELECT runtime_id, started_at - ((started_at % 900000) + 900000) % 900000, COUNT(*)
    FROM task WHERE runtime_id IS NOT NULL AND started_at IS NOT NULL
    GROUP BY 1, 2;
DROP INDEX task_by_runtime_started;
CREATE TRIGGER task_start_inserted AFTER INSERT ON task
    WHEN new.runtime_id IS NOT NULL AND new.started_at IS NOT NULL
BEGIN
    INSERT INTO task_start_rollup (runtime_id, bucket, started)
    VALUES (new.runtime_id,
            new.started_at - ((new.started_at % 900000) + 900000) % 900000, 1)
    ON CONFLICT (runtime_id, bucket) DO UPDATE SET started = started + 1;
END;
CREATE TRIGGER task_start_changed AFTER UPDATE OF runtime_id, started_at ON task
    WHEN old.runtime_id IS NOT new.runtime_id OR old.started_at IS NOT new.started_at
BEGIN
    UPDATE task_start_rollup SET started = started - 1
    WHERE old.started_at IS NOT NULL AND runtime_id = old.runtime_id
      AND bucket = old.started_at - ((old.started_at % 900000) + 900000) % 900000;
    INSERT INTO task_start_rollup (runtime_id, bucket, started)
    SELECT new.runtime_id,
           new.started_at - ((new.started_at % 900000) + 900000) % 900000, 1
    WHERE new.runtime_id IS NOT NULL AND new.started_at IS NOT NULL
    ON CONFLICT (runtime_id, bucket) DO UPDATE SET started = started + 1;
END;

-- step 12: a usage report no longer writes the rollups itself. It appends its deltas here, one
-- row per (workspace, runtime, agent, model, 15-minute UTC bucket) it changes, counts signed
-- (a re-report that moves a ledger row subtracts it from its old bucket), and the background
-- fold adds the oldest rows to the three rollup tables in batches, then deletes them. Every
-- reader of the rollups adds the rows still here to what it reads, so reports and budgets are
-- exact at every instant: a report's transaction writes one row here instead of ~24 rollup
-- rows over ~13 pages. No index: the fold keeps this table small, and readers scan it.
CREATE TABLE usage_pending (
    seq                  INTEGER PRIMARY KEY,
    workspace_id         TEXT NOT NULL,
    runtime_id           TEXT NOT NULL,
    agent_id             TEXT NOT NULL,
    model_id             INTEGER NOT NULL,
    bucket               INTEGER NOT NULL,  -- Unix ms of the bucket's start, a multiple of 15 minutes
    ledger_rows          INTEGER NOT NULL,
    priced_input         INTEGER NOT NULL,
    priced_output        INTEGER NOT NULL,
    priced_cache_read    INTEGER NOT NULL,
    priced_cache_write   INTEGER NOT NULL,
    reported_input       INTEGER NOT NULL,
    reported_output      INTEGER NOT NULL,
    reported_cache_read  INTEGER NOT NULL,
    reported_cache_write INTEGER NOT NULL,
    reported_cents       INTEGER NOT NULL,
    reported_subcent     INTEGER NOT NULL
);

-- step 13: budget evaluation keeps the spend it reads across transactions, in memory
-- (budgets::kept), and must know when what it read may have changed. Every write of rollup
-- rows and every fold of pending deltas gives this one row a new random version
-- (db::usage::rollup, the only code that writes either; per statement, not per row, which
-- triggers would cost the fold): what was read at the version a transaction sees still
-- holds, but for deltas appended since. Random, not a counter: a rolled-back change must not
-- leave a version that a later, different change reaches again.
CREATE TABLE usage_rollup_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO usage_rollup_version (id, version) VALUES (1, random());
