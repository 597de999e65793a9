//! The scene side of a convergence study: the scene of each level (its voxel
//! size from [`super::plan_sizes`], each checked whole before the first
//! solve, the memory cap included), the solves, and the report `voxfe
//! converge` prints (text and JSON).
//!
//! Any named scalar of `voxfe run --json` can be converged
//! ([`quantity_names`]); by default the load case's own: `e_eff`
//! (compression), `e_flex` (three-point bending), `stiffness` and
//! `apparent_modulus` (implant compression).

use serde_json::{json, Map, Value};

use super::{estimate, plan_sizes, Estimate, PlanError};
use crate::fem::load::LoadCase;
use crate::pipeline::{self, RunError};
use crate::report::RunReport;
use crate::scene::{Scene, SceneError, Shape};

/// Why a convergence study could not be set up or run.
#[derive(Debug, thiserror::Error)]
pub enum ConvergeError {
    #[error(transparent)]
    Scene(#[from] SceneError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The scene at one level's voxel size is refused (the memory cap, a
    /// cell under four voxels …).
    #[error("level {level} (voxel.size = {h} mm)")]
    Level {
        level: usize,
        h: f64,
        #[source]
        source: SceneError,
    },
    /// An image specimen's voxels are the image's: there is no finer grid
    /// of the same specimen to solve.
    #[error("specimen.shape = \"image\": a convergence study refines the voxel size, and an image's voxels are fixed by its scan (allowed: box, cylinder or STL specimens)")]
    ImageSpecimen,
    #[error("quantity={name}: allowed: a field of a run's JSON record ({known})")]
    UnknownQuantity { name: String, known: String },
    #[error("quantity={name}: level {level} reports {value}, not a number (this load case does not give it)")]
    NotANumber {
        name: String,
        level: usize,
        value: String,
    },
    #[error("level {level} (voxel.size = {h} mm)")]
    Run {
        level: usize,
        h: f64,
        #[source]
        source: RunError,
    },
    /// `--compare-fill` sets voxel.fill itself.
    #[error("compare_fill=true with set={set}: allowed: one or the other (compare_fill runs both voxel.fill = \"binary\" and \"fraction\" on the same voxel sizes)")]
    FillConflict { set: String },
    /// `--plot` draws the load case's modulus.
    #[error("the convergence plot draws {modulus}, the modulus of this load case, and quantity={asked} leaves it out; allowed: no quantity, or one list that includes {modulus}")]
    PlotQuantity { modulus: String, asked: String },
    #[error("plot={stem}: {why}; allowed: a file stem in an existing directory (STEM.png and STEM.svg are written)")]
    PlotPath { stem: String, why: String },
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
}

impl ConvergeError {
    /// Whether the input is at fault (exit status 2).
    pub fn is_bad_input(&self) -> bool {
        match self {
            ConvergeError::Run { source, .. } => source.is_bad_input(),
            ConvergeError::Plot(_) => false,
            _ => true,
        }
    }
}

/// Fields of the linear strength estimates (spec: strength estimates),
/// present in `voxfe run --json` only where a run computes them: accepted
/// by `--quantity` before the first solve, and checked in each level's
/// report ([`ConvergeError::NotANumber`] when absent).
pub const STRENGTH_QUANTITIES: [&str; 3] = ["yield_stress", "failure_load", "flexural_strength"];

/// The names `--quantity` accepts: every field of `voxfe run --json` (those
/// of a sweep row's run fields, which a test keeps equal to it) and
/// `STRENGTH_QUANTITIES`.
pub fn quantity_names() -> Vec<String> {
    let mut names: Vec<String> =
        match serde_json::to_value(crate::study::sweep::RunFields::default()) {
            Ok(Value::Object(m)) => m.keys().cloned().collect(),
            _ => unreachable!("a struct serializes to an object"),
        };
    for q in STRENGTH_QUANTITIES {
        if !names.iter().any(|n| n == q) {
            names.push(q.to_string());
        }
    }
    names
}

/// The quantities converged by default for a load case.
pub fn default_quantities(case: &LoadCase) -> Vec<String> {
    match case {
        LoadCase::Compression { .. } => vec!["e_eff".into()],
        LoadCase::ThreePointBending { .. } => vec!["e_flex".into()],
        LoadCase::ImplantCompression { .. } => vec!["stiffness".into(), "apparent_modulus".into()],
        // Homogenized along z; a study of a periodic scene is refused when
        // its first level is prepared (pipeline::load names load.case).
        LoadCase::Periodic => vec!["e_h".into()],
    }
}

/// The modulus of a load case, the quantity a converge sweep's columns
/// (`e_extrapolated` …) are of: E_eff, E_f, or the implant's apparent
/// modulus.
pub fn modulus_quantity(case: &LoadCase) -> &'static str {
    match case {
        LoadCase::Compression { .. } => "e_eff",
        LoadCase::ThreePointBending { .. } => "e_flex",
        LoadCase::ImplantCompression { .. } => "apparent_modulus",
        LoadCase::Periodic => "e_h",
    }
}

/// The scene of every level of the study of the scene `base`: `levels`
/// voxel sizes from the scene's by `ratio` (see [`plan_sizes`]; the
/// lengths kept whole are the box or the cylinder's diameter, and c/2 in
/// three-point bending), each the base scene at that voxel size
/// ([`Scene::with_voxel_size`]), checked here. Returns the scenes and the
/// notes.
pub fn level_scenes(
    base: &Scene,
    levels: usize,
    ratio: f64,
) -> Result<(Vec<Scene>, Vec<String>), ConvergeError> {
    let whole: Vec<f64> = match base.specimen.shape {
        Shape::Box | Shape::Stl => base.box_size().to_vec(),
        Shape::Cylinder => vec![base.specimen.diameter.expect("validated")],
        Shape::Image => return Err(ConvergeError::ImageSpecimen),
    };
    let half_contact = match base.load_case() {
        LoadCase::ThreePointBending { contact, .. } => vec![("c/2", contact / 2.0)],
        _ => vec![],
    };
    let (sizes, notes) = plan_sizes(base.voxel.size, &whole, &half_contact, levels, ratio)?;
    let scenes = sizes
        .iter()
        .enumerate()
        .map(|(i, &h)| {
            base.with_voxel_size(h)
                .map_err(|source| ConvergeError::Level {
                    level: i + 1,
                    h,
                    source,
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((scenes, notes))
}

/// One level of a study: its grid, its solve and the quantities.
#[derive(Debug, Clone)]
pub struct Level {
    pub voxel_size: f64,
    /// h of the level before over this h (`None` for the first).
    pub ratio: Option<f64>,
    pub d_over_h: Option<f64>,
    pub dims: [usize; 3],
    pub porosity_measured: f64,
    pub unknowns: usize,
    pub iterations: usize,
    pub relative_residual: f64,
    pub solve_seconds: f64,
    pub converged: bool,
    /// The fraction exponent the level used (with `"auto"`, calibrated at
    /// its h); `None` for binary voxels.
    pub exponent: Option<f64>,
    /// How it was set ([`crate::calibration::Accuracy::exponent_source`]).
    pub exponent_source: &'static str,
    /// The relative error band of the level's lattice modulus (`"auto"`);
    /// `None` where the run cannot estimate it.
    pub error_band: Option<f64>,
    /// The value of each quantity (`None` when the solve did not converge).
    pub values: Vec<Option<f64>>,
}

/// One quantity's study: its estimate from the three finest levels.
#[derive(Debug, Clone)]
pub struct QuantityStudy {
    pub name: String,
    /// `None` unless the three finest levels converged.
    pub estimate: Option<Estimate>,
}

/// What `voxfe converge` reports.
#[derive(Debug, Clone)]
pub struct ConvergeReport {
    pub scene: String,
    pub load_case: &'static str,
    pub ratio_asked: f64,
    /// The levels solved, coarse to fine; the last did not converge when
    /// `converged` is false (no finer level was solved).
    pub levels: Vec<Level>,
    pub quantities: Vec<QuantityStudy>,
    pub notes: Vec<String>,
    /// Every level converged.
    pub converged: bool,
    /// The run report of the finest level solved.
    pub finest: RunReport,
    /// What ties the study to runs of the same specimen at any h
    /// ([`super::error::study_hash`]).
    pub study_hash: String,
}

/// Runs the study of the scene `base` (see [`level_scenes`]) for the
/// named `quantities` (empty: the load case's, [`default_quantities`]), on
/// the scene's `solver.backend`; `on_level(i, report)` after each solve.
/// Everything is checked before the first solve; a level whose solve does
/// not converge ends the study (`converged: false`).
pub fn run(
    base: &Scene,
    levels: usize,
    ratio: f64,
    quantities: &[String],
    on_level: impl FnMut(usize, &RunReport),
) -> Result<ConvergeReport, ConvergeError> {
    let (scenes, notes, names) = prepare(base, levels, ratio, quantities)?;
    run_levels(&scenes, notes, &names, ratio, on_level)
}

/// A study ready to solve: the level scenes, their notes and the quantity
/// names.
pub(super) type Prepared = (Vec<Scene>, Vec<String>, Vec<String>);

/// The level scenes, their notes and the quantity names of a study, all
/// checked (see [`run`]).
pub(super) fn prepare(
    base: &Scene,
    levels: usize,
    ratio: f64,
    quantities: &[String],
) -> Result<Prepared, ConvergeError> {
    let (scenes, notes) = level_scenes(base, levels, ratio)?;
    let names = if quantities.is_empty() {
        default_quantities(&scenes[0].load_case())
    } else {
        quantities.to_vec()
    };
    let known = quantity_names();
    if let Some(bad) = names.iter().find(|n| !known.contains(n)) {
        return Err(ConvergeError::UnknownQuantity {
            name: bad.clone(),
            known: known.join(", "),
        });
    }
    Ok((scenes, notes, names))
}

/// Solves the level `scenes` (coarse to fine), each on its
/// `solver.backend`, and estimates each of `names` from the three finest
/// (differences within 10× the solver tolerance, relative, count as zero).
pub fn run_levels(
    scenes: &[Scene],
    notes: Vec<String>,
    names: &[String],
    ratio_asked: f64,
    mut on_level: impl FnMut(usize, &RunReport),
) -> Result<ConvergeReport, ConvergeError> {
    let mut levels: Vec<Level> = Vec::new();
    let mut finest = None;
    for (i, scene) in scenes.iter().enumerate() {
        let h = scene.voxel.size;
        let report = pipeline::run(scene).map_err(|source| ConvergeError::Run {
            level: i + 1,
            h,
            source,
        })?;
        on_level(i + 1, &report);
        let json = report.to_json();
        let values = names
            .iter()
            .map(|n| match json.get(n) {
                Some(Value::Number(x)) => Ok(x.as_f64()),
                _ if !report.solve.converged => Ok(None),
                v => Err(ConvergeError::NotANumber {
                    name: n.clone(),
                    level: i + 1,
                    value: v.map_or("nothing".into(), Value::to_string),
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let (v, s) = (&report.voxel, &report.solve);
        levels.push(Level {
            voxel_size: h,
            ratio: levels.last().map(|l| l.voxel_size / h),
            d_over_h: v.d_over_h,
            dims: v.dims,
            porosity_measured: v.porosity_measured,
            unknowns: s.unknowns,
            iterations: s.iterations,
            relative_residual: s.relative_residual,
            solve_seconds: s.solve_seconds,
            converged: s.converged,
            exponent: report.accuracy.exponent,
            exponent_source: report.accuracy.exponent_source,
            error_band: report.accuracy.error_estimate,
            values,
        });
        let stop = !report.solve.converged;
        finest = Some(report);
        if stop {
            break;
        }
    }
    let converged = levels.iter().all(|l| l.converged);
    let n = levels.len();
    let mut notes = notes;
    if levels.iter().any(|l| l.exponent_source == "auto") {
        notes.push(
            "voxel.fraction_exponent = \"auto\": p is calibrated again at each h (column p), so every level aims at the lattice's converged modulus; the study shows what remains (the specimen's cut struts, the search's tolerance), and its order is that of the calibrated sequence, not of a fixed p"
                .into(),
        );
    }
    // A converged solve's quantities carry errors of the order of its
    // tolerance: differences within 10× the largest are not resolved.
    let noise = scenes
        .iter()
        .map(|s| 10.0 * s.solver.tolerance)
        .fold(super::FLAT, f64::max);
    let quantities = names
        .iter()
        .enumerate()
        .map(|(q, name)| {
            let estimate = if converged {
                let last = &levels[n - 3..];
                let h = [0, 1, 2].map(|i| last[i].voxel_size);
                let f = [0, 1, 2].map(|i| last[i].values[q]);
                match f {
                    [Some(a), Some(b), Some(c)] => Some(estimate(h, [a, b, c], noise)),
                    _ => None,
                }
            } else {
                None
            };
            QuantityStudy {
                name: name.clone(),
                estimate,
            }
        })
        .collect();
    let finest = finest.expect("at least three levels");
    Ok(ConvergeReport {
        study_hash: super::error::study_hash(&scenes[0]),
        scene: finest.voxel.name.clone(),
        load_case: finest.load_case,
        ratio_asked,
        levels,
        quantities,
        notes,
        converged,
        finest,
    })
}

impl ConvergeReport {
    /// The study of `name`, if converged.
    pub fn estimate(&self, name: &str) -> Option<&Estimate> {
        self.quantities
            .iter()
            .find(|q| q.name == name)
            .and_then(|q| q.estimate.as_ref())
    }

    /// Everything as one JSON object: the levels (with each quantity's
    /// value), each quantity's estimate, the notes.
    pub fn to_json(&self) -> Map<String, Value> {
        let levels: Vec<Value> = self
            .levels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut m = json!({
                    "level": i + 1,
                    "voxel_size": l.voxel_size,
                    "ratio": l.ratio,
                    "d_over_h": l.d_over_h,
                    "dims": l.dims,
                    "porosity_measured": l.porosity_measured,
                    "unknowns": l.unknowns,
                    "iterations": l.iterations,
                    "relative_residual": l.relative_residual,
                    "solve_seconds": l.solve_seconds,
                    "converged": l.converged,
                    "fraction_exponent": l.exponent,
                    "exponent_source": l.exponent_source,
                    "error_band": l.error_band,
                });
                for (q, v) in self.quantities.iter().zip(&l.values) {
                    m[&q.name] = json!(v);
                }
                m
            })
            .collect();
        let quantities: Map<String, Value> = self
            .quantities
            .iter()
            .map(|q| {
                let v = serde_json::to_value(&q.estimate).expect("serializes");
                (q.name.clone(), v)
            })
            .collect();
        let mut m = Map::new();
        m.insert("scene".into(), self.scene.clone().into());
        m.insert("study_hash".into(), self.study_hash.clone().into());
        m.insert("load_case".into(), self.load_case.into());
        m.insert("ratio_asked".into(), self.ratio_asked.into());
        m.insert("safety_factor".into(), super::SAFETY_FACTOR.into());
        m.insert(
            "order_band".into(),
            json!([super::ORDER_BAND.0, super::ORDER_BAND.1]),
        );
        m.insert("converged".into(), self.converged.into());
        m.insert("levels".into(), levels.into());
        m.insert("quantities".into(), quantities.into());
        m.insert("notes".into(), json!(self.notes));
        m
    }
}

impl std::fmt::Display for ConvergeReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "scene {} ({}), {} levels, ratio {} asked; estimates from the three finest",
            self.scene,
            self.load_case,
            self.levels.len(),
            self.ratio_asked
        )?;
        write!(
            f,
            "{:<5} {:<12} {:<6} {:<6} {:<15} {:<8} {:>7} {:>8} {:>10} {:>6} {:>9}",
            "level",
            "h (mm)",
            "ratio",
            "D/h",
            "grid",
            "porosity",
            "p",
            "band",
            "unknowns",
            "iter",
            "solve (s)"
        )?;
        for q in &self.quantities {
            write!(f, " {:>16}", q.name)?;
        }
        writeln!(f)?;
        for (i, l) in self.levels.iter().enumerate() {
            let [nx, ny, nz] = l.dims;
            write!(
                f,
                "{:<5} {:<12} {:<6} {:<6} {:<15} {:<8.4} {:>7} {:>8} {:>10} {:>6} {:>9.2}",
                i + 1,
                format!("{:.7}", l.voxel_size),
                l.ratio.map_or("-".into(), |r| format!("{r:.3}")),
                l.d_over_h.map_or("-".into(), |r| format!("{r:.2}")),
                format!("{nx}×{ny}×{nz}"),
                l.porosity_measured,
                l.exponent.map_or("-".into(), |p| p.to_string()),
                l.error_band
                    .map_or("-".into(), |b| format!("±{:.1} %", 100.0 * b)),
                l.unknowns,
                l.iterations,
                l.solve_seconds
            )?;
            for v in &l.values {
                write!(f, " {:>16}", v.map_or("-".into(), |v| format!("{v:.4}")))?;
            }
            if !l.converged {
                write!(
                    f,
                    "  NOT CONVERGED (relative residual {:.3e})",
                    l.relative_residual
                )?;
            }
            writeln!(f)?;
        }
        for q in &self.quantities {
            let Some(e) = &q.estimate else {
                writeln!(
                    f,
                    "{}: no estimate (a level did not converge or gave no value)",
                    q.name
                )?;
                continue;
            };
            writeln!(f, "{}: {}", q.name, e.statement)?;
            let opt = |v: Option<f64>, fmt: &dyn Fn(f64) -> String| v.map_or("-".into(), fmt);
            writeln!(
                f,
                "  observed order p             {}",
                opt(e.order, &|p| format!("{p:.3}"))
            )?;
            writeln!(
                f,
                "  extrapolated (Richardson)    {}",
                opt(e.extrapolated, &|v| format!("{v:.4}"))
            )?;
            writeln!(
                f,
                "  error of the finest solve    {}",
                match (e.error_estimate, e.relative_error) {
                    (Some(a), Some(r)) => format!("{a:.4} ({:.2} %)", 100.0 * r),
                    _ => format!("- (spread of the three finest: {:.4})", e.spread),
                }
            )?;
            writeln!(
                f,
                "  GCI of the finest (Fs {})  {}",
                super::SAFETY_FACTOR,
                opt(e.gci_fine, &|g| format!("{:.2} %", 100.0 * g))
            )?;
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(name: &str, set: &[String]) -> Scene {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scenes")
            .join(name);
        Scene::load(&path, set).unwrap()
    }

    #[test]
    fn bending_levels_keep_the_half_contact_and_note_when_they_cannot() {
        let (scenes, notes) = level_scenes(
            &scene("bar-bending.toml", &["voxel.size=1.0".into()]),
            3,
            2.0,
        )
        .unwrap();
        let h: Vec<f64> = scenes.iter().map(|s| s.voxel.size).collect();
        assert_eq!(h, [1.0, 0.5, 0.25]);
        // c/2 = 0.5 mm is half a voxel at h = 1 mm only.
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].starts_with("level 1: c/2 = 0.5 mm"), "{notes:?}");
    }

    #[test]
    fn a_level_over_the_memory_cap_is_refused_by_its_number() {
        // The Ø15 implant: h = 0.1 (about 4.4 GiB estimated), then 15/225
        // mm (225² × 383 voxels, about 15 GiB estimated, over a cap of 8 GiB).
        let e = level_scenes(
            &scene("vbr-25.toml", &["voxel.max_memory_mb=8192".into()]),
            3,
            1.5,
        )
        .unwrap_err();
        let ConvergeError::Level { level, h, .. } = &e else {
            panic!("{e}")
        };
        assert_eq!((*level, *h), (2, 15.0 / 225.0));
        assert!(e.is_bad_input());
        let text = format!("{:#}", anyhow::Error::new(e));
        assert!(text.contains("voxel.max_memory_mb"), "{text}");
    }

    #[test]
    fn quantities_are_the_run_fields_and_the_strength_estimates() {
        let names = quantity_names();
        for q in [
            "e_eff",
            "e_flex",
            "stiffness",
            "apparent_modulus",
            "yield_stress",
        ] {
            assert!(names.iter().any(|n| n == q), "{q}");
        }
        assert!(!names.iter().any(|n| n == "e_extrapolated"));
        assert_eq!(
            modulus_quantity(&LoadCase::ImplantCompression {
                platens: crate::fem::load::Platens::Frictionless,
                footprint_area: 1.0,
                height: 1.0,
                envelope: None,
            }),
            "apparent_modulus"
        );
    }
}
