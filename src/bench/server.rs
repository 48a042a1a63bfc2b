//! A real hangar server for benchmarks: in-process on 127.0.0.1:0 over a fresh database in
//! its own temporary directory (removed on drop), initialised with one workspace and owner,
//! so a benchmark measures the same code `hangar serve` runs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::bench::load::{Client, Request};
use crate::bench::Options;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::ServerHandle;

pub struct BenchServer {
    handle: Option<ServerHandle>,
    dir: PathBuf,
    /// The owner of the first workspace.
    pub owner_token: String,
    /// The id of the first workspace ("bench").
    pub ws: String,
}

impl BenchServer {
    /// Starts a server with default settings.
    pub fn start(options: &Options) -> Result<BenchServer, String> {
        BenchServer::start_with(options, |_| {})
    }

    /// Starts a server after `tweak` adjusted its configuration.
    pub fn start_with(
        options: &Options,
        tweak: impl FnOnce(&mut Config),
    ) -> Result<BenchServer, String> {
        let dir = temp_dir(options.db_dir.as_deref())?;
        let db = dir.join("hangar.db");
        let mut config = Config::new(&db);
        tweak(&mut config);
        let started = (|| {
            let owner_token = crate::commands::init(
                &db,
                "bench",
                "owner@bench.test",
                "Bench Owner",
                &SystemClock,
            )?;
            let listener = crate::commands::bind("127.0.0.1:0")?;
            let handle = crate::serve(listener, config)?;
            Ok::<_, String>((owner_token, handle))
        })();
        let (owner_token, handle) = match started {
            Ok(s) => s,
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(e);
            }
        };
        let mut server = BenchServer {
            handle: Some(handle),
            dir,
            owner_token,
            ws: String::new(),
        };
        let me = Client::connect(server.addr())?
            .send(&Request::get("/api/me").bearer(&server.owner_token))?
            .json()?;
        server.ws = me["workspaces"][0]["id"]
            .as_str()
            .ok_or("no workspace in /api/me")?
            .to_string();
        Ok(server)
    }

    pub fn addr(&self) -> SocketAddr {
        self.handle
            .as_ref()
            .map_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)), |h| h.addr())
    }

    pub fn db_path(&self) -> PathBuf {
        self.dir.join("hangar.db")
    }

    /// The running server, for benchmarks that seed through the domain (`ctx()`).
    pub fn handle(&self) -> Option<&ServerHandle> {
        self.handle.as_ref()
    }
}

impl Drop for BenchServer {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.shutdown();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh directory under `parent` (default: the system temp dir).
fn temp_dir(parent: Option<&Path>) -> Result<PathBuf, String> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let parent = parent.map_or_else(std::env::temp_dir, Path::to_path_buf);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let name = format!(
        "hangar-bench-{}-{nanos}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let dir = parent.join(name);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}
