//! `healthz`: the floor of the HTTP path — routing, a pooled DB round-trip, a JSON reply —
//! with 4 keep-alive clients. Any other benchmark's throughput is read against this one.

use std::time::Duration;

use crate::bench::load::{self, Request, Until};
use crate::bench::server::BenchServer;
use crate::bench::{BenchResult, Options};

const CLIENTS: usize = 4;

pub fn run(options: &Options) -> Result<BenchResult, String> {
    let server = BenchServer::start(options)?;
    let seconds = options.size.pick(2, 10);
    let report = load::run(
        server.addr(),
        CLIENTS,
        Until::Elapsed(Duration::from_secs(seconds)),
        |_| Request::get("/healthz"),
    )?;
    if report.non_2xx() > 0 {
        return Err(format!("non-2xx answers: {:?}", report.statuses));
    }
    Ok(BenchResult {
        name: "healthz".into(),
        figures: report.figures(),
    })
}
