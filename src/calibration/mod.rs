//! The fraction exponent `"auto"` and the error band of a lattice result
//! (spec, "Sub-voxel solid fraction", "Resolution and the error of a
//! result").
//!
//! A fractional voxel's stiffness is φₑ^p·Kₑ. With `voxel.fraction_exponent
//! = "auto"` (the default) [`resolve`] finds p for the run's lattice at its
//! voxel size h before the run voxelizes:
//!
//! 1. **Reference.** The converged modulus E_ref/E_s of one periodic cell
//!    of the lattice ([`reference`](mod@reference)), which does not depend on h: read from
//!    the shipped table ([`table`], interpolated in log–log), else from the
//!    cache ([`cache`]), else computed (three fine cells) and cached.
//! 2. **Search at h.** E_h(p)/E_s of one periodic cell at n = M/h voxels
//!    per side, voxelized once, is decreasing in p; the p with E_h(p) within
//!    [`SEARCH_TOLERANCE`] of the reference is found by regula falsi
//!    ([`crate::study::root::Bracket`]). Each trial is one unit-strain
//!    solve: the seven lattices have cubic symmetry
//!    ([`crate::homogenize::solve::PeriodicAxial`]). The result is cached
//!    under the cell's key (lattice, porosity, n, origin within the cell,
//!    threshold, element, ν, tolerance, and the reference it aimed at), so
//!    a second run of the same lattice at the same h solves nothing, and a
//!    calibration against another reference (an older table) is not reused.
//!
//! The run's [`Accuracy`] states the error band that follows (the
//! reference's uncertainty, the interpolation error, the search's miss and
//! the specimen effect measured against body-fitted references), or, for a
//! run that cannot estimate it (binary voxels, an exponent set by hand, an
//! image), how large the error is known to be at its D/h and which settings
//! fix it.

pub mod accuracy;
pub mod cache;
pub mod cell;
pub mod reference;
pub mod table;

use std::borrow::Cow;
use std::sync::OnceLock;
use std::time::Instant;

use serde::Serialize;

use crate::lattice::LatticeKind;
use crate::pipeline::solver::SolverError;
use crate::pipeline::voxelize::VoxelizeError;
use crate::scene::{Exponent, Fill, Scene, SceneError, Shape};
use crate::study::root::Bracket;
pub use accuracy::{
    known_error_binary, known_error_hand, known_error_image, Accuracy, Calibrated, CellSolve,
    ErrorTerms, Reference, Resolved, SPECIMEN_EFFECT,
};
use cache::Cache;
use cell::Cell;
use reference::{compute_reference, ReferenceKey};
use table::Table;

/// Relative distance of E_h(p) from the reference at which the search
/// stops.
pub const SEARCH_TOLERANCE: f64 = 1e-3;

/// Most cells solved at h by one search.
pub const MAX_TRIALS: usize = 12;

/// Trial exponents are rounded to this step, so the p reported is the p
/// whose E_h was computed, and can be set by hand as printed.
pub const EXPONENT_STEP: f64 = 1e-4;

/// The range searched: the range `voxel.fraction_exponent` takes.
pub const EXPONENT_RANGE: (f64, f64) = (1.0, 4.0);

/// The fewest voxels per cell side a calibration takes.
pub const MIN_CELL_VOXELS: usize = 4;

/// Why the exponent could not be calibrated.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    #[error(transparent)]
    Scene(#[from] SceneError),
    #[error(transparent)]
    Voxelize(#[from] VoxelizeError),
    #[error("calibrating voxel.fraction_exponent = \"auto\": {0}")]
    Solver(#[from] SolverError),
    #[error("voxel.fraction_exponent = \"auto\" calibrates a lattice's cell; lattice.kind = \"solid\" has none (set the exponent by hand)")]
    NoLattice,
    #[error("voxel.fraction_exponent = \"auto\": the lattice cell is {n} voxels across at voxel.size = {h} mm (M = {m} mm); a calibration needs at least {MIN_CELL_VOXELS}: refine voxel.size")]
    TooCoarse { n: f64, h: f64, m: f64 },
    #[error("calibrating voxel.fraction_exponent = \"auto\": the periodic cell M/{n} with p = {p} did not converge: relative residual {residual:.3e} after {iterations} iterations; raise solver.max_iterations or loosen solver.tolerance")]
    NotConverged {
        n: usize,
        p: f64,
        residual: f64,
        iterations: usize,
    },
    #[error("voxel.fraction_exponent = \"auto\": no exponent in [1, 4] gives the lattice's converged modulus at voxel.size = {h} mm (M/{n}): p = {p} gives {miss:+.1} %, already {side}; the grid is too coarse for this lattice: refine voxel.size, or set voxel.fraction_exponent by hand")]
    OutOfRange {
        h: f64,
        n: usize,
        p: f64,
        miss: f64,
        side: &'static str,
    },
    #[error("voxel.fraction_exponent = \"auto\": the search did not reach {tolerance:e} of the reference in {trials} trials: closest p = {p} gives {miss:+.3} %")]
    NoConvergence {
        tolerance: f64,
        trials: usize,
        p: f64,
        miss: f64,
    },
}

impl CalibrationError {
    /// Whether a cell's solve or the search did not converge (exit status
    /// 3, as a run's solve).
    pub fn is_not_converged(&self) -> bool {
        matches!(
            self,
            CalibrationError::NotConverged { .. } | CalibrationError::NoConvergence { .. }
        )
    }

    /// Whether the input is at fault (exit status 2).
    pub fn is_bad_input(&self) -> bool {
        match self {
            CalibrationError::Scene(_)
            | CalibrationError::Voxelize(_)
            | CalibrationError::NoLattice
            | CalibrationError::TooCoarse { .. }
            | CalibrationError::OutOfRange { .. } => true,
            CalibrationError::Solver(e) => e.is_bad_input(),
            CalibrationError::NotConverged { .. } | CalibrationError::NoConvergence { .. } => false,
        }
    }
}

static CACHE: OnceLock<Cache> = OnceLock::new();

/// Sets the cache of this process's calibrations (the CLI's `--no-cache`);
/// without it [`Cache::from_env`]. Only the first call counts.
pub fn use_cache(cache: Cache) {
    let _ = CACHE.set(cache);
}

/// This process's cache ([`use_cache`], else [`Cache::from_env`]).
pub fn process_cache() -> &'static Cache {
    CACHE.get_or_init(Cache::from_env)
}

/// The key of a calibration at h: the reference's key and everything else
/// the cell at h depends on.
#[derive(Debug, Clone, PartialEq, Serialize)]
struct CellKey {
    reference: ReferenceKey,
    /// The reference the search aimed at (E_ref/E_s and its uncertainty):
    /// an entry calibrated against another reference (an older shipped
    /// table, a reference computed before the table had the lattice) is
    /// never reused.
    reference_e_rel: f64,
    reference_uncertainty: f64,
    n: usize,
    /// The lattice origin within the cell, over M, rounded to 1e-9.
    origin: [f64; 3],
    threshold: f64,
    tolerance: f64,
}

/// `scene` with its exponent resolved: `"auto"` calibrated for its lattice
/// at its h (module doc), else as set; with the [`Accuracy`] of its result.
pub fn resolve(scene: &Scene) -> Result<Resolved<'_>, CalibrationError> {
    resolve_with(scene, process_cache())
}

/// [`resolve`] with `cache`.
pub fn resolve_with<'a>(scene: &'a Scene, cache: &Cache) -> Result<Resolved<'a>, CalibrationError> {
    resolve_with_progress(scene, cache, &mut |_| {})
}

/// [`resolve_with`], telling `progress` each cell solved (the reference's,
/// then the search's): `voxfe calibrate`'s view of it.
pub fn resolve_with_progress<'a>(
    scene: &'a Scene,
    cache: &Cache,
    progress: &mut dyn FnMut(&CellSolve),
) -> Result<Resolved<'a>, CalibrationError> {
    let v = &scene.voxel;
    let is_lattice = scene.lattice.kind != LatticeKind::Solid && !scene.lattice.omitted;
    let image = scene.specimen.shape == Shape::Image;
    let d_over_h = if is_lattice && !image {
        scene
            .lattice()?
            .strut_diameter()
            .map(|d| d / scene.voxel.size)
    } else {
        None
    };
    let known = |source: &'static str, exponent: Option<f64>, statement: String| Accuracy {
        exponent_source: source,
        exponent,
        error_estimate: None,
        terms: None,
        statement,
        calibration: None,
        cache: None,
        seconds: None,
    };
    let fixed = |exponent: f64| {
        let mut s = scene.clone();
        s.voxel.fraction_exponent = Exponent::Value(exponent);
        Cow::Owned(s)
    };
    let done = |scene: Cow<'a, Scene>, accuracy: Accuracy| Resolved {
        scene,
        accuracy,
        notices: Vec::new(),
    };
    if image {
        let p = v.fraction_exponent.value().unwrap_or(1.0);
        let accuracy = known("image", Some(p), known_error_image(p));
        return Ok(done(fixed(p), accuracy));
    }
    if !is_lattice {
        let p = v.fraction_exponent.value().unwrap_or(1.0);
        let accuracy = known(
            "none",
            (v.fill == Fill::Fraction).then_some(p),
            "not a lattice: no lattice error band".into(),
        );
        return Ok(done(fixed(p), accuracy));
    }
    match (v.fill, v.fraction_exponent) {
        (Fill::Binary, _) => Ok(done(
            Cow::Borrowed(scene),
            known("binary", None, known_error_binary(d_over_h)),
        )),
        (Fill::Fraction, Exponent::Value(p)) => Ok(done(
            Cow::Borrowed(scene),
            known("hand", Some(p), known_error_hand(p, d_over_h)),
        )),
        (Fill::Fraction, Exponent::Auto) => {
            let start = Instant::now();
            let mut notices = Vec::new();
            let (calibrated, hit) = calibrate_with_progress(scene, cache, &mut notices, progress)?;
            let periodic = scene.load_case().is_periodic();
            let terms = ErrorTerms {
                reference: calibrated.reference.uncertainty,
                interpolation: calibrated.interpolation_error,
                search: calibrated.relative_miss.abs(),
                specimen: if periodic { 0.0 } else { SPECIMEN_EFFECT },
            };
            let accuracy = Accuracy {
                exponent_source: "auto",
                exponent: Some(calibrated.exponent),
                error_estimate: Some(terms.total()),
                terms: Some(terms),
                statement: band_statement(&terms, &calibrated),
                calibration: Some(calibrated.clone()),
                cache: Some(if cache.dir().is_none() {
                    "bypassed"
                } else if hit {
                    "hit"
                } else {
                    "miss"
                }),
                seconds: Some(start.elapsed().as_secs_f64()),
            };
            Ok(Resolved {
                scene: fixed(calibrated.exponent),
                accuracy,
                notices,
            })
        }
    }
}

/// The calibration of `scene`'s lattice at its h, from the cache or
/// computed (and stored); `true` when read from the cache.
pub fn calibrate(
    scene: &Scene,
    cache: &Cache,
    notices: &mut Vec<String>,
) -> Result<(Calibrated, bool), CalibrationError> {
    calibrate_with_progress(scene, cache, notices, &mut |_| {})
}

/// [`calibrate`], telling `progress` each cell solved.
pub fn calibrate_with_progress(
    scene: &Scene,
    cache: &Cache,
    notices: &mut Vec<String>,
    progress: &mut dyn FnMut(&CellSolve),
) -> Result<(Calibrated, bool), CalibrationError> {
    let lattice = scene.lattice()?;
    let m = lattice.cell();
    let h = scene.voxel.size;
    let n = (m / h).round();
    if n < MIN_CELL_VOXELS as f64 {
        return Err(CalibrationError::TooCoarse { n: m / h, h, m });
    }
    let n = n as usize;
    let reference_key = ReferenceKey::of(scene, &lattice)?;
    let origin = lattice
        .origin()
        .map(|o| ((o / m).rem_euclid(1.0) * 1e9).round() / 1e9);
    let (reference, reference_source, interpolation_error) =
        match Table::shipped().lookup(&reference_key) {
            Some(i) => (i.reference, "shipped", i.interpolation_error),
            None => match cache.get::<_, Reference>("reference", &reference_key) {
                Some(r) => (r, "cache", 0.0),
                None => {
                    let r = compute_reference(scene, notices, &mut *progress)?;
                    if let Err(e) = cache.put("reference", &reference_key, &r) {
                        notices.push(format!("the calibration cache was not written: {e}"));
                    }
                    (r, "computed", 0.0)
                }
            },
        };
    let key = CellKey {
        reference: reference_key.clone(),
        reference_e_rel: reference.e_rel,
        reference_uncertainty: reference.uncertainty,
        n,
        origin,
        threshold: scene.voxel.fraction_threshold,
        tolerance: scene.solver.tolerance,
    };
    if let Some(c) = cache.get::<_, Calibrated>("exponent", &key) {
        return Ok((c, true));
    }
    let mut cell = Cell::new(scene, n)?;
    let trials = search(&mut cell, reference.e_rel, progress)?;
    for w in cell.notices {
        if !notices.contains(&w) {
            notices.push(w);
        }
    }
    let miss = |c: &CellSolve| c.e_rel / reference.e_rel - 1.0;
    let best = *trials
        .iter()
        .min_by(|a, b| miss(a).abs().total_cmp(&miss(b).abs()))
        .expect("a trial");
    let calibrated = Calibrated {
        exponent: best.exponent,
        n,
        relative_miss: miss(&best),
        relative_miss_p2: miss(&trials[0]),
        reference,
        reference_source: reference_source.into(),
        interpolation_error,
        trials,
    };
    if let Err(e) = cache.put("exponent", &key, &calibrated) {
        notices.push(format!("the calibration cache was not written: {e}"));
    }
    Ok((calibrated, false))
}

/// The search at h: g(p) = ln E_h(p) − ln E_ref, decreasing in p, from
/// p = 2; a bracket by steps of 0.5 toward the reference, then regula
/// falsi (Illinois) until a trial is within [`SEARCH_TOLERANCE`]. Returns
/// the trials in order (the first at p = 2); `progress` is told each.
pub fn search(
    cell: &mut Cell,
    reference: f64,
    progress: &mut dyn FnMut(&CellSolve),
) -> Result<Vec<CellSolve>, CalibrationError> {
    let (h, n) = (cell.h(), cell.n);
    let mut modulus = |p: f64| {
        let c = cell.modulus(p)?;
        progress(&c);
        Ok::<_, CalibrationError>(c)
    };
    // k / (1/step), not k·step: 2671 / 1000 prints as 2.671.
    let round = |p: f64| (p / EXPONENT_STEP).round() / (1.0 / EXPONENT_STEP).round();
    let g = |c: &CellSolve| (c.e_rel / reference).ln();
    let close = |trials: &[CellSolve]| {
        trials
            .iter()
            .any(|c| (c.e_rel / reference - 1.0).abs() <= SEARCH_TOLERANCE)
    };
    let mut trials = vec![modulus(reference::REFERENCE_EXPONENT)?];
    if close(&trials) {
        return Ok(trials);
    }
    let g0 = g(&trials[0]);
    // Too stiff (g > 0): a larger p.
    let up = g0 > 0.0;
    let edge = if up {
        EXPONENT_RANGE.1
    } else {
        EXPONENT_RANGE.0
    };
    let (mut a, mut b) = ((trials[0].exponent, g0), (trials[0].exponent, g0));
    while b.1.signum() == g0.signum() {
        if (b.0 - edge).abs() < EXPONENT_STEP {
            let c = trials.last().expect("a trial");
            return Err(CalibrationError::OutOfRange {
                h,
                n,
                p: c.exponent,
                miss: 100.0 * (c.e_rel / reference - 1.0),
                side: if up { "too stiff" } else { "too soft" },
            });
        }
        a = b;
        // A secant step from the last two trials (overshooting by 20 % to
        // bracket), at least 0.1 and at most 0.5 from the last.
        let step = match trials.len() {
            1 => 0.5,
            _ => {
                let (c0, c1) = (trials[trials.len() - 2], trials[trials.len() - 1]);
                let slope = (g(&c1) - g(&c0)) / (c1.exponent - c0.exponent);
                if slope < 0.0 {
                    (1.2 * g(&c1) / -slope).abs().clamp(0.1, 0.5)
                } else {
                    0.5
                }
            }
        };
        let p = round(if up {
            (b.0 + step).min(edge)
        } else {
            (b.0 - step).max(edge)
        });
        let c = modulus(p)?;
        trials.push(c);
        b = (p, g(&c));
        if close(&trials) {
            return Ok(trials);
        }
    }
    let (pos, neg) = if up { (a, b) } else { (b, a) };
    let mut bracket = Bracket::of(pos, neg);
    while !close(&trials) {
        if trials.len() >= MAX_TRIALS {
            let c = trials
                .iter()
                .min_by(|x, y| g(x).abs().total_cmp(&g(y).abs()))
                .expect("a trial");
            return Err(CalibrationError::NoConvergence {
                tolerance: SEARCH_TOLERANCE,
                trials: trials.len(),
                p: c.exponent,
                miss: 100.0 * (c.e_rel / reference - 1.0),
            });
        }
        let (lo, hi) = (
            bracket.pos.expect("bracketed").x,
            bracket.neg.expect("bracketed").x,
        );
        let mut p = round(bracket.falsi());
        if p <= lo || p >= hi {
            p = round(bracket.bisect());
        }
        if p <= lo || p >= hi {
            break; // the bracket is one step wide: the best end stands
        }
        let c = modulus(p)?;
        trials.push(c);
        bracket.replace(p, g(&c));
    }
    Ok(trials)
}

/// "± 2.1 %: reference 0.3 % (shipped), interpolation 0.2 %, search
/// 0.1 %, specimen 1.7 %".
fn band_statement(t: &ErrorTerms, c: &Calibrated) -> String {
    let pct = |x: f64| format!("{:.1} %", 100.0 * x);
    let mut parts = vec![format!(
        "reference {} ({})",
        pct(t.reference),
        c.reference_source
    )];
    if t.interpolation > 0.0 {
        parts.push(format!("interpolation {}", pct(t.interpolation)));
    }
    parts.push(format!("search {}", pct(t.search)));
    if t.specimen > 0.0 {
        parts.push(format!("specimen {}", pct(t.specimen)));
    }
    format!(
        "± {} (p = {} calibrated at M/{}: {})",
        pct(t.total()),
        c.exponent,
        c.n,
        parts.join(", ")
    )
}
