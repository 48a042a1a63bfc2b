//! The `hangar` command line: parse, set up logging, call the library, map errors to a
//! one-line message and a non-zero exit code.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use hangar::bench::{self, Size};
use hangar::check;
use hangar::clock::SystemClock;
use hangar::config::{default_workers, Config};
use hangar::{commands, ops};

#[derive(Parser)]
#[command(
    name = "hangar",
    version,
    about = "Control plane for AI coding-agent runtimes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API and web UI.
    Serve {
        #[command(flatten)]
        args: ServeArgs,
        /// Serve a replica (e.g. one Litestream follows): open the file read-only, refuse
        /// writes with 503 read_only, run no migrations or background jobs.
        #[arg(long, env = "HANGAR_READ_ONLY")]
        read_only: bool,
    },
    /// Create the first workspace and its owner; prints the owner's token.
    Init {
        #[arg(long, env = "HANGAR_DB", default_value = "./hangar.db")]
        db: PathBuf,
        /// Name of the first workspace.
        #[arg(long, default_value = "default")]
        workspace: String,
        #[arg(long, default_value = "owner@localhost")]
        email: String,
        #[arg(long, default_value = "Owner")]
        name: String,
    },
    /// Serve a seeded demo instance on its own database and print a sign-in URL.
    Demo(ServeArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Write an online, consistent copy of the database to FILE, verify it, print its rows.
    Backup {
        file: PathBuf,
        /// Overwrite FILE if it exists.
        #[arg(long)]
        force: bool,
        #[arg(long, env = "HANGAR_DB", default_value = "./hangar.db")]
        db: PathBuf,
    },
    /// Check the database: SQLite integrity, foreign keys and hangar's invariants.
    Check {
        #[arg(long, env = "HANGAR_DB", default_value = "./hangar.db")]
        db: PathBuf,
    },
    /// Run benchmarks (all, or those named) and print their figures.
    Bench(BenchArgs),
}

#[derive(Args)]
struct BenchArgs {
    /// Benchmarks to run [default: all].
    names: Vec<String>,
    /// Print the figures as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// small (quick) or large (figures worth quoting).
    #[arg(long, default_value = "small", value_parser = Size::parse)]
    size: Size,
    /// Directory for the temporary databases [default: the system temp dir].
    #[arg(long)]
    db_dir: Option<PathBuf>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user to a workspace (creating the user if needed); prints a token for them.
    Add {
        #[arg(long, env = "HANGAR_DB", default_value = "./hangar.db")]
        db: PathBuf,
        /// Workspace id or name.
        #[arg(long)]
        workspace: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long, default_value = "member")]
        role: String,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a user token (or, with --daemon, a daemon token) for an existing user.
    Create {
        #[arg(long, env = "HANGAR_DB", default_value = "./hangar.db")]
        db: PathBuf,
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "cli")]
        name: String,
        /// Create a daemon token for this workspace (id or name).
        #[arg(long, value_name = "WORKSPACE")]
        daemon: Option<String>,
    },
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long, env = "HANGAR_ADDR", default_value = "127.0.0.1:7070")]
    addr: String,
    /// Database file [default: ./hangar.db, ./hangar-demo.db for demo]
    #[arg(long, env = "HANGAR_DB")]
    db: Option<PathBuf>,
    #[arg(long, env = "HANGAR_WORKERS")]
    workers: Option<usize>,
    #[arg(long, env = "HANGAR_OFFLINE_AFTER_SECS", default_value_t = 150)]
    offline_after_secs: u64,
    #[arg(long, env = "HANGAR_SWEEP_INTERVAL_SECS", default_value_t = 30)]
    sweep_interval_secs: u64,
    #[arg(long, env = "HANGAR_RECONNECT_GRACE_SECS", default_value_t = 10800)]
    reconnect_grace_secs: u64,
    /// A JSON price table replacing the built-in one.
    #[arg(long, env = "HANGAR_PRICING")]
    pricing: Option<PathBuf>,
    #[arg(long, env = "HANGAR_EVENT_RETENTION_DAYS", default_value_t = 7,
          value_parser = clap::value_parser!(u32).range(1..=3650))]
    event_retention_days: u32,
    /// A writer checkpoints the WAL past this many pages (a background thread normally does it
    /// every 100 ms); 0 disables both, for a replicator that checkpoints.
    #[arg(long, env = "HANGAR_WAL_AUTOCHECKPOINT", default_value_t = hangar::db::DEFAULT_WAL_AUTOCHECKPOINT)]
    wal_autocheckpoint: u32,
}

impl ServeArgs {
    fn config(&self, default_db: &str) -> Config {
        let mut c = Config::new(self.db.clone().unwrap_or_else(|| PathBuf::from(default_db)));
        c.workers = self
            .workers
            .filter(|w| *w > 0)
            .unwrap_or_else(default_workers);
        c.offline_after = Duration::from_secs(self.offline_after_secs);
        c.sweep_interval = Duration::from_secs(self.sweep_interval_secs.max(1));
        c.reconnect_grace = Duration::from_secs(self.reconnect_grace_secs);
        c.pricing_file = self.pricing.clone();
        c.event_retention_days = self.event_retention_days;
        c.wal_autocheckpoint = self.wal_autocheckpoint;
        c
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // A benchmark's in-process server would otherwise log one access line per request.
    let default_level = match cli.command {
        Command::Bench(_) => "warn",
        _ => "info",
    };
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or(default_level))
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("hangar: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Prints a created token alone on the last line of stdout.
fn print_token(token: String) {
    println!("{token}");
}

fn run(cli: Cli) -> Result<(), String> {
    let clock = SystemClock;
    match cli.command {
        Command::Serve { args, read_only } => {
            let mut config = args.config("./hangar.db");
            config.read_only = read_only;
            commands::run_server(&args.addr, config)
        }
        Command::Demo(args) => commands::demo(&args.addr, args.config("./hangar-demo.db")),
        Command::Init {
            db,
            workspace,
            email,
            name,
        } => {
            let token = commands::init(&db, &workspace, &email, &name, &clock)?;
            eprintln!("created workspace {workspace:?} owned by {email}; their token:");
            print_token(token);
            Ok(())
        }
        Command::User(UserCommand::Add {
            db,
            workspace,
            email,
            name,
            role,
        }) => {
            let token =
                commands::user_add(&db, &workspace, &email, name.as_deref(), &role, &clock)?;
            eprintln!("added {email} to {workspace} as {role}; their token:");
            print_token(token);
            Ok(())
        }
        Command::Token(TokenCommand::Create {
            db,
            email,
            name,
            daemon,
        }) => {
            let token = commands::token_create(&db, &email, &name, daemon.as_deref(), &clock)?;
            print_token(token);
            Ok(())
        }
        Command::Backup { file, force, db } => {
            let summary = ops::backup(&db, &file, force)?;
            print!("{}", ops::backup_report(&summary));
            Ok(())
        }
        Command::Check { db } => {
            let outcomes = ops::check(&db)?;
            print!("{}", check::report(&outcomes));
            match outcomes.iter().filter(|o| !o.passed()).count() {
                0 => Ok(()),
                n => Err(format!("{n} of {} checks failed", outcomes.len())),
            }
        }
        Command::Bench(args) => {
            let options = bench::Options {
                size: args.size,
                db_dir: args.db_dir,
            };
            bench::run(&args.names, &options, args.json)
        }
    }
}
