//! `hangar bench`: the one entry point for every benchmark. A benchmark is a function from
//! `Options` to a `BenchResult` (named figures with units), listed once in `BENCHES`; this
//! module runs the chosen ones and prints a table or, with `--json`, machine-readable figures.
//! Default sizes are small (every bench together well under a minute); `--size large` is for
//! the figures worth quoting.

pub mod healthz;
pub mod heartbeat;
pub mod load;
pub mod server;
pub mod usage;
pub mod usage_world;

use std::path::PathBuf;

use serde_json::{json, Map, Value};

/// A benchmark: name, one-line description, the function that runs it.
pub type Bench = (
    &'static str,
    &'static str,
    fn(&Options) -> Result<BenchResult, String>,
);

/// Every benchmark, in the order `hangar bench` runs them. Add one line per benchmark.
pub const BENCHES: &[Bench] = &[
    (
        "healthz",
        "GET /healthz, 4 keep-alive clients",
        healthz::run,
    ),
    (
        "heartbeat",
        "POST /api/daemon/heartbeat (4 runtimes each), 4 keep-alive daemons",
        heartbeat::run,
    ),
    (
        "usage",
        "usage reports on a seeded world (100k rows; large: 1M and 10M) and ingest over HTTP",
        usage::run,
    ),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Small,
    Large,
}

impl Size {
    pub fn parse(s: &str) -> Result<Size, String> {
        match s {
            "small" => Ok(Size::Small),
            "large" => Ok(Size::Large),
            _ => Err(format!("unknown size {s:?}: use small or large")),
        }
    }

    /// `small` at the default size, `large` with `--size large`.
    pub fn pick<T>(self, small: T, large: T) -> T {
        match self {
            Size::Small => small,
            Size::Large => large,
        }
    }
}

/// What every benchmark is given.
#[derive(Debug, Clone)]
pub struct Options {
    pub size: Size,
    /// Where temporary databases go (default: the system temp dir). Point it at the disk
    /// you deploy on: fsync cost differs between tmpfs and a real disk.
    pub db_dir: Option<PathBuf>,
}

/// One measured figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub label: String,
    pub value: f64,
    /// e.g. `req/s`, `ms`, `MiB`; empty for a plain count.
    pub unit: String,
}

impl Figure {
    pub fn new(label: &str, value: f64, unit: &str) -> Figure {
        Figure {
            label: label.into(),
            value,
            unit: unit.into(),
        }
    }
}

/// What one benchmark measured.
#[derive(Debug, Clone)]
pub struct BenchResult {
    pub name: String,
    pub figures: Vec<Figure>,
}

/// Runs the benchmarks named (all when `names` is empty) and prints their figures.
pub fn run(names: &[String], options: &Options, as_json: bool) -> Result<(), String> {
    let chosen = select(names)?;
    let mut results = Vec::new();
    for (name, description, bench) in chosen {
        eprintln!("bench {name}: {description} …");
        let result = bench(options).map_err(|e| format!("bench {name}: {e}"))?;
        results.push(result);
    }
    if as_json {
        println!("{}", to_json(&results));
    } else {
        print!("{}", table(&results));
    }
    Ok(())
}

fn select(names: &[String]) -> Result<Vec<Bench>, String> {
    if names.is_empty() {
        return Ok(BENCHES.to_vec());
    }
    names
        .iter()
        .map(|n| {
            BENCHES
                .iter()
                .find(|(name, _, _)| name == n)
                .copied()
                .ok_or_else(|| {
                    let known: Vec<&str> = BENCHES.iter().map(|(name, _, _)| *name).collect();
                    format!("unknown bench {n:?}; known: {}", known.join(", "))
                })
        })
        .collect()
}

/// `[{"name": …, "figures": {label: {"value": …, "unit": …}}}]`.
pub fn to_json(results: &[BenchResult]) -> Value {
    Value::Array(
        results
            .iter()
            .map(|r| {
                let figures: Map<String, Value> = r
                    .figures
                    .iter()
                    .map(|f| (f.label.clone(), json!({"value": f.value, "unit": f.unit})))
                    .collect();
                json!({"name": r.name, "figures": figures})
            })
            .collect(),
    )
}

/// An aligned table: bench, figure, value, unit.
pub fn table(results: &[BenchResult]) -> String {
    let mut rows = vec![[
        "bench".to_string(),
        "figure".to_string(),
        "value".to_string(),
        "unit".to_string(),
    ]];
    for r in results {
        for (i, f) in r.figures.iter().enumerate() {
            let name = if i == 0 {
                r.name.clone()
            } else {
                String::new()
            };
            rows.push([name, f.label.clone(), format_value(f.value), f.unit.clone()]);
        }
    }
    let width = |col: usize| {
        rows.iter()
            .map(|r| r[col].chars().count())
            .max()
            .unwrap_or(0)
    };
    let (w0, w1, w2) = (width(0), width(1), width(2));
    rows.iter()
        .map(|[a, b, c, d]| {
            format!("{a:<w0$}  {b:<w1$}  {c:>w2$}  {d}")
                .trim_end()
                .to_string()
                + "\n"
        })
        .collect()
}

/// Whole numbers without decimals, others with enough to read (3 significant decimals).
fn format_value(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v.abs() >= 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<BenchResult> {
        vec![BenchResult {
            name: "healthz".into(),
            figures: vec![
                Figure::new("requests", 1200.0, ""),
                Figure::new("throughput", 600.26, "req/s"),
                Figure::new("p50", 0.1234, "ms"),
            ],
        }]
    }

    #[test]
    fn table_aligns_columns_and_names_each_bench_once() {
        assert_eq!(
            table(&sample()),
            "bench    figure      value  unit\n\
             healthz  requests     1200\n\
             \x20        throughput  600.3  req/s\n\
             \x20        p50         0.123  ms\n"
        );
    }

    #[test]
    fn json_maps_labels_to_value_and_unit() {
        let v = to_json(&sample());
        assert_eq!(v[0]["name"], "healthz");
        assert_eq!(
            v[0]["figures"]["throughput"],
            json!({"value": 600.26, "unit": "req/s"})
        );
    }

    #[test]
    fn unknown_names_are_refused_with_the_known_list() {
        let err = select(&["nope".into()]).err().unwrap_or_default();
        assert!(err.contains("known: healthz"), "{err}");
        assert_eq!(select(&[]).map(|b| b.len()).ok(), Some(BENCHES.len()));
    }
}
