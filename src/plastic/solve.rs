//! The nonlinear solve: displacement-controlled increments, Newton's method
//! per increment, each Newton step a matrix-free PCG on the consistent
//! tangent.
//!
//! - Loading: the load case's boundary conditions ([`crate::fem::load`])
//!   with the prescribed displacements scaled so that the final apparent
//!   strain δ/Lz is [`PlasticOptions::strain`], applied in steps of the
//!   load factor: [`PlasticOptions::increments`] equal ones until the curve
//!   has met the offset line of σ_0.2, after which a step of at least the
//!   nominal size that converged in at most [`GROW_NEWTON`] Newton steps
//!   doubles the next, up to [`PlasticOptions::growth`] nominal steps
//!   (σ_0.2 comes from nominal steps; the plateau beyond it, where equal
//!   steps cost most, is crossed in fewer).
//! - Newton: u ← u + Δu with A Δu = −R, A = P Kᵀ P + (I − P) the constrained
//!   tangent, R the internal forces on the free dofs (no external forces: the
//!   load is the prescribed displacements). An increment has converged when
//!   ‖R‖₂ ≤ [`PlasticOptions::newton_tolerance`]·‖f_int‖₂, f_int over every
//!   dof (its norm is that of the reactions at equilibrium).
//! - Each linear step is PCG to ‖r‖ ≤ η·‖R‖, an inexact Newton step with
//!   η = [`ETA`] on every step. The step is masked: the prescribed dofs
//!   keep their values.
//!   PCG runs within [`NEWTON_PCG_PER_ELASTIC`] times the elastic solve's
//!   iterations (at least [`NEWTON_PCG_FLOOR`], at most `max_iterations`;
//!   a step that needs more is cut back).
//! - Preconditioner: the elastic hierarchy
//!   ([`crate::fem::multigrid::Multigrid`] of the linear solver, built once
//!   on the hex8 elastic stiffness and kept), or with
//!   [`PlasticOptions::tangent_hierarchy`] multigrid on the tangent: a Newton step
//!   with yielding points assembles the tangent into node rows
//!   ([`Assembly::tangent_rows`], f32) and builds the linear solver's
//!   hierarchy on them ([`Multigrid::with_rows`]), again only when the
//!   number of yielding points has moved by more than [`REBUILD_CHANGE`]
//!   since the last build (before any point yields, and where the tangent
//!   hierarchy cannot be built, the elastic one serves; once built, the
//!   last one is kept through steps without yielding points). Measured on the
//!   shipped scene at h = 0.1 (docs/plastic.md): 1.23× fewer PCG
//!   iterations, 5 % less wall time, 1.6 kB more per active node, so it
//!   is not the default. Or point Jacobi of the elastic stiffness
//!   (`solver.preconditioner = "jacobi"`).
//! - Predictor: the first increment starts from the linear elastic
//!   solution, scaled; later ones extrapolate the last converged increment.
//! - Cut-back: an increment whose Newton iteration does not converge in
//!   [`PlasticOptions::max_newton`] steps (or whose ‖R‖ grows
//!   [`DIVERGING_STEPS`] steps in a row, or is not finite, or whose PCG
//!   fails) is retried at half the step, up to
//!   [`PlasticOptions::max_cutbacks`] times in a row; after two converged
//!   sub-steps the step doubles back towards the nominal one.
//!
//! The work of each step runs on an [`Engine`]: the CPU's (rayon, f64) or
//! a GPU's (the stress update and forces in f64, the PCG in f32 with the
//! tangent as its operator, [`GpuEngine`]); the loop above is the same
//! for both. The GPU's PCG reaches 10⁻⁴ at best: the elastic solve
//! (10⁻⁹) is refined on the host in passes, b − A x in f64
//! ([`REFINE_PASSES`]).
//!
//! The element is the trilinear hex8 with 2×2×2 Gauss points and mean
//! dilatation (B̄; [`PlasticOptions::mean_dilatation`]), for plastic runs
//! whatever `solver.element` says: the incompatible modes would need their
//! nine internal unknowns per voxel solved (and stored) against each
//! point's tangent at every Newton step, a local nonlinear condensation
//! not done here. The elastic modulus of the curve is therefore this
//! element's, from its own linear solve
//! ([`PlasticSolution::elastic_modulus`]), preconditioned by the plain
//! hex8 hierarchy.

use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use crate::fem::cg::PcgStats;
use crate::fem::hex8::Element;
use crate::fem::load::LoadCase;
use crate::fem::multigrid::Multigrid;
use crate::fem::operator::LinearOperator;
use crate::fem::options::{Preconditioner, SolverOptions};
use crate::fem::precond::Jacobi;
use crate::fem::problem::Problem;
use crate::fem::result::SolveError;
use crate::gpu::GpuContext;
use crate::grid::VoxelGrid;
use crate::plastic::elements::{Assembly, Bricks};
use crate::plastic::engine::{
    mask, CpuEngine, Engine, EngineError, EngineReport, GpuEngine, Pre, TangentOperator,
};
use crate::plastic::material::{PackedTangent, State, J2};

/// How the nonlinear solve runs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlasticOptions {
    /// Final apparent strain δ/Lz.
    pub strain: f64,
    /// Number of equal increments (before cut-backs).
    pub increments: usize,
    /// Newton stops when ‖R‖ ≤ newton_tolerance·‖f_int‖.
    pub newton_tolerance: f64,
    /// Newton steps per increment before a cut-back.
    pub max_newton: usize,
    /// Halvings of one increment before the solve gives up.
    pub max_cutbacks: usize,
    /// PCG iteration limit of each linear solve.
    pub max_iterations: usize,
    pub preconditioner: Preconditioner,
    /// The element: hex8 with B̄ (mean dilatation), the default, or the
    /// plain 2×2×2 hex8 (which locks under isochoric plastic flow).
    pub mean_dilatation: bool,
    /// After the curve has met the offset line of σ_0.2, steps grow up to
    /// this many times the nominal one (doubling after each converged step
    /// of at most [`GROW_NEWTON`] Newton steps); 1 keeps equal steps.
    pub growth: usize,
    /// Multigrid only: each Newton step with yielding points builds a
    /// hierarchy on its tangent ([`Assembly::tangent_rows`]); else (the
    /// default) the elastic hierarchy serves every step.
    pub tangent_hierarchy: bool,
}

/// A Newton step's PCG iteration budget per iteration of the elastic
/// solve (which starts from zero to 1e-9; a Newton step needs 8–35 on the
/// shipped scene, docs/plastic.md), and its floor.
pub const NEWTON_PCG_PER_ELASTIC: usize = 20;
pub const NEWTON_PCG_FLOOR: usize = 200;

impl Default for PlasticOptions {
    fn default() -> Self {
        PlasticOptions {
            strain: 0.02,
            increments: 20,
            newton_tolerance: super::spec::DEFAULT_TOLERANCE,
            max_newton: 25,
            max_cutbacks: 6,
            max_iterations: 20000,
            preconditioner: Preconditioner::Multigrid,
            mean_dilatation: true,
            growth: super::spec::DEFAULT_GROWTH,
            tangent_hierarchy: false,
        }
    }
}

/// One converged load step of the curve.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct CurvePoint {
    /// Apparent strain δ/Lz.
    pub strain: f64,
    /// Nominal stress of the load case at F (compression F/(Lx·Ly),
    /// bending σ_f = 3FS/(2wt²)), MPa.
    pub stress: f64,
    /// Applied displacement δ, mm.
    pub delta: f64,
    /// Reaction force F, N.
    pub force: f64,
    /// Newton steps (linear solves) of the step.
    pub newton: usize,
    /// PCG iterations of the step, all Newton steps together.
    pub cg_iterations: usize,
    /// ‖R‖/‖f_int‖ at convergence.
    pub residual: f64,
    /// Gauss points yielding in the step.
    pub plastic_points: usize,
}

/// The result of a plastic solve: the curve, the elastic modulus of the
/// same model, and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct PlasticSolution {
    /// Converged steps, in order (sub-steps of cut-backs included).
    pub points: Vec<CurvePoint>,
    /// Slope of the nominal stress over δ/Lz of the linear elastic solve
    /// (hex8), MPa: E_eff in compression.
    pub elastic_modulus: f64,
    /// PCG iterations of that linear solve.
    pub elastic_iterations: usize,
    /// Cut-backs taken, and the PCG iterations of the attempts they
    /// abandoned (not in any curve point's).
    pub cutbacks: usize,
    pub cutback_cg_iterations: usize,
    /// The Newton tolerance every point of the curve met.
    pub newton_tolerance: f64,
    /// Solid voxels, active nodes and free unknowns.
    pub bricks: usize,
    pub active_nodes: usize,
    pub unknowns: usize,
    /// Bytes of the plastic state, tangents and element buffer (on the
    /// device, its plastic buffers).
    pub state_bytes: usize,
    /// Equivalent plastic strain ᾱ averaged over each solid voxel's 8
    /// points, one per grid voxel (0 on void voxels), at the last step.
    pub voxel_plastic_strain: Vec<f64>,
    /// Displacement at the last converged step, 3 per active node (mm), in
    /// the order of [`crate::fem::mesh::ActiveMesh::new`] of the grid.
    pub displacement: Vec<f64>,
    /// Wall time of the preconditioner set-up and the elastic solve, s.
    pub setup_seconds: f64,
    /// Wall time of the whole solve, s.
    pub solve_seconds: f64,
    /// "multigrid" or "jacobi".
    pub preconditioner: Preconditioner,
    /// Hierarchies built on the tangent, their wall time (s) and the
    /// largest one's bytes (its assembled finest rows included).
    pub rebuilds: usize,
    pub rebuild_seconds: f64,
    pub hierarchy_bytes: usize,
    /// Where it ran, "cpu" or "gpu", and on what: "rayon, N threads" or
    /// the adapter's name.
    pub backend: &'static str,
    pub adapter: String,
    /// Bytes on the device (plastic buffers, PCG and hierarchy), on a GPU.
    pub device_bytes: Option<u64>,
}

impl PlasticSolution {
    /// Whether the curve so far has met the offset line of σ_0.2.
    pub fn past_offset(&self) -> bool {
        let curve: Vec<(f64, f64)> = self.points.iter().map(|p| (p.strain, p.stress)).collect();
        super::curve::offset_yield(&curve, self.elastic_modulus).is_some()
    }

    /// Where the engine ran and what it cost (on a GPU the plastic state
    /// is the device's).
    fn record(&mut self, r: EngineReport) {
        self.backend = r.backend;
        self.adapter = r.adapter;
        self.rebuilds = r.rebuilds;
        self.rebuild_seconds = r.rebuild_seconds;
        self.hierarchy_bytes = r.hierarchy_bytes;
        if let Some(bytes) = r.device_state_bytes {
            self.state_bytes = bytes;
        }
        self.device_bytes = r.device_bytes;
    }
}

/// Why a plastic solve stopped.
#[derive(Debug, thiserror::Error)]
pub enum PlasticSolveError {
    #[error(transparent)]
    Setup(#[from] SolveError),
    /// The engine failed (a device error; a PCG that fails inside a
    /// Newton step is a cut-back instead).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The linear elastic solve (E_eff, the first predictor) did not
    /// converge.
    #[error("the linear elastic solve did not converge: relative residual {residual:.3e} after {iterations} PCG iterations (solver.max_iterations)")]
    ElasticNotConverged { iterations: usize, residual: f64 },
    /// An increment that did not converge after every cut-back; the curve
    /// up to there is kept.
    #[error("the load step to apparent strain {strain:.5} (step {step}) did not converge after {cutbacks} cut-backs: Newton residual ‖R‖/‖f‖ = {residual:.3e} (tolerance {tolerance:.1e}); {} converged steps kept", curve.points.len())]
    NotConverged {
        step: usize,
        strain: f64,
        residual: f64,
        tolerance: f64,
        cutbacks: usize,
        curve: Box<PlasticSolution>,
    },
}

fn norm(v: &[f64]) -> f64 {
    crate::fem::vector::norm_sq(v).sqrt()
}

/// The elastoplastic response of `grid` under `load` to the final strain
/// of `opts`, on the CPU.
pub fn solve(
    grid: &VoxelGrid,
    material: J2,
    load: &LoadCase,
    opts: &PlasticOptions,
) -> Result<PlasticSolution, PlasticSolveError> {
    solve_on(grid, material, load, opts, None)
}

/// As [`solve`], on the GPU of `device` when one is given
/// ([`GpuEngine`]): the stress update, the internal forces and every PCG
/// iteration on the device, Newton's method on the host.
pub fn solve_on(
    grid: &VoxelGrid,
    material: J2,
    load: &LoadCase,
    opts: &PlasticOptions,
    device: Option<&GpuContext>,
) -> Result<PlasticSolution, PlasticSolveError> {
    let start = Instant::now();
    let problem = Problem::with_element(grid, material.elastic, load, Element::Hex8)?;
    let (mesh, bc) = (&problem.mesh, &problem.bc);
    let bricks = Bricks::new(grid, mesh, opts.mean_dilatation);
    let assembly = Assembly {
        grid,
        mesh,
        bricks: &bricks,
        material,
    };
    match device {
        None => {
            let pre = match opts.preconditioner {
                Preconditioner::Jacobi => Pre::Jacobi(Jacobi::new(&problem.operator())),
                Preconditioner::Multigrid => Pre::Multigrid(Box::new(
                    Multigrid::new(mesh, &problem.table, &bc.fixed)
                        .map_err(SolveError::from)?
                        .with_coarse_degree(COARSE_DEGREE),
                )),
            };
            let mut engine = CpuEngine::new(&assembly, &bc.fixed, pre, opts.tangent_hierarchy);
            drive(&problem, &assembly, &mut engine, load, opts, start)
        }
        Some(ctx) => {
            let mut engine = GpuEngine::new(
                ctx,
                &assembly,
                &problem.table,
                &bc.fixed,
                opts.preconditioner,
            )
            .map_err(EngineError::from)?;
            drive(&problem, &assembly, &mut engine, load, opts, start)
        }
    }
}

/// Passes of the host's iterative refinement of the elastic solve on an
/// engine with a [`Engine::tolerance_floor`] (each gains about
/// 1/floor).
pub const REFINE_PASSES: usize = 8;

/// The elastic tangent solved to `tol`: one engine solve where the engine
/// reaches `tol`, else passes of its floor on the residual b − A x
/// computed in f64 on the host (`op`, iterative refinement).
fn elastic_solve<E: Engine>(
    engine: &mut E,
    op: &TangentOperator,
    b: Vec<f64>,
    tol: f64,
    linear: &dyn Fn(f64) -> SolverOptions,
) -> Result<(Vec<f64>, PcgStats), EngineError> {
    let floor = engine.tolerance_floor();
    if floor <= tol {
        return engine.solve_tangent(b, &linear(tol), 0);
    }
    let bn = norm(&b);
    let mut x = vec![0.0; b.len()];
    let mut stats = PcgStats {
        iterations: 0,
        relative_residual: 0.0,
        converged: true,
    };
    if bn == 0.0 {
        return Ok((x, stats));
    }
    let mut r = b.clone();
    let mut ax = vec![0.0; b.len()];
    for _ in 0..REFINE_PASSES {
        let want = (tol * bn / norm(&r)).max(floor);
        let (d, pass) = engine.solve_tangent(r, &linear(want), 0)?;
        stats.iterations += pass.iterations;
        x.par_iter_mut().zip(&d).for_each(|(a, d)| *a += d);
        op.apply(&x, &mut ax);
        r = b.iter().zip(&ax).map(|(b, a)| b - a).collect();
        stats.relative_residual = norm(&r) / bn;
        stats.converged = stats.relative_residual <= tol;
        if stats.converged || !pass.converged {
            break;
        }
    }
    Ok((x, stats))
}

/// The increments of one plastic solve on `engine` (the loop of the
/// module's documentation).
fn drive<E: Engine>(
    problem: &Problem,
    assembly: &Assembly,
    engine: &mut E,
    load: &LoadCase,
    opts: &PlasticOptions,
    start: Instant,
) -> Result<PlasticSolution, PlasticSolveError> {
    let (grid, mesh, bricks) = (assembly.grid, assembly.mesh, assembly.bricks);
    let bc = &problem.bc;
    let linear = |tol: f64| SolverOptions {
        tolerance: tol,
        max_iterations: opts.max_iterations,
        preconditioner: opts.preconditioner,
        element: Element::Hex8,
        ..SolverOptions::default()
    };
    let points_n = 8 * bricks.len();
    // The elastic stiffness in f64 on the host: the linear solve's
    // right-hand side, its refinement and E_eff.
    let elastic_op = TangentOperator {
        assembly,
        tangent: None,
        fixed: &bc.fixed,
        buffer: Mutex::new(Vec::new()),
        single: None,
    };
    // The linear elastic solution of the same element at the load case's
    // δ: E_eff and the predictor of the first increment.
    let ud = problem.prescribed();
    let mut kud = vec![0.0; ud.len()];
    let mut buffer = Vec::new();
    assembly.apply_elastic(&ud, &mut kud, &mut buffer);
    mask(&bc.fixed, &mut kud);
    let b: Vec<f64> = kud.iter().map(|v| -v).collect();
    let (w, el_stats) = elastic_solve(engine, &elastic_op, b, 1e-9, &linear)?;
    if !el_stats.converged {
        return Err(PlasticSolveError::ElasticNotConverged {
            iterations: el_stats.iterations,
            residual: el_stats.relative_residual,
        });
    }
    // Each Newton step's PCG gets a budget of iterations in proportion to
    // the elastic solve's: on a tangent it cannot solve (a softened,
    // near-singular step) it fails fast and the increment is cut back,
    // rather than running to solver.max_iterations (measured: an RD 80 %
    // cell at D/h ≈ 0.9 spent 137 of 144 s in two such failed steps; with
    // the budget the same curve, to the bit, in 7.8 s).
    let budget = (NEWTON_PCG_PER_ELASTIC * el_stats.iterations)
        .max(NEWTON_PCG_FLOOR)
        .min(opts.max_iterations);
    let newton_linear = |tol: f64| SolverOptions {
        max_iterations: budget,
        ..linear(tol)
    };
    let mut u_el = w;
    for &(dof, v) in &bc.values {
        u_el[dof] = v;
    }
    let size = grid.size();
    let lz = size[2];
    let reaction = |f: &[f64]| -bc.loaded.iter().map(|&n| f[3 * n + 2]).sum::<f64>();
    let nominal = |force: f64, delta: f64| load.quantities(force, delta, size).nominal_stress;
    let mut ku = vec![0.0; u_el.len()];
    assembly.apply_elastic(&u_el, &mut ku, &mut buffer);
    drop((elastic_op, buffer));
    let elastic_modulus = nominal(reaction(&ku), bc.delta) / (bc.delta / lz);
    let setup_seconds = start.elapsed().as_secs_f64();

    let state_bytes = points_n
        * (2 * std::mem::size_of::<State>() + std::mem::size_of::<PackedTangent>())
        + bricks.len() * (24 * 8 + 24 * 4 + 8 * 4 + 8 + 4);

    // Prescribed displacement at load factor t: t·scale·values.
    let scale = opts.strain * lz / bc.delta;
    let ndof = u_el.len();
    let mut u = vec![0.0; ndof];
    let mut du_prev: Vec<f64> = u_el
        .iter()
        .map(|v| v * scale / opts.increments as f64)
        .collect();
    let nominal_dt = 1.0 / opts.increments as f64;
    let mut dt_prev = nominal_dt;
    let mut dt = nominal_dt;
    let mut t = 0.0f64;
    let mut solution = PlasticSolution {
        points: Vec::new(),
        elastic_modulus,
        elastic_iterations: el_stats.iterations,
        cutbacks: 0,
        cutback_cg_iterations: 0,
        newton_tolerance: opts.newton_tolerance,
        bricks: bricks.len(),
        active_nodes: mesh.len(),
        unknowns: problem.unknowns(),
        state_bytes,
        voxel_plastic_strain: Vec::new(),
        displacement: Vec::new(),
        setup_seconds,
        solve_seconds: 0.0,
        preconditioner: opts.preconditioner,
        rebuilds: 0,
        rebuild_seconds: 0.0,
        hierarchy_bytes: 0,
        backend: "cpu",
        adapter: String::new(),
        device_bytes: None,
    };
    let mut streak = 0usize;
    let mut halvings = 0usize;
    let mut step = 1usize;
    // The largest step: the nominal one until the curve has met the offset
    // line of σ_0.2, then `growth` times it.
    let mut cap = nominal_dt;
    while t < 1.0 - 1e-12 {
        let t_new = (t + dt).min(1.0);
        let dt_used = t_new - t;
        // Predictor: the last increment extrapolated, prescribed values set.
        let ratio = dt_used / dt_prev;
        let mut v: Vec<f64> = u.iter().zip(&du_prev).map(|(a, d)| a + ratio * d).collect();
        for &(dof, val) in &bc.values {
            v[dof] = t_new * scale * val;
        }
        let outcome = newton(engine, bc, &mut v, opts, &newton_linear)?;
        match outcome {
            Ok((force_vec, newton_steps, cg, residual, plastic_points)) => {
                engine.commit()?;
                let delta = t_new * scale * bc.delta;
                let force = reaction(&force_vec);
                solution.points.push(CurvePoint {
                    strain: delta / lz,
                    stress: nominal(force, delta),
                    delta,
                    force,
                    newton: newton_steps,
                    cg_iterations: cg,
                    residual,
                    plastic_points,
                });
                du_prev = v.iter().zip(&u).map(|(a, b)| a - b).collect();
                dt_prev = dt_used;
                u = v;
                t = t_new;
                halvings = 0;
                streak += 1;
                if cap == nominal_dt && opts.growth > 1 && solution.past_offset() {
                    cap = nominal_dt * opts.growth as f64;
                }
                // A halved step doubles back after two converged sub-steps;
                // past σ_0.2 a step of at least the nominal size that took
                // at most GROW_NEWTON Newton steps doubles at once.
                let grow = streak >= 2
                    || (cap > nominal_dt
                        && dt >= nominal_dt * (1.0 - 1e-9)
                        && newton_steps <= GROW_NEWTON);
                if dt < cap && grow {
                    dt = (2.0 * dt).min(cap);
                    streak = 0;
                }
                if (t / nominal_dt - (t / nominal_dt).round()).abs() < 1e-9 {
                    step = (t / nominal_dt).round() as usize + 1;
                }
            }
            Err((residual, cg)) => {
                solution.cutback_cg_iterations += cg;
                streak = 0;
                if halvings >= opts.max_cutbacks {
                    solution.record(engine.report());
                    solution.solve_seconds = start.elapsed().as_secs_f64();
                    solution.voxel_plastic_strain = voxel_alpha(grid, bricks, &engine.alphas()?);
                    solution.displacement = u;
                    return Err(PlasticSolveError::NotConverged {
                        step,
                        strain: t_new * opts.strain,
                        residual,
                        tolerance: opts.newton_tolerance,
                        cutbacks: halvings,
                        curve: Box::new(solution),
                    });
                }
                halvings += 1;
                solution.cutbacks += 1;
                dt = dt_used / 2.0;
            }
        }
    }
    solution.voxel_plastic_strain = voxel_alpha(grid, bricks, &engine.alphas()?);
    solution.displacement = u;
    solution.record(engine.report());
    solution.solve_seconds = start.elapsed().as_secs_f64();
    Ok(solution)
}

pub use super::engine::{COARSE_DEGREE, REBUILD_CHANGE};
/// A step past σ_0.2 that converged in at most this many Newton steps lets
/// the next one double ([`PlasticOptions::growth`]).
pub const GROW_NEWTON: usize = 5;
/// Newton gives up (and the step is cut back) when ‖R‖ has grown this many
/// steps in a row, rather than spending the rest of
/// [`PlasticOptions::max_newton`].
pub const DIVERGING_STEPS: usize = 2;
/// Every Newton step's PCG tolerance, relative to ‖R‖ (an inexact Newton
/// step). ‖R‖ then falls about tenfold a step. A tighter η pays only where
/// Newton itself converges faster than that, and the PCG pays for it: a
/// lattice's tangent at its plateau has as many soft modes as hinges, and
/// the elastic preconditioner leaves them, so a step's last tenfold costs
/// many more iterations than its first. On the shipped scene a step to
/// η ≈ 10⁻² took 50–110 iterations where one to 0.1 took 5–25.
/// Eisenstat & Walker's rule (η = 0.3 × the last step's reduction of ‖R‖,
/// within [10⁻³, 0.1], no tighter than what takes ‖R‖ to 0.05 of the
/// Newton tolerance), measured against this: 492 → 434 PCG iterations at
/// h = 0.05 mm and 717 → 642 at h = 0.1 mm for 3.2 → 4.0–4.1 Newton steps
/// per increment, every curve point within 4·10⁻⁶ of a run to 10⁻⁷
/// (docs/plastic.md, "The brick passes by component; η").
pub const ETA: f64 = 0.1;

/// ᾱ averaged over the 8 points of each solid voxel, per grid voxel.
fn voxel_alpha(grid: &VoxelGrid, bricks: &Bricks, alpha: &[f64]) -> Vec<f64> {
    let mut out = vec![0.0; grid.voxel_count()];
    for (e, &v) in bricks.voxel.iter().enumerate() {
        out[v as usize] = alpha[8 * e..8 * e + 8].iter().sum::<f64>() / 8.0;
    }
    out
}

/// Newton's method on one increment from the predictor `u` (prescribed
/// values set): Ok(Ok((f_int, steps, PCG iterations, ‖R‖/‖f‖, yielding
/// points))) when converged, Ok(Err((the last ‖R‖/‖f‖, PCG iterations
/// spent))) when not (a PCG that fails or breaks down included: the
/// increment is cut back), Err when the engine itself failed.
#[allow(clippy::type_complexity)]
fn newton<E: Engine>(
    engine: &mut E,
    bc: &crate::fem::load::Constraints,
    u: &mut [f64],
    opts: &PlasticOptions,
    linear: &dyn Fn(f64) -> SolverOptions,
) -> Result<Result<(Vec<f64>, usize, usize, f64, usize), (f64, usize)>, EngineError> {
    let mut cg_total = 0;
    let mut last = f64::INFINITY;
    let mut rising = 0usize;
    for steps in 0..=opts.max_newton {
        let eval = engine.internal_force(u)?;
        let mut r = eval.force.clone();
        mask(&bc.fixed, &mut r);
        let reference = norm(&eval.force);
        let rel = if reference > 0.0 {
            norm(&r) / reference
        } else {
            0.0
        };
        if !rel.is_finite() {
            return Ok(Err((rel, cg_total)));
        }
        rising = if rel > last { rising + 1 } else { 0 };
        last = rel;
        if rel <= opts.newton_tolerance {
            return Ok(Ok((eval.force, steps, cg_total, rel, eval.plastic_points)));
        }
        if steps == opts.max_newton || rising >= DIVERGING_STEPS {
            break;
        }
        let b: Vec<f64> = r.iter().map(|v| -v).collect();
        match engine.solve_tangent(b, &linear(ETA), eval.plastic_points) {
            Ok((mut du, stats)) if stats.converged => {
                cg_total += stats.iterations;
                // The prescribed dofs keep their values: an inexact PCG
                // leaves them a residual-sized step (the V-cycle's coarse
                // correction reaches them), which moved δ itself and with
                // it the reaction, by up to 1e-4 on a lattice.
                mask(&bc.fixed, &mut du);
                u.par_iter_mut().zip(&du).for_each(|(a, d)| *a += d);
            }
            Ok((_, stats)) => return Ok(Err((last, cg_total + stats.iterations))),
            Err(e) if e.is_pcg() => return Ok(Err((last, cg_total))),
            Err(e) => return Err(e),
        }
    }
    Ok(Err((last, cg_total)))
}
