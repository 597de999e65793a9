//! `voxfe design`: the strut diameter whose effective modulus hits a target.
//!
//! For the scene's lattice kind and cell size, the search runs over the
//! nominal porosity φ (equivalently the strut diameter D, which the scene
//! solves from φ) with real solves: a Gibson–Ashby step (E ∝ ρ^n, n from the
//! last two solves, 2 before that) until the target is bracketed, then
//! regula falsi with the Illinois modification in (ln ρ, ln E), ρ = 1 − φ.
//!
//! A probe that does not hold together (no load path) bounds the bracket
//! without a modulus; the next probe is then a Gibson–Ashby step from the
//! stiff end, kept inside the bracket. On smooth monotone curves over
//! 70–88 % porosity (power laws n = 1…3, mixed, percolation-like) the
//! search meets the default 1 % in at most 6 solves from either end or the
//! middle (unit test `smooth_curves_converge_in_eight_solves_over_70_to_88_percent`).
//! With `voxel.fill = "fraction"` E(φ) is continuous, and so is the search's.
//! With the exponent `"auto"` (the default) each probe calibrates its own p
//! (the reference interpolated smoothly in porosity, or computed per
//! porosity and cached), and E(φ) carries the calibration's noise: each
//! probe's cell meets its reference within
//! [`crate::calibration::SEARCH_TOLERANCE`], so two nearby porosities may
//! differ by up to [`CALIBRATION_NOISE`] more than the lattice does. The
//! search never asks for less ([`DesignOptions::noise`]): a tighter
//! `--tolerance` is raised to it, and the report says so.
//!
//! When both ends of the bracket sit on treads of a staircase (each end's
//! modulus seen bit for bit at two porosities), the search bisects.
//!
//! With binary fill, at a fixed voxel size E(φ) is a staircase: a voxel turns solid when D
//! passes the distance of its centre from a strut axis. Lattices aligned
//! with the voxel grid (cell a multiple of h, origin 0) switch whole classes
//! of symmetric voxels at once, and a step may jump over the target; the
//! search then reports the step (both sides) instead of a design.
//!
//! [`search`] is the search over any `solve(φ)`; [`run`] wires it to a scene
//! file and [`run`] and returns the final design with its report;
//! [`converged`] (`--converged`) runs `voxfe converge` at the design found,
//! for the reached modulus with its error estimate. [`periodic::run`] is
//! the same search on a periodic cell, for its homogenized modulus E_h
//! (1/S33 of C^H).

use crate::fem::cg::PcgError;
use crate::fem::load::LoadCase;
use crate::fem::mesh::MeshError;
use crate::fem::SolveError;
use crate::gpu::GpuError;
use crate::lattice::LatticeKind;
use crate::pipeline::voxelize::VoxelizeError;
use crate::pipeline::{self, RunError};
use crate::report::RunReport;
use crate::scene::{Scene, SceneError};
use crate::study::converge::{ConvergeError, ConvergeReport};
use crate::study::root::{secant_slope, secant_step, Bracket, Side};
use crate::voxelize::VoxelError;

/// Bracket width in porosity below which the target is declared to sit on
/// a voxel step (a strut diameter change of about 1e-4 relative).
pub const STEP_WIDTH: f64 = 1e-5;

/// The relative jitter of E(φ) under the exponent `"auto"`: two probes
/// whose calibrations stop at opposite ends of the search's tolerance
/// ([`crate::calibration::SEARCH_TOLERANCE`]) differ by up to twice it.
/// A design tolerance below this may have no porosity that meets it.
pub const CALIBRATION_NOISE: f64 = 2.0 * crate::calibration::SEARCH_TOLERANCE;

/// The relative noise of the modulus of `scene`'s lattice between nearby
/// porosities: [`CALIBRATION_NOISE`] with the exponent `"auto"` (fraction
/// fill), else 0 (a hand-set exponent or binary voxels are deterministic in
/// φ; binary voxels have steps instead, see the module doc).
pub fn modulus_noise(scene: &Scene) -> f64 {
    let v = &scene.voxel;
    match (v.fill, v.fraction_exponent) {
        (crate::scene::Fill::Fraction, crate::scene::Exponent::Auto) => CALIBRATION_NOISE,
        _ => 0.0,
    }
}

/// Search settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DesignOptions {
    /// Target effective modulus E_eff, MPa.
    pub target: f64,
    /// Relative tolerance on E_eff (0.01: within 1 %).
    pub tolerance: f64,
    /// Nominal porosities searched, densest first: (φ_min, φ_max).
    pub porosity_range: (f64, f64),
    /// At most this many solves.
    pub max_solves: usize,
    /// The relative noise of the modulus between nearby porosities
    /// ([`modulus_noise`], which [`run`] sets from the scene): the search
    /// stops within `max(tolerance, noise)`.
    pub noise: f64,
}

impl DesignOptions {
    /// The tolerance the search stops at: `tolerance`, or the modulus's
    /// noise when that is larger.
    pub fn stop_tolerance(&self) -> f64 {
        self.tolerance.max(self.noise)
    }

    /// Whether the tolerance asked is below the modulus's noise (and the
    /// search stops at the noise instead).
    pub fn below_noise(&self) -> bool {
        self.noise > self.tolerance
    }
}

impl Default for DesignOptions {
    fn default() -> DesignOptions {
        DesignOptions {
            target: 3500.0,
            tolerance: 0.01,
            porosity_range: (0.30, 0.95),
            max_solves: 24,
            noise: 0.0,
        }
    }
}

/// One solve of the search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probe {
    /// Nominal porosity set on the scene.
    pub porosity: f64,
    /// E_eff reached, MPa (`None`: the lattice does not hold together:
    /// no load path).
    pub e_eff: Option<f64>,
}

/// Why a solve of the search gave no modulus.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeError {
    /// The lattice does not hold together at this porosity (no solid voxel,
    /// no load path between the platens, a mechanism): softer than any
    /// target. Sparser than a lattice found too stiff, this bounds the
    /// search.
    NoLoadPath(String),
    /// Anything else (the scene, a solve that did not converge, a GPU
    /// failure): ends the search with [`DesignError::Solve`].
    Failed(String),
}

impl ProbeError {
    /// The probe error of a failed run: [`ProbeError::NoLoadPath`] for an
    /// empty voxelization or mesh, a missing load path or rigid-body
    /// support, or a CG breakdown (a mechanism); else [`ProbeError::Failed`].
    pub fn of_run(e: &RunError) -> ProbeError {
        let apart = |s: &SolveError| {
            matches!(
                s,
                SolveError::Mesh(MeshError::Empty)
                    | SolveError::Bc(_)
                    | SolveError::Pcg(PcgError::Breakdown { .. })
            )
        };
        let falls_apart = match e {
            RunError::Voxelize(VoxelizeError::Voxel(VoxelError::Empty { .. })) => true,
            RunError::Solve(s) | RunError::Gpu(GpuError::Solve(s)) => apart(s),
            _ => false,
        };
        if falls_apart {
            ProbeError::NoLoadPath(e.to_string())
        } else {
            ProbeError::Failed(e.to_string())
        }
    }
}

/// Why no design was found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DesignError {
    #[error("target_modulus={target} MPa: allowed: a positive modulus in MPa")]
    BadTarget { target: f64 },
    #[error("tolerance={0}: allowed: 0 < tolerance < 0.5")]
    BadTolerance(f64),
    #[error("porosity_range={0}:{1}: allowed: 0 < min < max < 1")]
    BadRange(f64, f64),
    #[error(
        "max_solves={0}: allowed: at least 1 (the search needs one solve to report a modulus)"
    )]
    BadMaxSolves(usize),
    #[error("target_modulus={target} MPa is not reachable with this lattice: E_eff ranges from {sparse} MPa (porosity {phi_max}) to {dense} MPa (porosity {phi_min}, the densest searched)")]
    Unreachable {
        target: f64,
        dense: String,
        sparse: String,
        phi_min: f64,
        phi_max: f64,
    },
    #[error("target_modulus={target} MPa falls in a voxel step: porosity {phi_a} gives {e_a:.1} MPa and porosity {phi_b} gives {e_b:.1} MPa, with no voxelization found between them; use a smaller voxel.size (or a lattice.origin that is not aligned with the voxels)")]
    VoxelStep {
        target: f64,
        phi_a: f64,
        e_a: f64,
        phi_b: f64,
        e_b: f64,
    },
    #[error("target_modulus={target} MPa: not within {tolerance} after {solves} solves; closest: {closest:.1} MPa at porosity {phi}")]
    NotFound {
        target: f64,
        tolerance: f64,
        solves: usize,
        closest: f64,
        phi: f64,
    },
    #[error("the solve at porosity {porosity} failed: {message}")]
    Solve { porosity: f64, message: String },
}

/// The result: the porosity of the final design and every solve made.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    pub porosity: f64,
    pub e_eff: f64,
    pub probes: Vec<Probe>,
}

/// Searches for the porosity whose E_eff is within
/// [`DesignOptions::stop_tolerance`] of `opts.target`, starting from
/// `start`. `solve(φ)` returns E_eff at
/// nominal porosity φ, or why it failed. A lattice that does not hold
/// together ([`ProbeError::NoLoadPath`]) sparser than one found too stiff is
/// a bound, not an error; any other failure ends the search.
pub fn search<F>(start: f64, opts: &DesignOptions, mut solve: F) -> Result<Design, DesignError>
where
    F: FnMut(f64) -> Result<f64, ProbeError>,
{
    let target = opts.target;
    if !(target.is_finite() && target > 0.0) {
        return Err(DesignError::BadTarget { target });
    }
    if !(opts.tolerance > 0.0 && opts.tolerance < 0.5) {
        return Err(DesignError::BadTolerance(opts.tolerance));
    }
    if opts.max_solves == 0 {
        return Err(DesignError::BadMaxSolves(opts.max_solves));
    }
    let (phi_min, phi_max) = opts.porosity_range;
    if !(phi_min > 0.0 && phi_min < phi_max && phi_max < 1.0) {
        return Err(DesignError::BadRange(phi_min, phi_max));
    }
    let mut probes: Vec<Probe> = Vec::new();
    let tolerance = opts.stop_tolerance();
    let hit = |e: f64| (e / target - 1.0).abs() <= tolerance;
    let ln_t = target.ln();
    // x = ln ρ, y = ln E.
    let xy = |phi: f64, e: f64| ((1.0 - phi).ln(), e.ln());
    let phi_of = |x: f64| 1.0 - x.exp();
    let (x_lo, x_hi) = ((1.0 - phi_max).ln(), (1.0 - phi_min).ln());
    // Bracket ends as (φ, E): `stiff` has E > target (denser), `soft`
    // E < target (E = 0: no load path); the same ends in (x, f) = (ln ρ,
    // ln E − ln target), with E as their value, narrowed by Illinois.
    let mut stiff: Option<(f64, f64)> = None;
    let mut soft: Option<(f64, f64)> = None;
    let mut bracket = Bracket::new();
    let mut phi = start.clamp(phi_min, phi_max);
    loop {
        if probes.len() >= opts.max_solves {
            let best = probes
                .iter()
                .filter_map(|p| p.e_eff.map(|e| (p.porosity, e)))
                .min_by(|a, b| {
                    (a.1 / target - 1.0)
                        .abs()
                        .total_cmp(&(b.1 / target - 1.0).abs())
                })
                .unwrap_or((phi, f64::NAN));
            return Err(DesignError::NotFound {
                target,
                tolerance,
                solves: probes.len(),
                closest: best.1,
                phi: best.0,
            });
        }
        let e = match (solve(phi), stiff) {
            (Ok(e), _) => Some(e),
            // Sparser than a lattice that was too stiff, and too thin to
            // hold together: softer than any target.
            (Err(ProbeError::NoLoadPath(_)), Some(_)) => None,
            (Err(ProbeError::NoLoadPath(message) | ProbeError::Failed(message)), _) => {
                return Err(DesignError::Solve {
                    porosity: phi,
                    message,
                })
            }
        };
        probes.push(Probe {
            porosity: phi,
            e_eff: e,
        });
        let Some(e) = e else {
            // The target lies at a denser lattice: step from the stiff end.
            soft = Some((phi, 0.0));
            bracket.set_undefined((1.0 - phi).ln());
            let end = stiff.expect("a failure is tolerated only with a stiff end");
            phi = phi_of(towards_failure(&probes, end, (1.0 - phi).ln(), ln_t));
            continue;
        };
        if hit(e) {
            return Ok(Design {
                porosity: phi,
                e_eff: e,
                probes,
            });
        }
        let (x, y) = xy(phi, e);
        let side = if e > target {
            stiff = Some((phi, e));
            Side::Pos
        } else {
            soft = Some((phi, e));
            Side::Neg
        };
        bracket.put(side, x, y - ln_t, e);
        let next_x = match (stiff, soft) {
            (Some(a), Some(b)) => {
                // The voxelization cannot change between two porosities
                // this close: the target sits on a step.
                if (a.0 - b.0).abs() < STEP_WIDTH {
                    return Err(DesignError::VoxelStep {
                        target,
                        phi_a: a.0,
                        e_a: a.1,
                        phi_b: b.0,
                        e_b: b.1,
                    });
                }
                // Both ends on treads of a staircase (each end's modulus
                // found, bit for bit, at another porosity too: the
                // voxelization did not change there): interpolation gains
                // nothing on a step, bisect.
                let seen = |e: f64| probes.iter().filter(|p| p.e_eff == Some(e)).count();
                if bracket.neg_undefined() {
                    towards_failure(&probes, a, (1.0 - b.0).ln(), ln_t)
                } else if bracket.on_treads(seen) {
                    bracket.bisect()
                } else {
                    bracket.falsi()
                }
            }
            _ => {
                // Not bracketed yet: a Gibson–Ashby step, E ∝ ρ^n.
                let want = x + secant_step(y, ln_t, gibson_ashby_n(&probes));
                let at_end = if e > target { x_lo } else { x_hi };
                if (x - at_end).abs() < 1e-12 {
                    // Already at the end of the range and still on one side:
                    // solve the other end too, to report the reachable range.
                    let other = if e > target { phi_min } else { phi_max };
                    if !probes.iter().any(|p| p.porosity == other) {
                        let e_eff = match solve(other) {
                            Ok(e) => Some(e),
                            Err(ProbeError::NoLoadPath(_)) => None,
                            Err(ProbeError::Failed(message)) => {
                                return Err(DesignError::Solve {
                                    porosity: other,
                                    message,
                                })
                            }
                        };
                        probes.push(Probe {
                            porosity: other,
                            e_eff,
                        });
                    }
                    return Err(unreachable(target, &probes, phi_min, phi_max));
                }
                want.clamp(x_lo, x_hi)
            }
        };
        phi = phi_of(next_x).clamp(phi_min, phi_max);
    }
}

/// The Gibson–Ashby exponent n of E ∝ ρⁿ from the last two moduli found
/// (the secant slope in (ln ρ, ln E), within [1, 4]; 2 before that).
fn gibson_ashby_n(probes: &[Probe]) -> f64 {
    let pts: Vec<(f64, f64)> = probes
        .iter()
        .filter_map(|p| p.e_eff.map(|e| ((1.0 - p.porosity).ln(), e.ln())))
        .collect();
    secant_slope(&pts, 2.0, (1.0, 4.0))
}

/// The next ln ρ when the soft end of the bracket does not hold together
/// (no modulus to interpolate with): a Gibson–Ashby step from the stiff end
/// `(φ, E)` to `ln_t` (ln target) with [`gibson_ashby_n`], kept inside the
/// bracket (at most 3/4 of the way to the failed `x_fail`).
fn towards_failure(probes: &[Probe], (phi, e): (f64, f64), x_fail: f64, ln_t: f64) -> f64 {
    let xs = (1.0 - phi).ln();
    let step = secant_step(e.ln(), ln_t, gibson_ashby_n(probes));
    // x_fail < xs: the failed lattice is sparser (smaller ρ).
    xs + step.max(0.75 * (x_fail - xs))
}

/// Why `voxfe design` gave no design: the scene, or the search.
#[derive(Debug, thiserror::Error)]
pub enum RunDesignError {
    #[error(transparent)]
    Scene(#[from] SceneError),
    #[error("scene '{scene}': voxfe design needs a lattice (lattice.kind other than solid) in compression (load.case = \"compression\"), where E_eff is defined, or a periodic cell (load.case = \"periodic\"), whose E_h is the target")]
    NotCompression { scene: String },
    /// `--converged` on a periodic scene.
    #[error("converged=true: scene '{scene}' is periodic (load.case = \"periodic\"); a convergence study does not take periodic scenes yet: design it without converged")]
    ConvergedPeriodic { scene: String },
    #[error(transparent)]
    Search(#[from] DesignError),
    /// `--converged`: the study's levels or its solves.
    #[error("converged=true: {0}")]
    Converge(#[from] ConvergeError),
}

impl RunDesignError {
    /// Whether the input is at fault (exit status 2) rather than a solve
    /// (a solve that failed, or no design within the solves allowed).
    pub fn is_bad_input(&self) -> bool {
        match self {
            RunDesignError::Converge(e) => e.is_bad_input(),
            _ => !matches!(
                self,
                RunDesignError::Search(DesignError::Solve { .. } | DesignError::NotFound { .. })
            ),
        }
    }
}

/// What a design run found: the design, the report of its solve, its
/// scene (the base scene at the porosity found) and the search's options
/// (`report.rs`: its text and JSON).
#[derive(Debug, Clone)]
pub struct Designed<R> {
    pub design: Design,
    pub report: R,
    pub scene: Scene,
    pub opts: DesignOptions,
}

/// Searches the strut diameter of the compression scene `base` whose
/// E_eff hits `opts.target` (with an `[as_built]` model, the as-built
/// E_eff: `e_eff_as_built`), solving each probe on the scene's
/// `solver.backend`. `on_solve(n, φ, report, E_eff)` is called after each
/// solve that gave a modulus. A periodic scene is [`periodic::run`]'s.
pub fn run(
    base: &Scene,
    opts: &DesignOptions,
    on_solve: impl FnMut(usize, f64, &RunReport, f64),
) -> Result<Designed<RunReport>, RunDesignError> {
    if !matches!(base.load_case(), LoadCase::Compression { .. }) {
        return Err(RunDesignError::NotCompression {
            scene: base.path().display().to_string(),
        });
    }
    // With an [as_built] fit, the target is the as-built modulus.
    let as_built = base.as_built_model()?.is_some();
    search_scene(base, opts, on_solve, |scene| {
        let report = pipeline::run(scene).map_err(|e| ProbeError::of_run(&e))?;
        let e = report.solve.e_eff.ok_or_else(|| {
            ProbeError::Failed(format!(
                "not converged: relative residual {:.3e} after {} iterations",
                report.solve.relative_residual, report.solve.iterations
            ))
        })?;
        let e = match (as_built, report.as_built.e_eff_as_built) {
            (false, _) => e,
            (true, Some(a)) => a,
            (true, None) => {
                return Err(ProbeError::Failed(
                    "the [as_built] model gave no as-built modulus".into(),
                ))
            }
        };
        Ok((e, report))
    })
}

/// The search over the lattice porosity of the scene `base` (a lattice
/// other than solid), from its nominal porosity: each probe is the base
/// scene at a porosity ([`Scene::with_porosity`]); `probe(scene)` solves
/// it and gives its modulus with its report; `on_solve(n, φ, report, E)`
/// after each. Returns the design, the report of its solve and its scene.
fn search_scene<R>(
    base: &Scene,
    opts: &DesignOptions,
    mut on_solve: impl FnMut(usize, f64, &R, f64),
    mut probe: impl FnMut(&Scene) -> Result<(f64, R), ProbeError>,
) -> Result<Designed<R>, RunDesignError> {
    if base.lattice.kind == LatticeKind::Solid {
        return Err(RunDesignError::NotCompression {
            scene: base.path().display().to_string(),
        });
    }
    let start = base.lattice()?.nominal_porosity();
    let opts = &DesignOptions {
        noise: opts.noise.max(modulus_noise(base)),
        ..*opts
    };
    let mut solved: Vec<(f64, R, Scene)> = Vec::new();
    let design = search(start, opts, |phi| {
        let scene = base
            .with_porosity(phi)
            .map_err(|e| ProbeError::Failed(e.to_string()))?;
        let (e, report) = probe(&scene)?;
        on_solve(solved.len() + 1, phi, &report, e);
        solved.push((phi, report, scene));
        Ok(e)
    })?;
    let (_, report, scene) = solved
        .into_iter()
        .rev()
        .find(|(phi, ..)| *phi == design.porosity)
        .expect("the final design was solved");
    Ok(Designed {
        design,
        report,
        scene,
        opts: *opts,
    })
}

/// `--converged`: checks the study of `levels` grids by `ratio` of the
/// scene `base` (voxel sizes, memory cap) before any solve; [`converged`]
/// runs it.
pub fn check_study(base: &Scene, levels: usize, ratio: f64) -> Result<(), RunDesignError> {
    if base.load_case().is_periodic() {
        return Err(RunDesignError::ConvergedPeriodic {
            scene: base.path().display().to_string(),
        });
    }
    crate::study::converge::level_scenes(base, levels, ratio)?;
    Ok(())
}

/// `--converged`: `voxfe converge` of the design found (its `scene`, the
/// base scene at the porosity found) for E_eff: the reached modulus with
/// its error estimate.
pub fn converged(
    scene: &Scene,
    (levels, ratio): (usize, f64),
    on_level: impl FnMut(usize, &RunReport),
) -> Result<ConvergeReport, RunDesignError> {
    Ok(crate::study::converge::run(
        scene,
        levels,
        ratio,
        &["e_eff".to_string()],
        on_level,
    )?)
}

fn unreachable(target: f64, probes: &[Probe], phi_min: f64, phi_max: f64) -> DesignError {
    let at = |phi: f64| {
        probes
            .iter()
            .find(|p| (p.porosity - phi).abs() < 1e-12)
            .map(|p| match p.e_eff {
                Some(e) => format!("{e:.1}"),
                None => "0 (no load path)".to_string(),
            })
            .unwrap_or_else(|| "not solved".to_string())
    };
    DesignError::Unreachable {
        target,
        dense: at(phi_min),
        sparse: at(phi_max),
        phi_min,
        phi_max,
    }
}

pub mod periodic;
mod report;
#[cfg(test)]
mod tests;
