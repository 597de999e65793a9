//! Sweeps: the product of scene variations, sharded over machines.
//!
//! A sweep is a base scene plus `--vary KEY=VALUES` arguments. `VALUES` is a
//! comma-separated list (`bcc,octet,diamond`) or a numeric range
//! `start:stop:count` with both ends included (`0.70:0.88:7`). The cases are
//! the Cartesian product of the variations, the first `--vary` varying
//! slowest; case `i` of `n` is the same on every machine, so `--shard I/N`
//! (run the cases with `i % N == I`) and [`merge()`] give back the unsharded
//! sweep row for row.
//!
//! This file holds the variations, the cases, the shards, the manifest and
//! the case loop ([`run`]);
//! `row.rs` the results row of a case, `outputs.rs` the files a sweep
//! writes (CSV, JSON Lines, plots, `summary.md`) and `merge.rs` the
//! combining of shards.

mod merge;
mod outputs;
mod row;

pub use merge::{merge, merge_rows, read_jsonl};
pub use outputs::{summary, write_csv, write_jsonl, write_outputs, write_plots};
pub use row::{case_row, Row, RunFields, Status};

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::pipeline::run_scene;
use crate::scene::{Backend, Scene, SceneError};

/// Why a sweep could not be set up or its results read.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("--vary '{arg}': {why}; expected KEY=a,b,c or KEY=start:stop:count, e.g. lattice.porosity=0.70:0.88:7")]
    BadVary { arg: String, why: String },
    #[error("--shard '{arg}': expected I/N with 0 ≤ I < N, e.g. 0/4")]
    BadShard { arg: String },
    #[error("cannot {what} '{path}': {error}")]
    Io {
        what: &'static str,
        path: String,
        error: std::io::Error,
    },
    #[error("'{path}' line {line}: {why}")]
    BadResults {
        path: String,
        line: usize,
        why: String,
    },
    #[error("shards do not fit together: {0}")]
    Mismatch(String),
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
    /// The base scene does not load.
    #[error(transparent)]
    Scene(#[from] SceneError),
    #[error("scene '{scene}': nothing to vary: give --vary KEY=VALUES or a [sweep] vary list in the scene")]
    NothingToVary { scene: String },
}

/// One `--vary` argument.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variation {
    pub key: String,
    /// Values as `--set` would take them.
    pub values: Vec<String>,
}

impl Variation {
    /// Parses `KEY=a,b,c` or `KEY=start:stop:count`.
    pub fn parse(arg: &str) -> Result<Variation, SweepError> {
        let bad = |why: &str| SweepError::BadVary {
            arg: arg.to_string(),
            why: why.to_string(),
        };
        let (key, spec) = arg.split_once('=').ok_or_else(|| bad("no '='"))?;
        let key = key.trim();
        if key.is_empty() || key.split('.').any(str::is_empty) {
            return Err(bad("empty key"));
        }
        let spec = spec.trim();
        let values = if !spec.starts_with('[') && spec.split(':').count() == 3 {
            let parts: Vec<&str> = spec.split(':').collect();
            let start: f64 = parts[0]
                .trim()
                .parse()
                .map_err(|_| bad("start is not a number"))?;
            let stop: f64 = parts[1]
                .trim()
                .parse()
                .map_err(|_| bad("stop is not a number"))?;
            let count: usize = parts[2]
                .trim()
                .parse()
                .map_err(|_| bad("count is not a whole number"))?;
            if count == 0 || !start.is_finite() || !stop.is_finite() {
                return Err(bad("count must be at least 1 and the ends finite"));
            }
            if count == 1 && start != stop {
                return Err(bad("a range of one value needs start = stop"));
            }
            (0..count)
                .map(|i| {
                    let t = if count == 1 {
                        0.0
                    } else {
                        i as f64 / (count - 1) as f64
                    };
                    // Round away the last-bit noise of the interpolation so the
                    // value reads as it would be typed (0.73, not 0.7299999…).
                    let v = start + (stop - start) * t;
                    format!("{}", (v * 1e12).round() / 1e12)
                })
                .collect()
        } else {
            let values: Vec<String> = spec.split(',').map(|v| v.trim().to_string()).collect();
            if values.iter().any(String::is_empty) {
                return Err(bad("empty value in the list"));
            }
            values
        };
        Ok(Variation {
            key: key.to_string(),
            values,
        })
    }
}

/// One case of a sweep: its index and its `key=value` settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub index: usize,
    pub settings: Vec<(String, String)>,
}

impl Case {
    /// The settings as `--set` arguments.
    pub fn set_args(&self) -> Vec<String> {
        self.settings
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
    }
}

/// The Cartesian product of the variations, the first varying slowest.
pub fn cases(variations: &[Variation]) -> Vec<Case> {
    let total: usize = variations.iter().map(|v| v.values.len()).product();
    (0..total)
        .map(|index| {
            let mut rest = index;
            let mut settings = vec![(String::new(), String::new()); variations.len()];
            for (slot, v) in settings.iter_mut().zip(variations).rev() {
                let n = v.values.len();
                *slot = (v.key.clone(), v.values[rest % n].clone());
                rest /= n;
            }
            Case { index, settings }
        })
        .collect()
}

/// `--shard I/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Parses `I/N`.
    pub fn parse(arg: &str) -> Result<Shard, SweepError> {
        let bad = || SweepError::BadShard {
            arg: arg.to_string(),
        };
        let (i, n) = arg.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// Whether case `index` belongs to this shard.
    pub fn owns(&self, index: usize) -> bool {
        index % self.count == self.index
    }
}

/// What a sweep directory says about itself (`sweep.json`), so that shards
/// can be checked against each other before they are merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub scene: String,
    pub set: Vec<String>,
    pub variations: Vec<Variation>,
    pub total: usize,
    pub shard: Option<Shard>,
}

/// Runs the sweep of the scene at `path`: the base scene with the `set`
/// overrides, varied by `vary` (`KEY=VALUES`; empty: the scene's `[sweep]
/// vary` list), only the cases of `shard` (`I/N`) when given, each solved on
/// `backend` (default: the scene's `solver.backend`). A case that fails is
/// recorded in its row and the others still run. `on_case(case, total,
/// row)` is called after each case.
///
/// Errors are the sweep's set-up: the base scene, the variations, the shard.
pub fn run(
    path: &Path,
    vary: &[String],
    set: &[String],
    shard: Option<&str>,
    backend: Option<Backend>,
    mut on_case: impl FnMut(&Case, usize, &Row),
) -> Result<(Manifest, Vec<Row>), SweepError> {
    // The base scene must load on its own.
    let base = Scene::load(path, set)?;
    let vary = if vary.is_empty() {
        &base.sweep.vary[..]
    } else {
        vary
    };
    if vary.is_empty() {
        return Err(SweepError::NothingToVary {
            scene: path.display().to_string(),
        });
    }
    let variations: Vec<Variation> = vary
        .iter()
        .map(|v| Variation::parse(v))
        .collect::<Result<_, _>>()?;
    let shard = shard.map(Shard::parse).transpose()?;
    let all = cases(&variations);
    let mut rows = Vec::new();
    for case in all.iter().filter(|c| shard.is_none_or(|s| s.owns(c.index))) {
        let mut args = set.to_vec();
        args.extend(case.set_args());
        let outcome = Scene::load(path, &args)
            .map_err(|e| e.to_string())
            .and_then(|scene| {
                let b = backend.unwrap_or(scene.solver.backend);
                run_scene(&scene, b).map_err(|e| e.to_string())
            })
            .map(|report| RunFields::from(&report));
        let row = case_row(case, outcome);
        on_case(case, all.len(), &row);
        rows.push(row);
    }
    let manifest = Manifest {
        scene: base.name.clone(),
        set: set.to_vec(),
        variations,
        total: all.len(),
        shard,
    };
    Ok((manifest, rows))
}

pub(crate) fn io(what: &'static str, path: &Path, source: std::io::Error) -> SweepError {
    SweepError::Io {
        what,
        path: path.display().to_string(),
        error: source,
    }
}

pub(crate) fn bad_results(path: &Path, line: usize, why: String) -> SweepError {
    SweepError::BadResults {
        path: path.display().to_string(),
        line: line + 1,
        why,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_lists() {
        let v = Variation::parse("lattice.porosity=0.70:0.88:7").unwrap();
        assert_eq!(
            v.values,
            ["0.7", "0.73", "0.76", "0.79", "0.82", "0.85", "0.88"]
        );
        let v = Variation::parse("lattice.kind=bcc, octet,diamond").unwrap();
        assert_eq!(v.values, ["bcc", "octet", "diamond"]);
        assert!(Variation::parse("lattice.porosity=0.7:0.8:0").is_err());
        assert!(Variation::parse("lattice.porosity").is_err());
        assert!(Variation::parse("=1,2").is_err());
        assert!(Variation::parse("a=1,,2").is_err());
    }

    #[test]
    fn product_first_varies_slowest() {
        let v = [
            Variation::parse("a=1,2").unwrap(),
            Variation::parse("b=x,y,z").unwrap(),
        ];
        let c = cases(&v);
        assert_eq!(c.len(), 6);
        assert_eq!(c[0].set_args(), ["a=1", "b=x"]);
        assert_eq!(c[2].set_args(), ["a=1", "b=z"]);
        assert_eq!(c[3].set_args(), ["a=2", "b=x"]);
        assert_eq!(c[5].index, 5);
    }

    #[test]
    fn shards_partition_the_cases() {
        assert!(Shard::parse("2/2").is_err());
        assert!(Shard::parse("0/0").is_err());
        let s: Vec<Shard> = (0..3)
            .map(|i| Shard::parse(&format!("{i}/3")).unwrap())
            .collect();
        for case in 0..10 {
            assert_eq!(s.iter().filter(|s| s.owns(case)).count(), 1);
        }
    }
}
