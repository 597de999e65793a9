//! Where a plastic solve's work runs ([`Engine`]): the stress update with
//! the internal forces, the PCG on the tangent, and the plastic states.
//! [`solve`](super::solve) drives Newton's method on the host over either:
//!
//! - [`CpuEngine`]: rayon, f64 (`Assembly`), the elastic multigrid (or
//!   Jacobi, or a hierarchy on the tangent) as the preconditioner;
//! - [`GpuEngine`]: the device kernels of [`crate::gpu::plastic`], the
//!   update and the forces in f64, the PCG in f32 with the tangent as its
//!   operator and the linear solver's device hierarchy as preconditioner.
//!   Its PCG reaches [`Engine::tolerance_floor`] at best; the elastic
//!   solve asks for less and is refined on the host
//!   ([`super::solve`]).

use std::sync::Mutex;
use std::time::Instant;

use rayon::prelude::*;

use crate::fem::cg::{pcg, HostPcg, PcgStats};
use crate::fem::multigrid::{BlockMatrix, Multigrid};
use crate::fem::operator::LinearOperator;
use crate::fem::options::{Preconditioner, SolverOptions};
use crate::fem::precond::{self, Jacobi};
use crate::fem::result::SolveError;
use crate::gpu::plastic::{GpuPlastic, PlasticInput, NO_BRICK};
use crate::gpu::{GpuContext, GpuError};
use crate::plastic::elements::{Assembly, Evaluated};
use crate::plastic::material::{PackedTangent, State};

/// Where the Newton steps' work runs.
pub trait Engine {
    /// f_int at `u` from the converged states; each point's trial state
    /// and tangent are kept for [`Engine::solve_tangent`] and
    /// [`Engine::commit`].
    fn internal_force(&mut self, u: &[f64]) -> Result<Evaluated, EngineError>;
    /// A Δu with A Δu = b to `opts.tolerance` (relative), A the
    /// constrained tangent of the last [`Engine::internal_force`] (the
    /// elastic one before the first); `plastic_points` of that update.
    fn solve_tangent(
        &mut self,
        b: Vec<f64>,
        opts: &SolverOptions,
        plastic_points: usize,
    ) -> Result<(Vec<f64>, PcgStats), EngineError>;
    /// The smallest relative tolerance one [`Engine::solve_tangent`] can
    /// reach (0 in f64).
    fn tolerance_floor(&self) -> f64;
    /// The trial states become the converged ones (an increment converged).
    fn commit(&mut self) -> Result<(), EngineError>;
    /// ᾱ of every point of the converged states (8 per brick).
    fn alphas(&self) -> Result<Vec<f64>, EngineError>;
    /// Where it ran and what it cost.
    fn report(&self) -> EngineReport;
}

/// Where an engine ran and what it cost.
#[derive(Debug, Clone, Default)]
pub struct EngineReport {
    /// "cpu" or "gpu", and on what: "rayon, N threads" or the adapter.
    pub backend: &'static str,
    pub adapter: String,
    /// Hierarchies built on the tangent, their wall time (s), the largest
    /// one's bytes.
    pub rebuilds: usize,
    pub rebuild_seconds: f64,
    pub hierarchy_bytes: usize,
    /// The plastic buffers on the device, and everything there with the
    /// PCG and its hierarchy (a GPU engine).
    pub device_state_bytes: Option<usize>,
    pub device_bytes: Option<u64>,
}

/// Why an engine step failed (a PCG that does not converge is not one:
/// its stats say so).
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Solve(#[from] SolveError),
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

impl EngineError {
    /// Whether PCG itself failed (broke down, or its residual became
    /// non-finite): the Newton step is cut back, not the run ended.
    pub fn is_pcg(&self) -> bool {
        matches!(
            self,
            EngineError::Solve(SolveError::Pcg(_))
                | EngineError::Gpu(GpuError::Solve(SolveError::Pcg(_)))
        )
    }
}

/// The constrained tangent A = P Kᵀ P + (I − P) as a linear operator
/// (`tangent` `None`: every point elastic); with `single` (and a
/// tangent), its brick passes in f32
/// ([`Assembly::apply_constrained_single`]).
pub(super) struct TangentOperator<'a> {
    pub assembly: &'a Assembly<'a>,
    pub tangent: Option<&'a [PackedTangent]>,
    pub fixed: &'a [u8],
    pub buffer: Mutex<Vec<[f64; 24]>>,
    pub single: Option<Mutex<Vec<[f32; 24]>>>,
}

/// The loosest PCG tolerance that the f32 tangent apply serves: a solve
/// asking for less (the elastic solve's 10⁻⁹) runs the brick passes in
/// f64.
pub const SINGLE_TOLERANCE: f64 = 1e-4;

impl LinearOperator for TangentOperator<'_> {
    fn len(&self) -> usize {
        3 * self.fixed.len()
    }

    fn apply(&self, x: &[f64], y: &mut [f64]) {
        match (self.tangent, &self.single) {
            (Some(t), Some(single)) => {
                let mut buffer = single.lock().unwrap_or_else(|e| e.into_inner());
                self.assembly
                    .apply_constrained_single(t, self.fixed, x, y, &mut buffer)
            }
            (tangent, _) => {
                let mut buffer = self.buffer.lock().unwrap_or_else(|e| e.into_inner());
                self.assembly
                    .apply_constrained(tangent, self.fixed, x, y, &mut buffer)
            }
        }
    }
}

/// Zeroes the fixed dofs of `v`.
pub(super) fn mask(fixed: &[u8], v: &mut [f64]) {
    v.par_chunks_mut(3).zip(fixed).for_each(|(vn, &f)| {
        for (c, v) in vn.iter_mut().enumerate() {
            if f & (1 << c) != 0 {
                *v = 0.0;
            }
        }
    });
}

/// The preconditioner of every linear step on the CPU.
pub(super) enum Pre<'p> {
    Jacobi(Jacobi),
    Multigrid(Box<Multigrid<'p>>),
}

impl Pre<'_> {
    fn solve<A: LinearOperator>(
        &self,
        a: &A,
        b: Vec<f64>,
        opts: &SolverOptions,
    ) -> Result<(Vec<f64>, PcgStats), SolveError> {
        match self {
            Pre::Jacobi(m) => run_pcg(a, m, b, opts),
            Pre::Multigrid(m) => run_pcg(a, &**m, b, opts),
        }
    }
}

/// PCG on `a` preconditioned by `m` from zero.
fn run_pcg<A: LinearOperator, M: precond::Preconditioner>(
    a: &A,
    m: &M,
    b: Vec<f64>,
    opts: &SolverOptions,
) -> Result<(Vec<f64>, PcgStats), SolveError> {
    let mut cg = HostPcg::new(a, m, b);
    let stats = pcg(&mut cg, opts)?;
    Ok((cg.into_solution(), stats))
}

/// The hierarchy on the tangent and the yielding points it was built at.
type TangentHierarchy<'a> = Option<(Multigrid<'a, BlockMatrix>, usize)>;

/// What the tangent hierarchies cost.
#[derive(Default)]
struct Cost {
    rebuilds: usize,
    rebuild_seconds: f64,
    bytes: usize,
}

/// The Chebyshev degree of the CPU preconditioner's coarse levels (the
/// linear solver's is [`crate::fem::multigrid::CHEBYSHEV_DEGREE`], 3).
/// With η = [`super::solve::ETA`] a Newton step's iterations are set by
/// the tangent's soft modes more than by the V-cycle, and the coarse
/// levels' 27-block applies are a third of the cycle: degree 2 (4 of them
/// a level instead of 6) took 1–6 % more PCG iterations for 6 % less wall
/// time on the shipped scene at h = 0.1 and 0.05 mm, degree 1 12 % more
/// iterations for no gain (docs/plastic.md, "The brick passes by
/// component; η").
pub const COARSE_DEGREE: usize = 2;

/// The relative change of the number of yielding points that makes the
/// tangent hierarchy stale.
pub const REBUILD_CHANGE: f64 = 0.01;

/// The plastic solve on the CPU (rayon, f64).
pub struct CpuEngine<'a> {
    assembly: &'a Assembly<'a>,
    fixed: &'a [u8],
    pre: Pre<'a>,
    /// Multigrid on the tangent ([`super::solve::PlasticOptions::tangent_hierarchy`]).
    tangent_hierarchy: bool,
    old: Vec<State>,
    trial: Vec<State>,
    tangent: Vec<PackedTangent>,
    buffer: Vec<[f64; 24]>,
    /// The f32 tangent apply's per-brick values.
    single: Vec<[f32; 24]>,
    hierarchy: TangentHierarchy<'a>,
    cost: Cost,
}

impl<'a> CpuEngine<'a> {
    /// Every point elastic and at rest; `pre` the preconditioner of the
    /// elastic stiffness.
    pub(super) fn new(
        assembly: &'a Assembly<'a>,
        fixed: &'a [u8],
        pre: Pre<'a>,
        tangent_hierarchy: bool,
    ) -> CpuEngine<'a> {
        let points = 8 * assembly.bricks.len();
        CpuEngine {
            assembly,
            fixed,
            pre,
            tangent_hierarchy,
            old: vec![State::default(); points],
            trial: vec![State::default(); points],
            tangent: vec![assembly.material.elastic_tangent().into(); points],
            buffer: Vec::new(),
            single: Vec::new(),
            hierarchy: None,
            cost: Cost::default(),
        }
    }

    /// The hierarchy on the tangent, (re)built when there is none or the
    /// number of yielding points has moved by more than [`REBUILD_CHANGE`]
    /// since the last build (within an increment the tangent settles after
    /// a step or two); `None` where it cannot be built.
    fn refresh(&mut self, plastic_points: usize) {
        if let Some((_, at)) = &self.hierarchy {
            let moved = (plastic_points as f64 - *at as f64).abs();
            if moved <= REBUILD_CHANGE * (*at).max(1) as f64 {
                return;
            }
        }
        let t0 = Instant::now();
        // The old one freed first: two at once would double the peak.
        self.hierarchy = None;
        let rows = self.assembly.tangent_rows(&self.tangent);
        let fine_bytes = rows.bytes();
        self.hierarchy = Multigrid::with_rows(self.assembly.mesh, rows, self.fixed)
            .ok()
            .map(|mg| (mg.with_coarse_degree(COARSE_DEGREE), plastic_points));
        if let Some((mg, _)) = &self.hierarchy {
            self.cost.bytes = self.cost.bytes.max(fine_bytes + mg.info().bytes);
        }
        self.cost.rebuild_seconds += t0.elapsed().as_secs_f64();
        self.cost.rebuilds += 1;
    }
}

impl Engine for CpuEngine<'_> {
    fn internal_force(&mut self, u: &[f64]) -> Result<Evaluated, EngineError> {
        Ok(self.assembly.internal_force(
            u,
            &self.old,
            &mut self.trial,
            &mut self.tangent,
            &mut self.buffer,
        ))
    }

    fn solve_tangent(
        &mut self,
        b: Vec<f64>,
        opts: &SolverOptions,
        plastic_points: usize,
    ) -> Result<(Vec<f64>, PcgStats), EngineError> {
        if matches!(self.pre, Pre::Multigrid(_)) && self.tangent_hierarchy && plastic_points > 0 {
            self.refresh(plastic_points);
        }
        let op = TangentOperator {
            assembly: self.assembly,
            tangent: Some(&self.tangent),
            fixed: self.fixed,
            buffer: Mutex::new(std::mem::take(&mut self.buffer)),
            single: (opts.tolerance >= SINGLE_TOLERANCE)
                .then(|| Mutex::new(std::mem::take(&mut self.single))),
        };
        let solved = match &self.hierarchy {
            Some((mg, _)) => run_pcg(&op, mg, b, opts),
            None => self.pre.solve(&op, b, opts),
        };
        self.buffer = op.buffer.into_inner().unwrap_or_else(|e| e.into_inner());
        if let Some(single) = op.single {
            self.single = single.into_inner().unwrap_or_else(|e| e.into_inner());
        }
        Ok(solved?)
    }

    fn tolerance_floor(&self) -> f64 {
        0.0
    }

    fn commit(&mut self) -> Result<(), EngineError> {
        self.old.copy_from_slice(&self.trial);
        Ok(())
    }

    fn alphas(&self) -> Result<Vec<f64>, EngineError> {
        Ok(self.old.iter().map(|s| s.alpha).collect())
    }

    fn report(&self) -> EngineReport {
        EngineReport {
            backend: "cpu",
            adapter: format!("rayon, {} threads", rayon::current_num_threads()),
            rebuilds: self.cost.rebuilds,
            rebuild_seconds: self.cost.rebuild_seconds,
            hierarchy_bytes: self.cost.bytes,
            ..EngineReport::default()
        }
    }
}

/// The smallest relative PCG tolerance asked of the device's f32 PCG:
/// [`super::solve`] refines the elastic solve (10⁻⁹) on the host in
/// passes of this; a Newton step never asks for less than 10⁻³.
pub const GPU_TOLERANCE_FLOOR: f64 = 1e-4;

/// The plastic solve on a GPU ([`GpuPlastic`]).
pub struct GpuEngine<'c> {
    device: GpuPlastic<'c>,
    adapter: String,
}

impl<'c> GpuEngine<'c> {
    /// Uploads the bricks of `assembly` and builds the device PCG on the
    /// elastic stiffness `table` of `assembly.mesh` under `fixed`.
    pub fn new(
        ctx: &'c GpuContext,
        assembly: &Assembly,
        table: &crate::fem::operator::StencilTable,
        fixed: &[u8],
        preconditioner: Preconditioner,
    ) -> Result<GpuEngine<'c>, GpuError> {
        let arrays = DeviceBricks::of(assembly);
        let input = arrays.input(assembly);
        Ok(GpuEngine {
            device: GpuPlastic::new(ctx, assembly.mesh, table, fixed, &input, preconditioner)?,
            adapter: ctx.adapter_name(),
        })
    }
}

/// What the device kernels read of an [`Assembly`] besides its bricks'
/// nodes and gradients.
pub struct DeviceBricks {
    /// wₑ·det J of each brick.
    pub scale: Vec<f64>,
    /// Per active node, its brick at each pattern bit, or [`NO_BRICK`].
    pub node_bricks: Vec<[u32; 8]>,
    /// K, G, σ_y, H.
    pub material: [f64; 4],
}

impl DeviceBricks {
    pub fn of(assembly: &Assembly) -> DeviceBricks {
        let (b, mesh) = (assembly.bricks, assembly.mesh);
        let mut node_bricks = vec![[NO_BRICK; 8]; mesh.len()];
        for (n, nb) in node_bricks.iter_mut().enumerate() {
            b.around(mesh, assembly.grid, n, |e, a| nb[7 - a] = e as u32);
        }
        let (k, g) = assembly.material.moduli();
        let m = &assembly.material;
        DeviceBricks {
            scale: b.weight.iter().map(|w| w * b.det_j).collect(),
            node_bricks,
            material: [k, g, m.yield_strength, m.hardening],
        }
    }

    /// The kernels' input: these arrays with `assembly`'s bricks.
    pub fn input<'a>(&'a self, assembly: &'a Assembly) -> PlasticInput<'a> {
        let b = assembly.bricks;
        PlasticInput {
            brick_nodes: &b.nodes,
            scale: &self.scale,
            node_bricks: &self.node_bricks,
            grads: &b.grads,
            material: self.material,
            mean_dilatation: b.mean_dilatation,
        }
    }
}

impl Engine for GpuEngine<'_> {
    fn internal_force(&mut self, u: &[f64]) -> Result<Evaluated, EngineError> {
        let (force, plastic_points) = self.device.internal_force(u)?;
        Ok(Evaluated {
            force,
            plastic_points,
        })
    }

    fn solve_tangent(
        &mut self,
        b: Vec<f64>,
        opts: &SolverOptions,
        _plastic_points: usize,
    ) -> Result<(Vec<f64>, PcgStats), EngineError> {
        Ok(self.device.solve_tangent(&b, opts)?)
    }

    fn tolerance_floor(&self) -> f64 {
        GPU_TOLERANCE_FLOOR
    }

    fn commit(&mut self) -> Result<(), EngineError> {
        Ok(self.device.commit()?)
    }

    fn alphas(&self) -> Result<Vec<f64>, EngineError> {
        Ok(self.device.states()?.chunks(7).map(|s| s[6]).collect())
    }

    fn report(&self) -> EngineReport {
        EngineReport {
            backend: "gpu",
            adapter: self.adapter.clone(),
            device_state_bytes: Some(self.device.bytes as usize),
            device_bytes: Some(self.device.bytes + self.device.pcg_bytes()),
            ..EngineReport::default()
        }
    }
}
