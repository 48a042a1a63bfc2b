//! The command line: tokens on the last stdout line, one-line errors with non-zero exit codes.
use std::process::{Command, Output};

fn hangar(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hangar"))
        .args(args)
        .env_remove("HANGAR_DB")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run hangar")
}

fn last_stdout_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn init_user_add_and_token_create_print_the_token_last() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let db = db.to_str().unwrap();
    let out = hangar(&[
        "init",
        "--db",
        db,
        "--workspace",
        "acme",
        "--email",
        "o@x.test",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(last_stdout_line(&out).starts_with("hgr_u_"));

    let out = hangar(&[
        "user",
        "add",
        "--db",
        db,
        "--workspace",
        "acme",
        "--email",
        "m@x.test",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(last_stdout_line(&out).starts_with("hgr_u_"));

    let out = hangar(&[
        "token", "create", "--db", db, "--email", "m@x.test", "--daemon", "acme",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(last_stdout_line(&out).starts_with("hgr_d_"));

    // A second init refuses, and so does adding an existing member.
    let out = hangar(&["init", "--db", db]);
    assert!(!out.status.success());
    assert_eq!(stderr(&out).trim().lines().count(), 1, "{}", stderr(&out));
    let out = hangar(&[
        "user",
        "add",
        "--db",
        db,
        "--workspace",
        "acme",
        "--email",
        "m@x.test",
    ]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("already a member"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn bad_flags_missing_databases_and_unwritable_paths_fail_in_one_line() {
    let out = hangar(&["serve", "--workers", "many"]);
    assert!(!out.status.success());
    let out = hangar(&[
        "user",
        "add",
        "--db",
        "/nonexistent/dir/h.db",
        "--workspace",
        "w",
        "--email",
        "a@b.c",
    ]);
    assert!(!out.status.success());
    assert_eq!(stderr(&out).trim().lines().count(), 1, "{}", stderr(&out));
    let out = hangar(&["init", "--db", "/proc/hangar-cannot-write-here.db"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.starts_with("hangar: ") && err.trim().lines().count() == 1,
        "{err}"
    );
}

#[test]
fn a_busy_port_is_a_clear_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let out = hangar(&["serve", "--addr", &addr, "--db", db.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("cannot listen on") && err.contains(&addr),
        "{err}"
    );
}

#[test]
fn demo_refuses_a_database_it_did_not_create() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("h.db");
    let db = db.to_str().unwrap();
    assert!(hangar(&["init", "--db", db]).status.success());
    let before = std::fs::metadata(db).unwrap().len();
    let out = hangar(&["demo", "--db", db, "--addr", "127.0.0.1:0"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("not created by `hangar demo`"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::metadata(db).unwrap().len(), before);
}
