//! What the CLI's subcommands do, as library functions returning a one-line error. Messages
//! go to stderr; a created token is printed alone on the last line of stdout.

use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::access::Role;
use crate::accounts;
use crate::auth::TokenKind;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::{self, Db, OpenMode};
use crate::error::ApiError;

/// Serves until SIGINT/SIGTERM, then shuts down gracefully.
pub fn run_server(addr: &str, config: Config) -> Result<(), String> {
    let listener = bind(addr)?;
    let handle = crate::serve(listener, config)?;
    eprintln!("hangar listening on http://{}", handle.addr());
    wait_for_signal()?;
    eprintln!("hangar: shutting down");
    handle.shutdown();
    Ok(())
}

pub fn bind(addr: &str) -> Result<TcpListener, String> {
    TcpListener::bind(addr).map_err(|e| format!("cannot listen on {addr}: {e}"))
}

fn wait_for_signal() -> Result<(), String> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    // A second signal while the graceful stop is under way means "now".
    ctrlc::set_handler(move || {
        if flag.swap(true, Ordering::SeqCst) {
            eprintln!("hangar: second signal, exiting at once");
            std::process::exit(1);
        }
    })
    .map_err(|e| format!("cannot install the signal handler: {e}"))?;
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn open(path: &Path, mode: OpenMode) -> Result<Db, String> {
    if mode == OpenMode::Existing && !path.exists() {
        return Err(format!(
            "no database at {} (run `hangar init` first)",
            path.display()
        ));
    }
    Db::open(path, mode, 2).map_err(|e| format!("cannot open database {}: {e}", path.display()))
}

fn api_err(e: ApiError) -> String {
    e.message
}

/// Creates the first workspace and its owner; returns the owner's token.
pub fn init(
    db_path: &Path,
    workspace: &str,
    email: &str,
    name: &str,
    clock: &dyn Clock,
) -> Result<String, String> {
    let workspace = accounts::clean_name("workspace", workspace).map_err(api_err)?;
    let email = accounts::clean_email(email).map_err(api_err)?;
    let name = accounts::clean_name("name", name).map_err(api_err)?;
    let db = open(db_path, OpenMode::ReadWrite)?;
    let now = clock.now_ms();
    db.write_tx(|tx| {
        if !db::workspaces::all_ids(tx)?.is_empty() {
            return Err(ApiError::conflict(
                "already_initialised",
                format!(
                    "{} already has a workspace; use `hangar user add` or `hangar token create`",
                    db_path.display()
                ),
            ));
        }
        let user = accounts::create_user(tx, &email, &name, now)?;
        accounts::create_workspace(tx, &user.id, &workspace, now)?;
        Ok(accounts::issue_token(tx, TokenKind::User, &user.id, None, "init", now)?.secret)
    })
    .map_err(api_err)
}

/// Adds a user (created if needed) to a workspace; returns a fresh user token for them.
pub fn user_add(
    db_path: &Path,
    workspace: &str,
    email: &str,
    name: Option<&str>,
    role: &str,
    clock: &dyn Clock,
) -> Result<String, String> {
    let email = accounts::clean_email(email).map_err(api_err)?;
    let role = Role::parse(role)
        .ok_or_else(|| format!("unknown role {role:?}: use owner, admin or member"))?;
    let db = open(db_path, OpenMode::Existing)?;
    let now = clock.now_ms();
    db.write_tx(|tx| {
        let ws = accounts::find_workspace(tx, workspace)
            .map_err(|m| ApiError::not_found("workspace").with_extra("detail", m.into()))?;
        let user = match db::users::by_email(tx, &email)? {
            Some(u) => u,
            None => {
                let default = email.split('@').next().unwrap_or(&email).to_string();
                accounts::create_user(tx, &email, name.unwrap_or(&default), now)?
            }
        };
        if db::members::role_of(tx, &ws.id, &user.id)?.is_some() {
            return Err(ApiError::conflict(
                "already_member",
                format!("{email} is already a member of {}", ws.name),
            ));
        }
        db::members::insert(tx, &ws.id, &user.id, role.as_str(), now)?;
        Ok(accounts::issue_token(tx, TokenKind::User, &user.id, None, "cli", now)?.secret)
    })
    .map_err(|e| {
        e.extra
            .get("detail")
            .and_then(|d| d.as_str())
            .map_or(e.message.clone(), str::to_string)
    })
}

/// Issues a user token, or with `workspace` a daemon token, for an existing user.
pub fn token_create(
    db_path: &Path,
    email: &str,
    name: &str,
    daemon_workspace: Option<&str>,
    clock: &dyn Clock,
) -> Result<String, String> {
    let name = accounts::clean_name("name", name).map_err(api_err)?;
    let db = open(db_path, OpenMode::Existing)?;
    let now = clock.now_ms();
    db.write_tx(|tx| {
        let user = db::users::by_email(tx, email.trim())?
            .ok_or_else(|| ApiError::not_found(&format!("user {email:?}")))?;
        let issued = match daemon_workspace {
            None => accounts::issue_token(tx, TokenKind::User, &user.id, None, &name, now)?,
            Some(w) => {
                let ws = accounts::find_workspace(tx, w)
                    .map_err(|m| ApiError::bad_request("workspace", m))?;
                if db::members::role_of(tx, &ws.id, &user.id)?.is_none() {
                    return Err(ApiError::forbidden(format!(
                        "{email} is not a member of {}",
                        ws.name
                    )));
                }
                accounts::issue_token(tx, TokenKind::Daemon, &user.id, Some(&ws.id), &name, now)?
            }
        };
        Ok(issued.secret)
    })
    .map_err(api_err)
}

/// Marks a database that `hangar demo` created (the ASCII of "HGRD"), so demo never seeds
/// or serves a database it did not make.
const DEMO_APPLICATION_ID: i64 = 0x4847_5244;
const DEMO_EMAIL: &str = "demo@localhost";

/// Serves a demo instance: creates and seeds its database on first use, then prints a
/// sign-in URL with a fresh token.
pub fn demo(addr: &str, config: Config) -> Result<(), String> {
    let path = config.db_path.clone();
    let existed = path.exists();
    if existed && db::application_id_of(&path).map_err(|e| e.to_string())? != DEMO_APPLICATION_ID {
        return Err(format!(
            "{} was not created by `hangar demo`; refusing to use it (pass --db with a new file)",
            path.display()
        ));
    }
    // Refuse before seeding or issuing a token when another server has the file.
    let lock = db::file_lock::lock_for_serving(&path)?;
    let db = open(&path, OpenMode::ReadWrite)?;
    let now = config.clock.now_ms();
    if !existed {
        db.set_application_id(DEMO_APPLICATION_ID)
            .map_err(|e| e.to_string())?;
        db.write_tx(|tx| {
            let user = accounts::create_user(tx, DEMO_EMAIL, "Demo Owner", now)?;
            accounts::create_workspace(tx, &user.id, "Demo", now)?;
            Ok::<_, ApiError>(())
        })
        .map_err(api_err)?;
    }
    let token = db
        .write_tx(|tx| {
            let user = db::users::by_email(tx, DEMO_EMAIL)?
                .ok_or_else(|| ApiError::not_found("demo user"))?;
            Ok::<_, ApiError>(
                accounts::issue_token(tx, TokenKind::User, &user.id, None, "demo", now)?.secret,
            )
        })
        .map_err(api_err)?;
    drop(db);
    drop(lock);
    let listener = bind(addr)?;
    let handle = crate::serve(listener, config)?;
    eprintln!("hangar demo on {} — open:", path.display());
    println!("http://{}/#token={token}", handle.addr());
    wait_for_signal()?;
    handle.shutdown();
    Ok(())
}
