//! Seeded data for `hangar demo`: a small team (three people in three zones), five runtimes on
//! three machines, a dozen agents with squads and autopilots, and half a year of task and
//! usage history across several models (one of them self-hosted and so unpriced), growing
//! over time, busier on weekdays and in each machine's working hours; then a workspace price,
//! budgets, and an agent whose budget is spent. Everything is written through the db and
//! domain functions the server itself uses, and is deterministic (a fixed seed), so the
//! browser tests can rely on its shape.

mod history;
mod plan;
mod rng;
mod spend;

use crate::accounts;
use crate::db::{self, agents::Agent, autopilots::Autopilot, runtimes::Runtime, squads::Squad};
use crate::db::{Db, Tx};
use crate::error::ApiError;
use crate::ids;
use plan::{Who, AGENTS, AUTOPILOTS, RUNTIMES, SQUADS, TEAM};

const DAY_MS: i64 = 86_400_000;
/// Days of history: enough for the runtime page's 180-day range.
const HISTORY_DAYS: i64 = 185;

/// What the seeding made, for the history writer.
struct Seeded {
    workspace_id: String,
    /// User ids of the owner, Priya and Sam.
    people: Vec<(Who, String)>,
    runtimes: Vec<Runtime>,
    agents: Vec<Agent>,
    autopilots: Vec<Autopilot>,
    /// The seeding's instant: the history's usage is recorded (and its events stamped) then.
    seeded_at: i64,
}

impl Seeded {
    fn user(&self, who: Who) -> &str {
        self.people
            .iter()
            .find(|(w, _)| *w == who)
            .map_or("", |(_, id)| id.as_str())
    }
}

/// Seeds the fresh demo database's only workspace (made by `commands::demo`) at `now_ms`,
/// reporting progress a line at a time.
pub fn seed(db: &Db, now_ms: i64, mut progress: impl FnMut(&str)) -> Result<(), ApiError> {
    progress("demo: seeding a team, runtimes, agents, squads and autopilots…");
    let seeded = db.write_tx(|tx| seed_structure(tx, now_ms))?;
    history::write(db, &seeded, now_ms, &mut progress)?;
    db.write_tx(|tx| spend::write(tx, &seeded, now_ms))?;
    progress("demo: done");
    Ok(())
}

fn seed_structure(tx: &Tx, now: i64) -> Result<Seeded, ApiError> {
    let workspace_id = db::workspaces::all_ids(tx)?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found("demo workspace"))?;
    let owner = db::members::list(tx, &workspace_id)?
        .into_iter()
        .find(|m| m.role == "owner")
        .ok_or_else(|| ApiError::not_found("demo owner"))?;
    let mut people = vec![(Who::Owner, owner.user_id)];
    for (who, email, name, role, zone) in TEAM {
        let user = accounts::create_user(tx, email, name, now - 200 * DAY_MS)?;
        db::users::update_profile(tx, &user.id, name, Some(zone))?;
        db::members::insert(tx, &workspace_id, &user.id, role, now - 190 * DAY_MS)?;
        people.push((who, user.id));
    }
    let mut seeded = Seeded {
        workspace_id,
        people,
        runtimes: Vec::new(),
        agents: Vec::new(),
        autopilots: Vec::new(),
        seeded_at: now,
    };
    for plan in &RUNTIMES {
        let rt = Runtime {
            id: ids::new_id(),
            workspace_id: seeded.workspace_id.clone(),
            daemon_id: Some(plan.daemon_id.to_string()),
            name: plan.name.to_string(),
            provider: plan.provider.to_string(),
            runtime_mode: plan.mode.to_string(),
            device_info: plan.device.to_string(),
            metadata: "{}".to_string(),
            owner_id: Some(seeded.user(plan.owner).to_string()),
            visibility: plan.visibility.to_string(),
            timezone: plan.zone.to_string(),
            status: if plan.online { "online" } else { "offline" }.to_string(),
            last_seen_at: Some(if plan.online {
                now
            } else {
                now - 2 * 3_600_000
            }),
            created_at: now - 200 * DAY_MS,
            updated_at: now,
        };
        db::runtimes::insert(tx, &rt)?;
        seeded.runtimes.push(rt);
    }
    for (name, runtime, owner, description, created, archived) in AGENTS {
        let agent = Agent {
            id: ids::new_id(),
            workspace_id: seeded.workspace_id.clone(),
            runtime_id: seeded.runtimes[runtime].id.clone(),
            owner_id: Some(seeded.user(owner).to_string()),
            name: name.to_string(),
            description: description.to_string(),
            archived_at: archived.map(|days| now - days * DAY_MS),
            archived_by: archived.map(|_| seeded.user(owner).to_string()),
            created_at: now - created * DAY_MS,
            updated_at: now - archived.unwrap_or(created) * DAY_MS,
        };
        db::agents::insert(tx, &agent)?;
        seeded.agents.push(agent);
    }
    let agent_id = |name: &str| {
        seeded
            .agents
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.id.clone())
            .unwrap_or_default()
    };
    for (name, leader, members, archived) in SQUADS {
        let mut member_agent_ids: Vec<String> = members.iter().map(|m| agent_id(m)).collect();
        member_agent_ids.sort();
        db::squads::insert(
            tx,
            &Squad {
                id: ids::new_id(),
                workspace_id: seeded.workspace_id.clone(),
                name: name.to_string(),
                leader_agent_id: agent_id(leader),
                member_agent_ids,
                archived_at: archived.then_some(now - 30 * DAY_MS),
                created_at: now - 120 * DAY_MS,
                updated_at: now - 30 * DAY_MS,
            },
        )?;
    }
    for (name, agent, prompt, interval_minutes, active) in AUTOPILOTS {
        let autopilot = Autopilot {
            id: ids::new_id(),
            workspace_id: seeded.workspace_id.clone(),
            assignee_agent_id: agent_id(agent),
            name: name.to_string(),
            prompt: prompt.to_string(),
            interval_minutes,
            status: if active { "active" } else { "paused" }.to_string(),
            next_run_at: active.then_some(now + interval_minutes * 60_000),
            created_at: now - 110 * DAY_MS,
            updated_at: now - 10 * DAY_MS,
        };
        db::autopilots::insert(tx, &autopilot)?;
        seeded.autopilots.push(autopilot);
    }
    Ok(seeded)
}
