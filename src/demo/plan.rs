//! The demo's cast: who is on the team, which machines run which runtimes with which models,
//! the agents, squads and autopilots. Plain data; `demo` writes it and `history` animates it.

/// Who owns a runtime or an agent.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Owner,
    Priya,
    Sam,
}

/// Teammates added next to the demo owner: (who, email, name, role, zone).
pub const TEAM: [(Who, &str, &str, &str, &str); 2] = [
    (
        Who::Priya,
        "priya@demo.localhost",
        "Priya Raman",
        "member",
        "Asia/Kathmandu",
    ),
    (
        Who::Sam,
        "sam@demo.localhost",
        "Sam Okafor",
        "admin",
        "America/New_York",
    ),
];

/// A model a runtime's tasks use: (provider as reported, model, weight).
pub type ModelMix = &'static [(&'static str, &'static str, u32)];

const CLAUDE: ModelMix = &[
    ("anthropic", "claude-sonnet-4-5", 70),
    ("anthropic", "claude-opus-4-5", 18),
    ("anthropic", "claude-haiku-4-5", 12),
];
const CODEX: ModelMix = &[("openai", "gpt-5-codex", 80), ("openai", "gpt-5-mini", 20)];
/// `qwen3-coder-30b` runs on the build box itself: no price, so it shows as unpriced.
const OPENCODE: ModelMix = &[
    ("zhipu", "glm-4.6", 45),
    ("deepseek", "deepseek-chat", 25),
    ("ollama", "qwen3-coder-30b", 30),
];

pub struct RuntimePlan {
    pub daemon_id: &'static str,
    pub device: &'static str,
    pub name: &'static str,
    pub provider: &'static str,
    pub mode: &'static str,
    pub owner: Who,
    pub visibility: &'static str,
    pub zone: &'static str,
    pub online: bool,
    /// Tasks on a busy weekday at the end of the history.
    pub tasks_per_day: f64,
    pub models: ModelMix,
}

const MBP: &str = "MacBook Pro 16\" · macOS 15.4";
const BUILD: &str = "build-01 · Ubuntu 24.04 · 32 cores";

pub const RUNTIMES: [RuntimePlan; 5] = [
    RuntimePlan {
        daemon_id: "mbp-demo",
        device: MBP,
        name: "Claude Code",
        provider: "claude",
        mode: "local",
        owner: Who::Owner,
        visibility: "public",
        zone: "Europe/Berlin",
        online: true,
        tasks_per_day: 9.0,
        models: CLAUDE,
    },
    RuntimePlan {
        daemon_id: "mbp-demo",
        device: MBP,
        name: "Codex",
        provider: "codex",
        mode: "local",
        owner: Who::Owner,
        visibility: "private",
        zone: "Europe/Berlin",
        online: false,
        tasks_per_day: 5.0,
        models: CODEX,
    },
    RuntimePlan {
        daemon_id: "build-01.ktm",
        device: BUILD,
        name: "Claude Code (build-01)",
        provider: "claude",
        mode: "local",
        owner: Who::Priya,
        visibility: "public",
        zone: "Asia/Kathmandu",
        online: true,
        tasks_per_day: 11.0,
        models: CLAUDE,
    },
    RuntimePlan {
        daemon_id: "build-01.ktm",
        device: BUILD,
        name: "OpenCode",
        provider: "opencode",
        mode: "local",
        owner: Who::Priya,
        visibility: "private",
        zone: "Asia/Kathmandu",
        online: true,
        tasks_per_day: 6.0,
        models: OPENCODE,
    },
    RuntimePlan {
        daemon_id: "ci-runner-nyc",
        device: "GitHub Actions runner · 8 vCPU",
        name: "Codex (CI)",
        provider: "codex",
        mode: "cloud",
        owner: Who::Sam,
        visibility: "public",
        zone: "America/New_York",
        online: true,
        tasks_per_day: 8.0,
        models: CODEX,
    },
];

/// (name, runtime index, owner, description, created days ago, archived days ago).
pub type AgentPlan = (&'static str, usize, Who, &'static str, i64, Option<i64>);

pub const AGENTS: [AgentPlan; 13] = [
    (
        "reviewer",
        0,
        Who::Owner,
        "Reviews every pull request before a human does",
        190,
        None,
    ),
    (
        "refactorer",
        0,
        Who::Owner,
        "Small, safe refactors with tests",
        190,
        None,
    ),
    (
        "docs-writer",
        0,
        Who::Sam,
        "Keeps the docs in step with the code",
        150,
        None,
    ),
    (
        "legacy-migrator",
        0,
        Who::Owner,
        "Moved the billing service off the old ORM",
        190,
        Some(20),
    ),
    (
        "test-fixer",
        1,
        Who::Owner,
        "Finds and fixes flaky tests",
        190,
        None,
    ),
    (
        "changelog-bot",
        1,
        Who::Owner,
        "Writes the daily changelog",
        120,
        None,
    ),
    (
        "release-bot",
        2,
        Who::Priya,
        "Cuts releases and writes release notes",
        190,
        None,
    ),
    (
        "triager",
        2,
        Who::Priya,
        "Labels and routes new issues",
        190,
        None,
    ),
    (
        "perf-hunter",
        2,
        Who::Priya,
        "Profiles hot paths and proposes fixes",
        60,
        None,
    ),
    (
        "sec-audit",
        3,
        Who::Priya,
        "Audits new dependencies for known vulnerabilities",
        190,
        None,
    ),
    (
        "dep-updater",
        3,
        Who::Priya,
        "Bumps dependencies nightly",
        190,
        None,
    ),
    (
        "oncall",
        4,
        Who::Sam,
        "First responder for CI failures",
        190,
        None,
    ),
    ("planner", 4, Who::Sam, "Breaks epics into tasks", 100, None),
];

/// (name, leader, members, archived).
pub const SQUADS: [(&str, &str, &[&str], bool); 3] = [
    (
        "Release crew",
        "release-bot",
        &["triager", "perf-hunter", "docs-writer"],
        false,
    ),
    (
        "Code quality",
        "reviewer",
        &["refactorer", "test-fixer"],
        false,
    ),
    ("Night shift", "oncall", &["planner"], true),
];

/// (name, agent, prompt, interval minutes, active).
pub const AUTOPILOTS: [(&str, &str, &str, i64, bool); 4] = [
    (
        "Nightly dependency bumps",
        "dep-updater",
        "Update dependencies with patch releases, run the tests and open a PR.",
        1440,
        true,
    ),
    (
        "Hourly issue triage",
        "triager",
        "Label and route the issues opened in the last hour.",
        60,
        true,
    ),
    (
        "Daily changelog",
        "changelog-bot",
        "Summarise yesterday's merged PRs into CHANGELOG.md.",
        1440,
        true,
    ),
    (
        "Weekly perf sweep",
        "perf-hunter",
        "Profile the API's slowest endpoints and report regressions.",
        10080,
        false,
    ),
];
