//! `voxfe calibrate`: the fraction exponent p of a scene's lattice at the
//! scene's voxel size, from periodic cells alone.
//!
//! A fractional voxel's stiffness is φₑ^p·Kₑ (docs/validation.md, "Calibrated fraction
//! exponent"). How far a coarse grid is off depends on the lattice, its
//! porosity, the element and h, so one p cannot fit every lattice (p = 2
//! leaves −10 % … +8 % across the seven at D/h ≈ 4–6). This module finds,
//! for one lattice at one h, the p at which a single periodic cell at h
//! gives the cell's converged modulus:
//!
//! 1. **Reference.** E_h (= 1/S33 of C^H) of the cell with φ² fill on three
//!    finer grids, M/n with n = 1.5, 2 and 3 times the scene's n₀ = M/h,
//!    and Richardson's extrapolation of the three ([`crate::study::converge::estimate`]);
//!    when the sequence is not in its asymptotic range the finest value is
//!    taken, and the calibration says so.
//! 2. **Search.** E_h of the cell at h as a function of p is decreasing;
//!    p ∈ [1, 4] is found by regula falsi (Illinois) on ln E_h(p) − ln E_ref,
//!    each trial p rounded to [`EXPONENT_STEP`], until E_h(p) is within
//!    [`CalibrateOptions::tolerance`] of the reference.
//!
//! The specimen (a finite box, an implant) is then solved once at h with
//! that p. The cell is one lattice cell, so the references cost a small
//! part of refining the specimen itself; what the cell cannot see (the
//! specimen's cut struts, its alignment to the grid) stays in the
//! specimen's error, and docs/validation.md states what that was on the shipped scene.

use std::time::Instant;

use serde::Serialize;

use crate::homogenize::run::{homogenize_scene, HomogenizeRunError};
use crate::lattice::LatticeKind;
use crate::pipeline::voxelize::is_resolution_warning;
use crate::scene::{Scene, SceneError, Setting};
use crate::study::converge::{estimate, Estimate};
use crate::study::root::Bracket;

/// Trial exponents are rounded to this step, so the p reported is the p
/// whose E_h was computed, and can be passed to `--set` as printed.
pub const EXPONENT_STEP: f64 = 1e-3;

/// The exponent of the reference grids (the best single p measured on the
/// seven lattices, docs/validation.md, "Calibrated fraction exponent").
pub const REFERENCE_EXPONENT: f64 = 2.0;

/// The range searched: the range `voxel.fraction_exponent` takes.
pub const EXPONENT_RANGE: (f64, f64) = (1.0, 4.0);

/// Settings of a calibration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibrateOptions {
    /// The reference grids, as multiples of n₀ = M/h (each rounded to a
    /// whole number of voxels per cell).
    pub refinements: [f64; 3],
    /// Relative distance of E_h(p) from the reference at which the search
    /// stops.
    pub tolerance: f64,
    /// Most cells solved at h in the search.
    pub max_trials: usize,
}

impl Default for CalibrateOptions {
    fn default() -> Self {
        CalibrateOptions {
            refinements: [1.5, 2.0, 3.0],
            tolerance: 1e-3,
            max_trials: 10,
        }
    }
}

/// One periodic cell solved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CellSolve {
    /// Voxels per cell side.
    pub n: usize,
    pub voxel_size: f64,
    pub exponent: f64,
    /// E_h = 1/S33 of C^H, MPa.
    pub e_h: f64,
    /// Wall time of the voxelization and the six solves, s.
    pub seconds: f64,
}

/// What a calibration found.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub lattice: &'static str,
    /// Cell side M, mm.
    pub cell: f64,
    pub porosity_nominal: Option<f64>,
    /// The scene's voxel size h and n₀ = M/h.
    pub voxel_size: f64,
    pub n: usize,
    pub d_over_h: Option<f64>,
    pub element: &'static str,
    /// The cells of the reference, coarse to fine (φ² fill).
    pub reference_cells: Vec<CellSolve>,
    /// Richardson on the reference cells.
    pub reference_estimate: Estimate,
    /// The reference modulus: the extrapolated value when the sequence is
    /// asymptotic, else the finest cell's.
    pub reference: f64,
    /// "richardson" or "finest".
    pub reference_from: &'static str,
    /// The cells at h tried, in order.
    pub trials: Vec<CellSolve>,
    /// The calibrated exponent p.
    pub exponent: f64,
    /// E_h at h with p, MPa, and its relative distance from the reference.
    pub e_h: f64,
    pub relative_miss: f64,
    /// E_h at h with p = 2, relative to the reference: what the calibration
    /// corrects.
    pub relative_miss_p2: f64,
    pub seconds: f64,
    /// The cells' fallbacks and warnings (a software adapter, a multigrid
    /// that did not fit, the D/h warning), each once, in order.
    pub notices: Vec<String>,
}

/// Why a calibration failed.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    /// An option of [`CalibrateOptions`] out of range, named by its field.
    #[error("{option} = {value}: allowed: {allowed}")]
    BadOption {
        option: &'static str,
        value: String,
        allowed: &'static str,
    },
    #[error(transparent)]
    Scene(#[from] SceneError),
    #[error(transparent)]
    Homogenize(#[from] HomogenizeRunError),
    #[error("lattice.kind = \"{kind}\": allowed: a lattice (calibrate finds the fraction exponent of a lattice's struts or sheets; a solid has none)")]
    NoLattice { kind: &'static str },
    #[error(
        "the periodic cell M/{n} (h = {h} mm, p = {p}) did not converge: {detail}; raise solver.max_iterations or loosen solver.tolerance"
    )]
    NotConverged {
        n: usize,
        h: f64,
        p: f64,
        detail: String,
    },
    #[error("no exponent in [1, 4] gives the reference E_h = {reference:.1} MPa at h = {h} mm: p = {p} gives {e_h:.1} MPa, already {side} (the grid is too coarse for this lattice; refine voxel.size)")]
    OutOfRange {
        reference: f64,
        h: f64,
        p: f64,
        e_h: f64,
        side: &'static str,
    },
    #[error("the search did not reach {tolerance:e} of the reference in {trials} trials: closest p = {p} gives {miss:+.3} % (raise max_trials)")]
    NoConvergence {
        tolerance: f64,
        trials: usize,
        p: f64,
        miss: f64,
    },
}

impl CalibrateError {
    /// Whether the input is at fault (exit status 2); otherwise a solve
    /// or the search failed (exit status 3, as a solve that does not
    /// converge).
    pub fn is_bad_input(&self) -> bool {
        match self {
            CalibrateError::BadOption { .. }
            | CalibrateError::Scene(_)
            | CalibrateError::NoLattice { .. } => true,
            CalibrateError::Homogenize(e) => e.is_bad_input(),
            CalibrateError::OutOfRange { .. } => true,
            CalibrateError::NotConverged { .. } | CalibrateError::NoConvergence { .. } => false,
        }
    }
}

/// The scene `scene` made one periodic cell, and its M and n₀ = M/h (a
/// cell must be a whole number of voxels: the scene's checks name
/// `voxel.size` otherwise).
fn cell_scene(scene: &Scene) -> Result<(Scene, f64, usize), CalibrateError> {
    let scene = scene.with_cells(1)?;
    if scene.lattice.kind == LatticeKind::Solid {
        return Err(CalibrateError::NoLattice {
            kind: LatticeKind::Solid.name(),
        });
    }
    let m = scene.lattice()?.cell();
    let n = (m / scene.voxel.size).round() as usize;
    Ok((scene, m, n))
}

/// Calibrates the fraction exponent of the lattice of `scene` at its voxel
/// size, on cells of one lattice cell ([`Scene::with_cells`]) solved on
/// the scene's `solver.backend`. `progress` is told each cell solved.
pub fn calibrate(
    scene: &Scene,
    opts: &CalibrateOptions,
    mut progress: impl FnMut(&CellSolve),
) -> Result<Calibration, CalibrateError> {
    let start = Instant::now();
    if !(opts.tolerance > 0.0 && opts.tolerance < 0.5) {
        return Err(CalibrateError::BadOption {
            option: "tolerance",
            value: opts.tolerance.to_string(),
            allowed: "a relative tolerance, 0 < t < 0.5 (default 0.001)",
        });
    }
    if opts.max_trials < 2 {
        return Err(CalibrateError::BadOption {
            option: "max_trials",
            value: opts.max_trials.to_string(),
            allowed: "at least 2 (default 10)",
        });
    }
    let (base, m, n0) = cell_scene(scene)?;
    let backend = base.solver.backend;
    let mut notices: Vec<String> = Vec::new();
    let mut solve = |n: usize, p: f64| -> Result<(CellSolve, Option<f64>), CalibrateError> {
        let t = Instant::now();
        let scene = base.with_settings(&[
            Setting::new("voxel.size", m / n as f64),
            Setting::new("voxel.fill", "fraction"),
            Setting::new("voxel.fraction_exponent", p),
        ])?;
        let report = homogenize_scene(&scene, backend)?;
        // The D/h warning is left out: the cells are at several sizes on
        // purpose, and D/h at h is reported.
        let warnings = report
            .voxel
            .warnings
            .iter()
            .filter(|w| !is_resolution_warning(w));
        for w in warnings.chain(&report.notices) {
            if !notices.contains(w) {
                notices.push(w.clone());
            }
        }
        let r = &report.result;
        let derived = match (&report.derived, r.converged) {
            (Some(d), true) => d,
            _ => {
                let detail = match r.unconverged() {
                    d if d.is_empty() => report.notices.join("; "),
                    d => d,
                };
                return Err(CalibrateError::NotConverged {
                    n,
                    h: scene.voxel.size,
                    p,
                    detail,
                });
            }
        };
        let cell = CellSolve {
            n,
            voxel_size: scene.voxel.size,
            exponent: p,
            e_h: derived.e_h,
            seconds: t.elapsed().as_secs_f64(),
        };
        progress(&cell);
        Ok((cell, report.voxel.d_over_h))
    };

    // 1. The reference.
    // Three distinct sizes, finer than h, even where rounding a small n₀
    // would repeat one.
    let mut sizes = [0usize; 3];
    let mut coarser = n0;
    for (n, f) in sizes.iter_mut().zip(opts.refinements) {
        *n = ((f * n0 as f64).round() as usize).max(coarser + 1);
        coarser = *n;
    }
    let mut reference_cells = Vec::with_capacity(3);
    for n in sizes {
        reference_cells.push(solve(n, REFERENCE_EXPONENT)?.0);
    }
    let h = [0, 1, 2].map(|i| reference_cells[i].voxel_size);
    let f = [0, 1, 2].map(|i| reference_cells[i].e_h);
    let noise = 10.0 * base.solver.tolerance;
    let reference_estimate = estimate(h, f, noise);
    let mut reference_notice = None;
    let (reference, reference_from) = match reference_estimate.extrapolated {
        Some(e) if reference_estimate.asymptotic => (e, "richardson"),
        _ => {
            reference_notice = Some(format!(
                "the reference cells are {}: the finest cell (M/{}, {:.1} MPa) is the reference, as uncertain as its last step ({:+.2} %)",
                reference_estimate.statement,
                sizes[2],
                f[2],
                100.0 * (f[2] / f[1] - 1.0)
            ));
            (f[2], "finest")
        }
    };

    // 2. The search at h: g(p) = ln E_h(p) − ln E_ref, decreasing in p.
    // k / (1/step), not k·step: 2671 / 1000 prints as 2.671.
    let round = |p: f64| (p / EXPONENT_STEP).round() / (1.0 / EXPONENT_STEP).round();
    let mut trials: Vec<CellSolve> = Vec::new();
    let mut d_over_h = None;
    let mut trial = |p: f64, trials: &mut Vec<CellSolve>| -> Result<f64, CalibrateError> {
        let (c, dh) = solve(n0, p)?;
        d_over_h = dh;
        trials.push(c);
        Ok((c.e_h / reference).ln())
    };
    let miss = |c: &CellSolve| c.e_h / reference - 1.0;
    let best = |trials: &[CellSolve]| {
        *trials
            .iter()
            .min_by(|a, b| miss(a).abs().total_cmp(&miss(b).abs()))
            .expect("a trial")
    };
    let g2 = trial(REFERENCE_EXPONENT, &mut trials)?;
    let relative_miss_p2 = miss(&trials[0]);
    if relative_miss_p2.abs() > opts.tolerance {
        // A bracket: steps of 0.5 from p = 2 toward the reference (g > 0:
        // too stiff, a larger p), until g changes sign.
        let up = g2 > 0.0;
        let edge = if up {
            EXPONENT_RANGE.1
        } else {
            EXPONENT_RANGE.0
        };
        let (mut a, mut b) = ((REFERENCE_EXPONENT, g2), (REFERENCE_EXPONENT, g2));
        while b.1.signum() == g2.signum() {
            if (b.0 - edge).abs() < EXPONENT_STEP {
                let c = trials.last().expect("a trial");
                return Err(CalibrateError::OutOfRange {
                    reference,
                    h: c.voxel_size,
                    p: c.exponent,
                    e_h: c.e_h,
                    side: if up { "too stiff" } else { "too soft" },
                });
            }
            a = b;
            let p = round(if up {
                (b.0 + 0.5).min(edge)
            } else {
                (b.0 - 0.5).max(edge)
            });
            b = (p, trial(p, &mut trials)?);
            if b.1 == 0.0 {
                break;
            }
        }
        // The bracket: pos where g > 0 (too stiff), neg where g < 0; then
        // regula falsi, Illinois variant ([`crate::study::root::Bracket`]).
        let (pos, neg) = if up { (a, b) } else { (b, a) };
        let mut bracket = Bracket::of(pos, neg);
        while miss(&best(&trials)).abs() > opts.tolerance {
            if trials.len() >= opts.max_trials {
                let c = best(&trials);
                return Err(CalibrateError::NoConvergence {
                    tolerance: opts.tolerance,
                    trials: trials.len(),
                    p: c.exponent,
                    miss: 100.0 * miss(&c),
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
            let g = trial(p, &mut trials)?;
            bracket.replace(p, g);
        }
    }
    let b = best(&trials);
    notices.extend(reference_notice);
    Ok(Calibration {
        lattice: base.lattice.kind.name(),
        cell: m,
        porosity_nominal: base.lattice.porosity,
        voxel_size: base.voxel.size,
        n: n0,
        d_over_h,
        element: base.solver.element.name(),
        reference_cells,
        reference_estimate,
        reference,
        reference_from,
        relative_miss: miss(&b),
        relative_miss_p2,
        exponent: b.exponent,
        e_h: b.e_h,
        trials,
        seconds: start.elapsed().as_secs_f64(),
        notices,
    })
}

/// The calibration as `voxfe calibrate` prints it, with the `--set` line
/// that applies it.
impl std::fmt::Display for Calibration {
    fn fmt(&self, s: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let c = self;
        let pct = |x: f64| format!("{:+.2} %", 100.0 * x);
        writeln!(
            s,
            "lattice          {} (M = {} mm{}), {} element",
            c.lattice,
            c.cell,
            c.porosity_nominal.map_or(String::new(), |p| format!(
                ", {:.1} % nominal porosity",
                100.0 * p
            )),
            c.element
        )?;
        writeln!(
            s,
            "voxel size       {} mm = M/{}{}",
            c.voxel_size,
            c.n,
            c.d_over_h
                .map_or(String::new(), |d| format!(", D/h = {d:.2}"))
        )?;
        let cells: Vec<String> = c
            .reference_cells
            .iter()
            .map(|r| format!("M/{} {:.1}", r.n, r.e_h))
            .collect();
        writeln!(
            s,
            "reference E_h    {:.1} MPa ({}; φ² cells {} MPa)",
            c.reference,
            match c.reference_from {
                "richardson" => "Richardson",
                _ => "the finest cell: the sequence is not asymptotic",
            },
            cells.join(", ")
        )?;
        writeln!(s, "                 {}", c.reference_estimate.statement)?;
        let tried: Vec<String> = c
            .trials
            .iter()
            .map(|t| format!("{} → {}", t.exponent, pct(t.e_h / c.reference - 1.0)))
            .collect();
        writeln!(s, "trials at M/{}   {}", c.n, tried.join(", "))?;
        writeln!(
            s,
            "exponent         p = {} (E_h {:.1} MPa at M/{}, {} of the reference; p = 2 gives {})",
            c.exponent,
            c.e_h,
            c.n,
            pct(c.relative_miss),
            pct(c.relative_miss_p2)
        )?;
        writeln!(
            s,
            "apply with       --set voxel.fill=fraction --set voxel.fraction_exponent={}{}",
            c.exponent,
            if c.element == "hex8" {
                String::new()
            } else {
                format!(" --set solver.element={}", c.element)
            }
        )?;
        writeln!(s, "time             {:.1} s", c.seconds)
    }
}
