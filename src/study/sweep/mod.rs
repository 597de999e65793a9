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
//! A sweep is checked whole before its first solve ([`plan`]): the base
//! scene, every `--vary` key once, and the scene of every case must load.
//! Its output directory is then claimed ([`prepare_out`]): `sweep.json`
//! (the [`Manifest`], what identifies the sweep) is written first, each
//! case's row is appended and flushed to `results.jsonl` and `results.csv`
//! as the case finishes ([`ResultsWriter`]), and the same sweep run again
//! on that directory resumes: the cases already there are skipped.
//!
//! This file holds the variations, the cases, the shards, the manifest and
//! the case loop ([`Plan::run`]: a periodic case is homogenized, the
//! others voxelized, loaded and solved); `outdir.rs` claims the output directory
//! and reads back an interrupted run's rows, `row.rs` the results row of a
//! case, `band.rs` the error band of its modulus and the marks of bands
//! above [`band::BAND_THRESHOLD`], `homogenized.rs` the columns of a periodic case (C^H, E_h,
//! the Zener ratio …), `outputs.rs` the files a sweep
//! writes (CSV, JSON Lines, plots, `summary.md`) and `merge.rs` the
//! combining of shards.

pub mod band;
mod homogenized;
mod merge;
mod outdir;
mod outputs;
mod plots;
mod row;

pub use homogenized::HomogenizedFields;
pub use merge::{merge, merge_rows, merge_warnings, read_jsonl};
pub use outdir::{prepare_out, Prepared, Reuse};
pub use outputs::{
    columns, summary, write_csv, write_jsonl, write_outputs, ResultsWriter, OWN_FILES,
};
pub use plots::write_plots;
pub use row::{case_row, failed_row, Row, RunFields, Status};

use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::pipeline;
use crate::provenance::Provenance;
use crate::scene::{Scene, SceneError, Setting};

/// Most cases a sweep plans (the product of its variations), checked before
/// any case is made: a sweep is resumable and shardable, but a typo such as
/// `0.7:0.9:100000000` must not allocate gigabytes first.
pub const MAX_CASES: usize = 100_000;

/// Why a sweep could not be set up or its results read.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("vary='{}': {why}; expected KEY=a,b,c or KEY=start:stop:count, e.g. lattice.porosity=0.70:0.88:7", crate::text::excerpt(.arg))]
    BadVary { arg: String, why: String },
    #[error("shard='{}': expected I/N with 0 ≤ I < N, e.g. 0/4", crate::text::excerpt(.arg))]
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
    #[error("scene '{scene}': nothing to vary: give vary KEY=VALUES or a [sweep] vary list in the scene")]
    NothingToVary { scene: String },
    #[error("vary='{}': key {} is already varied by vary='{}'; give each key once (all its values in one list)", crate::text::excerpt(.second), crate::text::escape(.key), crate::text::excerpt(.first))]
    DuplicateVary {
        key: String,
        first: String,
        second: String,
    },
    /// A case whose scene does not load: a bad `--vary` key or value.
    #[error("case {case} of the variations ({}) does not load", crate::text::excerpt(.settings))]
    BadCase {
        case: usize,
        settings: String,
        source: SceneError,
    },
    /// A case whose convergence study (`[sweep] converge`) cannot be set
    /// up: no admissible voxel size, a level over the memory cap.
    #[error("[sweep] converge: case {case} ({settings})")]
    BadStudy {
        case: usize,
        settings: String,
        source: Box<crate::study::converge::ConvergeError>,
    },
    /// `[sweep] plastic` on a case that cannot give a curve.
    #[error("[sweep] plastic = true: case {case} ({settings}): {why}")]
    BadPlastic {
        case: usize,
        settings: String,
        why: String,
    },
    /// `[sweep] converge` on a periodic case: no study of C^H yet.
    #[error("[sweep] converge: case {case} ({settings}) is periodic (load.case = \"periodic\"); a convergence study does not take periodic scenes yet: remove [sweep] converge to homogenize each case once")]
    PeriodicStudy { case: usize, settings: String },
    /// More cases than [`MAX_CASES`] (the product of the variations).
    #[error("the variations give {} cases ({product}); allowed: at most {limit} cases in one sweep: vary fewer values, or split it into several sweeps", .total.map_or("more than 2^64".to_string(), |t| t.to_string()))]
    TooManyCases {
        total: Option<usize>,
        product: String,
        limit: usize,
    },
    /// An `--out` that cannot take this sweep (found before the first solve).
    #[error("out='{path}': {why}")]
    OutDir { path: String, why: String },
}

impl SweepError {
    /// Whether the error is the input's (exit status 2): the scene, the
    /// variations, the shard, an `--out` that cannot be used, results that
    /// do not read or fit together; not a failure to write.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, SweepError::Io { .. } | SweepError::Plot(_))
    }
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
            if count > MAX_CASES {
                return Err(bad(&format!(
                    "count {count} is over the {MAX_CASES} cases a sweep may have"
                )));
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

    /// The case's settings as typed scene edits ([`Scene::with_settings`]),
    /// each value read as an override reads it.
    pub fn scene_settings(&self) -> Result<Vec<Setting>, SceneError> {
        self.set_args().iter().map(|a| Setting::parse(a)).collect()
    }

    /// The base scene with the case's settings.
    pub fn scene(&self, base: &Scene) -> Result<Scene, SceneError> {
        base.with_settings(&self.scene_settings()?)
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
///
/// The scene's name, its file's hash, the `--set` overrides, the
/// variations, the number of cases and the shard identify a sweep: an
/// output directory whose manifest agrees on all of them holds the same
/// sweep and can be resumed ([`Manifest::differs`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub scene: String,
    /// FNV-1a 64 of the scene file's bytes (`fnv1a64:` and 16 hex digits);
    /// empty in directories written before it was recorded.
    #[serde(default)]
    pub scene_hash: String,
    pub set: Vec<String>,
    pub variations: Vec<Variation>,
    pub total: usize,
    pub shard: Option<Shard>,
    /// What produced the sweep: the base scene with `--set`, the
    /// overrides `--set` and `--vary`, the backend asked for, the date of
    /// the run that wrote this file. Not compared by [`Manifest::differs`];
    /// absent in directories written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provenance: Option<Provenance>,
}

impl Manifest {
    /// What differs between two sweeps (`None`: the same sweep), as words
    /// for an error message.
    pub fn differs(&self, other: &Manifest) -> Option<String> {
        let mut d = Vec::new();
        if self.scene != other.scene {
            d.push(format!("scene '{}' vs '{}'", self.scene, other.scene));
        }
        if self.scene_hash != other.scene_hash {
            d.push("the scene file's text (hash) differs".to_string());
        }
        if self.set != other.set {
            d.push(format!(
                "set=[{}] vs [{}]",
                self.set.join(" "),
                other.set.join(" ")
            ));
        }
        if self.variations != other.variations || self.total != other.total {
            let v = |m: &Manifest| {
                m.variations
                    .iter()
                    .map(|v| format!("{}={}", v.key, v.values.join(",")))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            d.push(format!("vary=[{}] vs [{}]", v(self), v(other)));
        }
        if self.shard != other.shard {
            let s = |m: &Manifest| {
                m.shard
                    .map_or("none".to_string(), |s| format!("{}/{}", s.index, s.count))
            };
            d.push(format!("shard={} vs {}", s(self), s(other)));
        }
        (!d.is_empty()).then(|| d.join("; "))
    }
}

/// A sweep checked and ready to run: the manifest and the cases of this
/// shard, each of whose scenes loads.
#[derive(Debug, Clone)]
pub struct Plan {
    pub manifest: Manifest,
    /// The cases this run owns (all, or those of the shard).
    pub cases: Vec<Case>,
    /// The base scene (with its overrides and solve settings).
    base: Scene,
}

/// What one case gave: its row, and the warnings of its voxelization and
/// solve (to print; the row keeps the voxelization's).
#[derive(Debug, Clone)]
pub struct CaseOutcome {
    pub row: Row,
    pub warnings: Vec<String>,
}

/// Checks the sweep of the scene `base` before any solve: the variations
/// `vary` (`KEY=VALUES`; empty: the scene's `[sweep] vary` list; each key
/// once), the shard (`I/N`) and the scene of every case this shard runs
/// (an unknown key or a bad value fails here, naming the case). Each case
/// is the base scene with its settings ([`Case::scene`]), solved on the
/// base scene's `solver.backend`.
pub fn plan(base: &Scene, vary: &[String], shard: Option<&str>) -> Result<Plan, SweepError> {
    let vary = if vary.is_empty() {
        &base.sweep.vary[..]
    } else {
        vary
    };
    if vary.is_empty() {
        return Err(SweepError::NothingToVary {
            scene: base.path().display().to_string(),
        });
    }
    let variations: Vec<Variation> = vary
        .iter()
        .map(|v| Variation::parse(v))
        .collect::<Result<_, _>>()?;
    for (j, v) in variations.iter().enumerate() {
        if let Some(i) = variations[..j].iter().position(|w| w.key == v.key) {
            return Err(SweepError::DuplicateVary {
                key: v.key.clone(),
                first: vary[i].clone(),
                second: vary[j].clone(),
            });
        }
    }
    let total = variations
        .iter()
        .try_fold(1usize, |n, v| n.checked_mul(v.values.len()));
    if total.is_none_or(|t| t > MAX_CASES) {
        return Err(SweepError::TooManyCases {
            total,
            product: variations
                .iter()
                .map(|v| format!("{} values of {}", v.values.len(), v.key))
                .collect::<Vec<_>>()
                .join(" × "),
            limit: MAX_CASES,
        });
    }
    let shard = shard.map(Shard::parse).transpose()?;
    let all = cases(&variations);
    let total = all.len();
    let mine: Vec<Case> = all
        .into_iter()
        .filter(|c| shard.is_none_or(|s| s.owns(c.index)))
        .collect();
    for case in &mine {
        let scene = case.scene(base).map_err(|source| SweepError::BadCase {
            case: case.index,
            settings: case.set_args().join(" "),
            source,
        })?;
        if scene.sweep.plastic {
            let plastic_check = if scene.load_case().is_periodic() {
                Err("a periodic case has no elastoplastic curve (voxfe plastic takes loaded specimens)".to_string())
            } else if scene.sweep.converge.is_some() {
                Err("with [sweep] converge: give one or the other".to_string())
            } else {
                scene
                    .plastic
                    .unwrap_or_default()
                    .check()
                    .map_err(|e| e.to_string())
            };
            if let Err(why) = plastic_check {
                return Err(SweepError::BadPlastic {
                    case: case.index,
                    settings: case.set_args().join(" "),
                    why,
                });
            }
        }
        if scene.sweep.converge.is_some() && scene.load_case().is_periodic() {
            return Err(SweepError::PeriodicStudy {
                case: case.index,
                settings: case.set_args().join(" "),
            });
        }
        if let Some(c) = scene.sweep.converge {
            crate::study::converge::level_scenes(&scene, c.levels, c.ratio).map_err(|source| {
                SweepError::BadStudy {
                    case: case.index,
                    settings: case.set_args().join(" "),
                    source: Box::new(source),
                }
            })?;
        }
    }
    Ok(Plan {
        manifest: Manifest {
            scene: base.name.clone(),
            scene_hash: base.file_hash().to_string(),
            set: base.overrides().to_vec(),
            variations,
            total,
            shard,
            provenance: Some({
                let mut p = Provenance::of_scene(base);
                p.overrides
                    .extend(vary.iter().map(|v| format!("--vary {v}")));
                p.backend = Some(base.solver.backend.name().to_string());
                p
            }),
        },
        cases: mine,
        base: base.clone(),
    })
}

impl Plan {
    /// Runs the case: voxelize, load case, solve. A failure is recorded in
    /// the row; one after the voxelization keeps its diagnostics (the
    /// voxelization's fields of the row).
    pub fn run_case(&self, case: &Case) -> CaseOutcome {
        let mut warnings = Vec::new();
        let mut provenance = None;
        let mut row = match self.solve_case(case, &mut warnings, &mut provenance) {
            Ok(fields) => case_row(case, Ok(fields)),
            Err((error, partial)) => failed_row(case, error, partial.map(|b| *b)),
        };
        // The backend that solved; else the one asked for.
        row.provenance = provenance.map(|p: Provenance| match &row.run {
            Some(run) if !run.solve.backend.is_empty() => {
                p.with_backend(&run.solve.backend, &run.solve.adapter)
            }
            _ => p,
        });
        CaseOutcome { row, warnings }
    }

    /// [`crate::pipeline::run`]'s two steps, so that a failed solve
    /// keeps the voxelization's report; with `[sweep] converge`, the case's
    /// convergence study ([`crate::study::converge::run_levels`]) and the fields of
    /// its finest solve with the study's columns.
    fn solve_case(
        &self,
        case: &Case,
        warnings: &mut Vec<String>,
        provenance: &mut Option<Provenance>,
    ) -> Result<RunFields, (String, Option<Box<RunFields>>)> {
        let scene = case.scene(&self.base).map_err(|e| (e.to_string(), None))?;
        let b = scene.solver.backend;
        let mut p = Provenance::of_scene(&scene);
        p.backend = Some(b.name().to_string());
        *provenance = Some(p);
        if let Some(c) = scene.sweep.converge {
            use crate::study::converge::{level_scenes, modulus_quantity, run_levels};
            let failed = |e: crate::study::converge::ConvergeError| {
                (format!("{:#}", anyhow::Error::new(e)), None)
            };
            let (scenes, notes) = level_scenes(&scene, c.levels, c.ratio).map_err(failed)?;
            warnings.extend(notes.iter().cloned());
            let q = modulus_quantity(&scene.load_case());
            let study = run_levels(&scenes, notes, &[q.into()], c.ratio, |i, r| {
                for w in r.voxel.warnings.iter().chain(&r.notices) {
                    warnings.push(format!("level {i}: {w}"));
                }
            })
            .map_err(failed)?;
            return Ok(RunFields::from_study(&study, q));
        }
        if scene.load_case().is_periodic() {
            // Homogenized: C^H and what it gives, the row's own columns.
            let report =
                crate::homogenize::run::homogenize(&scene).map_err(|e| (e.to_string(), None))?;
            warnings.extend(report.voxel.warnings.iter().cloned());
            warnings.extend(report.notices.iter().cloned());
            return Ok(RunFields::from_homogenized(&report));
        }
        let prepared = pipeline::prepare(&scene).map_err(|e| (e.to_string(), None))?;
        warnings.extend(prepared.voxel.warnings.iter().cloned());
        let mut notices = Vec::new();
        let solved = prepared.solve(&scene, &mut notices);
        warnings.extend(notices.iter().cloned());
        match solved {
            Ok(solve) => {
                let mut report = prepared.into_report(solve, notices);
                pipeline::add_as_built(&scene, &mut report).map_err(|e| (e.to_string(), None))?;
                warnings.extend(
                    report
                        .notices
                        .iter()
                        .filter(|n| n.starts_with("as built:"))
                        .cloned(),
                );
                let mut fields = RunFields::from(&report);
                if scene.sweep.plastic {
                    match crate::plastic::run::run(&scene) {
                        Ok(p) => {
                            fields.plastic = Some((&p).into());
                            if let Some(why) = p.failure {
                                return Err((format!("plastic: {why}"), Some(Box::new(fields))));
                            }
                        }
                        Err(e) => return Err((format!("plastic: {e}"), Some(Box::new(fields)))),
                    }
                }
                Ok(fields)
            }
            Err(e) => Err((
                e.to_string(),
                Some(Box::new(RunFields::from_voxel(
                    &prepared.voxel,
                    prepared.load.name(),
                    prepared.material.e,
                ))),
            )),
        }
    }

    /// Runs the cases not in `done` (case indices), in order, calling
    /// `on_case(case, total, outcome)` after each; returns their rows.
    /// `on_case` returns an error to stop the sweep (a row that could not
    /// be saved).
    pub fn run<E>(
        &self,
        done: &[usize],
        mut on_case: impl FnMut(&Case, usize, &CaseOutcome) -> Result<(), E>,
    ) -> Result<Vec<Row>, E> {
        let mut rows = Vec::new();
        for case in self.cases.iter().filter(|c| !done.contains(&c.index)) {
            let outcome = self.run_case(case);
            on_case(case, self.manifest.total, &outcome)?;
            rows.push(outcome.row);
        }
        Ok(rows)
    }
}

/// Runs the sweep of the scene `base` (see [`plan`]) without writing
/// anything: every case of the shard, `on_case(case, total, row)` after
/// each. A case that fails is recorded in its row and the others still run.
pub fn run(
    base: &Scene,
    vary: &[String],
    shard: Option<&str>,
    mut on_case: impl FnMut(&Case, usize, &Row),
) -> Result<(Manifest, Vec<Row>), SweepError> {
    let plan = plan(base, vary, shard)?;
    let rows = plan.run(&[], |case, total, outcome| {
        on_case(case, total, &outcome.row);
        Ok::<(), SweepError>(())
    })?;
    Ok((plan.manifest, rows))
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
    use crate::provenance::scene_hash;

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
    fn sweeps_over_the_case_limit_are_refused_before_any_case_is_made() {
        let e = Variation::parse("lattice.porosity=0.7:0.9:100000000").unwrap_err();
        assert!(
            e.to_string().contains("count 100000000 is over the 100000"),
            "{e}"
        );
        let base = Scene::load(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenes/rd-compression.toml"),
            &[],
        )
        .unwrap();
        let vary = [
            "lattice.porosity=0.7:0.9:1000".to_string(),
            "voxel.size=0.05:0.1:1000".to_string(),
        ];
        let e = plan(&base, &vary, None).unwrap_err();
        assert!(e.is_bad_input());
        let m = e.to_string();
        assert!(
            m.contains(
                "1000000 cases (1000 values of lattice.porosity × 1000 values of voxel.size)"
            ) && m.contains("at most 100000"),
            "{m}"
        );
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

    pub(super) fn manifest() -> Manifest {
        Manifest {
            scene: "s".into(),
            scene_hash: scene_hash(b"name = 's'"),
            set: vec!["voxel.size=0.1".into()],
            variations: vec![Variation::parse("lattice.porosity=0.7,0.8").unwrap()],
            total: 2,
            shard: None,
            provenance: None,
        }
    }

    #[test]
    fn manifests_name_what_differs() {
        let a = manifest();
        assert_eq!(a.differs(&a.clone()), None);
        let b = Manifest {
            scene_hash: scene_hash(b"name = 't'"),
            shard: Some(Shard { index: 0, count: 2 }),
            ..a.clone()
        };
        let why = a.differs(&b).unwrap();
        assert!(
            why.contains("hash") && why.contains("shard=none vs 0/2"),
            "{why}"
        );
    }
}
