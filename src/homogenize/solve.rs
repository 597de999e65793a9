//! The periodic cell problem and its six solves (spec, "Periodic
//! homogenization").
//!
//! # The problem
//!
//! The displacement of the cell under the macroscopic strain ε̄ is
//! u = ε̄·x + ũ, with ũ periodic on the wrapped node grid
//! ([`ActiveMesh::periodic`]). Every element stiffness annihilates rigid
//! translations, so voxel e's share of the affine part is its corner
//! positions relative to the voxel: the same 24-vector u⁰_j for every voxel
//! and unit strain j. Equilibrium of the periodic nodes is
//!
//! ```text
//! K ũ_j = b_j,   b_j = −Σ_e φ_e·Ke·u⁰_j   (assembled over the wrapped nodes)
//! ```
//!
//! K is the periodic stiffness, singular only by the three translations:
//! one node is pinned (ũ = 0, its dofs constrained as in
//! [`crate::fem::constrained`]), which changes no strain and no stress.
//!
//! # C^H
//!
//! Column j of C^H is the volume-averaged stress under unit strain j. For
//! an element that reproduces constant strain exactly (both elements of
//! [`crate::fem::hex8`] pass the patch test) the average stress of voxel e
//! contracted with unit strain i is (1/h³)·u⁰_iᵀ·Ke·(u⁰_j + ũ_j,e), so
//!
//! ```text
//! C_ij = (Σ_e φ_e · u⁰_iᵀ Ke u⁰_j − b_i · ũ_j) / V,   V = Lx·Ly·Lz
//! ```
//!
//! (void included in V, as the spec says). The first term is φ̄·D for the
//! trilinear brick; the second needs only a dot product per pair. C is
//! symmetric in exact arithmetic (b_i·ũ_j = ũ_iᵀKũ_j); its measured
//! asymmetry is the solves' error and is reported.
//!
//! # Solves
//!
//! Six PCG solves on the one operator, one
//! [`crate::fem::solver::LinearSolver`] set up once (the multigrid
//! hierarchy, the device buffers) and given all six right-hand sides
//! ([`PeriodicProblem::solve_columns`]). On the CPU they run in lockstep
//! ([`crate::fem::cg::pcg_many`]): the V-cycles of the unconverged columns
//! share each pass over the stored coarse levels, while every column keeps
//! its own recurrence, stop rule and residual, with the bits of its solve
//! alone. The GPU solves them one after another.

use std::time::Instant;

use serde::Serialize;

use super::tensor::Stiffness;
use crate::fem::cg::Solved;
use crate::fem::constrained::Constrained;
use crate::fem::cpu::Cpu;
use crate::fem::hex8::Element;
use crate::fem::mesh::ActiveMesh;
use crate::fem::operator::residual;
use crate::fem::operator::{StencilRows, StencilTable};
use crate::fem::solver::{LinearSolver, SolverBackend, System, Task};
use crate::fem::vector::norm_sq;
use crate::fem::{Preconditioner, SolveError, SolverOptions};
use crate::gpu::{Gpu, GpuContext, GpuError};
use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;

/// The six unit macroscopic strains in Voigt order 11, 22, 33, 23, 13, 12
/// with engineering shears, as symmetric tensors ε (γ = 2ε).
pub fn unit_strain(j: usize) -> [[f64; 3]; 3] {
    let mut e = [[0.0; 3]; 3];
    match j {
        0..=2 => e[j][j] = 1.0,
        3..=5 => {
            // 23, 13, 12: the two axes the shear couples.
            let (a, b) = [(1, 2), (0, 2), (0, 1)][j - 3];
            e[a][b] = 0.5;
            e[b][a] = 0.5;
        }
        _ => panic!("Voigt index {j} out of 0..6"),
    }
    e
}

/// The periodic cell problem: the wrapped mesh, its stencils, the pinned
/// node and the element load vectors of the six unit strains.
pub struct PeriodicProblem<'g> {
    pub grid: &'g VoxelGrid,
    pub material: YoungPoisson,
    pub element: Element,
    pub mesh: ActiveMesh,
    pub table: StencilTable,
    /// Fixed-dof flags: the pinned node's three dofs.
    pub fixed: Vec<u8>,
    /// The pinned node (active index 0, the first in grid order).
    pub pinned: usize,
    /// Ke·u⁰_j per unit strain j: 8 corners × 3 components.
    loads: [[[f64; 3]; 8]; 6],
    /// Σ|Ke|·|u⁰_j| per entry of `loads`.
    sizes: [[[f64; 3]; 8]; 6],
    /// u⁰_iᵀ Ke u⁰_j.
    k0: [[f64; 6]; 6],
}

impl<'g> PeriodicProblem<'g> {
    /// Builds the periodic problem of `grid`.
    pub fn new(
        grid: &'g VoxelGrid,
        material: YoungPoisson,
        element: Element,
    ) -> Result<PeriodicProblem<'g>, SolveError> {
        let ke = crate::fem::problem::finite_element_stiffness(element, material, grid.h)?;
        let mesh = ActiveMesh::periodic(grid)?;
        let table = StencilTable::new(&ke);
        let pinned = 0;
        let mut fixed = vec![0u8; mesh.len()];
        fixed[pinned] = 0b111;
        let u0: [[[f64; 3]; 8]; 6] = std::array::from_fn(|j| {
            let e = unit_strain(j);
            std::array::from_fn(|b| {
                let x = [0, 1, 2].map(|a| ((b >> a) & 1) as f64 * grid.h);
                std::array::from_fn(|r| (0..3).map(|s| e[r][s] * x[s]).sum())
            })
        });
        let loads: [[[f64; 3]; 8]; 6] = std::array::from_fn(|j| {
            std::array::from_fn(|a| {
                let mut f = [0.0; 3];
                for (b, ub) in u0[j].iter().enumerate() {
                    crate::fem::operator::mul_add(&mut f, &table.element[8 * a + b], ub);
                }
                f
            })
        });
        // The size of the terms of each entry of Ke·u⁰: what its round-off
        // is relative to.
        let sizes: [[[f64; 3]; 8]; 6] = std::array::from_fn(|j| {
            std::array::from_fn(|a| {
                let mut f = [0.0; 3];
                for (b, ub) in u0[j].iter().enumerate() {
                    let abs_block = table.element[8 * a + b].map(f64::abs);
                    crate::fem::operator::mul_add(&mut f, &abs_block, &ub.map(f64::abs));
                }
                f
            })
        });
        let k0 = std::array::from_fn(|i| {
            std::array::from_fn(|j| {
                (0..8)
                    .map(|b| (0..3).map(|r| u0[i][b][r] * loads[j][b][r]).sum::<f64>())
                    .sum()
            })
        });
        Ok(PeriodicProblem {
            grid,
            material,
            element,
            mesh,
            table,
            fixed,
            pinned,
            loads,
            sizes,
            k0,
        })
    }

    /// The operator and constraints a linear solver solves.
    pub fn system(&self) -> System<'_> {
        System {
            mesh: &self.mesh,
            table: &self.table,
            fixed: &self.fixed,
        }
    }

    /// The constrained periodic operator A = P K P + (I − P).
    pub fn operator(&self) -> Constrained<'_, StencilRows<'_>> {
        Constrained::new(StencilRows::new(&self.mesh, &self.table), &self.fixed)
    }

    /// Number of free degrees of freedom.
    pub fn unknowns(&self) -> usize {
        3 * self.mesh.len() - 3
    }

    /// b_j = −Σ_e φ_e·Ke·u⁰_j assembled on the wrapped nodes, 0 on the
    /// pinned node. Per node the voxels are summed in pattern-bit order; an
    /// entry within round-off of cancelling is 0, so a column whose affine
    /// field is already in equilibrium (a solid cell, a laminate's in-plane
    /// shear) needs no iteration on either backend.
    pub fn rhs(&self, j: usize) -> Vec<f64> {
        use rayon::prelude::*;
        let mut b = vec![0.0; 3 * self.mesh.len()];
        b.par_chunks_mut(3).enumerate().for_each(|(n, bn)| {
            if n == self.pinned {
                return;
            }
            let p = self.mesh.pattern[n];
            let mut size = [0.0f64; 3];
            for c in 0..8 {
                if p & (1 << c) == 0 {
                    continue;
                }
                let w = self.mesh.phi.as_ref().map_or(1.0, |phi| phi[n][c] as f64);
                let (f, z) = (&self.loads[j][7 - c], &self.sizes[j][7 - c]);
                for r in 0..3 {
                    bn[r] -= w * f[r];
                    size[r] += w * z[r];
                }
            }
            // Forces that cancel to round-off (a node inside a uniform
            // region, where the affine field is already in equilibrium)
            // are zero: 8 products of 24 terms each, exact to 64ε of the
            // terms' sizes.
            for r in 0..3 {
                if bn[r].abs() <= 64.0 * f64::EPSILON * size[r] {
                    bn[r] = 0.0;
                }
            }
        });
        b
    }

    /// Solves column `j` (unit strain j) on `solver`: how it ended, its
    /// right-hand side and its fluctuation field. Converged means the true
    /// residual in f64 is within the tolerance, as the spec says.
    pub fn solve_column<L: LinearSolver>(
        &self,
        solver: &mut L,
        j: usize,
        opts: &SolverOptions,
    ) -> Result<(ColumnSolve, Vec<f64>, Vec<f64>), L::Error> {
        let t = Instant::now();
        let b = self.rhs(j);
        let (x, stats) = solver.solve(b.clone())?;
        let solved = Solved {
            x,
            stats,
            seconds: t.elapsed().as_secs_f64(),
        };
        let column = self.column(j, &b, &solved, opts);
        Ok((column, b, solved.x))
    }

    /// Solves the six columns together ([`LinearSolver::solve_many`]):
    /// how each ended, the right-hand sides and the fluctuation fields.
    pub fn solve_columns<L: LinearSolver>(
        &self,
        solver: &mut L,
        opts: &SolverOptions,
    ) -> Result<SixColumns, L::Error> {
        let bs: [Vec<f64>; 6] = std::array::from_fn(|j| self.rhs(j));
        let solved = solver.solve_many(&bs)?;
        let columns = solved
            .iter()
            .enumerate()
            .map(|(j, s)| self.column(j, &bs[j], s, opts))
            .collect();
        let mut solved = solved.into_iter();
        let fields = std::array::from_fn(|_| solved.next().expect("six solutions").x);
        Ok(SixColumns {
            columns,
            rhs: bs,
            fields,
        })
    }

    /// How column `j` ended: its solve's figures and the true relative
    /// residual in f64 (its computation counted in the seconds).
    fn column(&self, j: usize, b: &[f64], solved: &Solved, opts: &SolverOptions) -> ColumnSolve {
        let t = Instant::now();
        let (_, rr) = residual(&self.operator(), b, &solved.x);
        let bb = norm_sq(b);
        let rel = if bb > 0.0 { (rr / bb).sqrt() } else { 0.0 };
        ColumnSolve {
            strain: super::tensor::VOIGT_ORDER[j],
            converged: solved.stats.converged && rel <= opts.tolerance,
            iterations: solved.stats.iterations,
            relative_residual: rel,
            seconds: solved.seconds + t.elapsed().as_secs_f64(),
        }
    }

    /// Column j of C^H from the fluctuation field `u_j` of unit strain j
    /// alone: C_ij = (Σφ·k0_ij − b_i·ũ_j)/V for every i (each b_i is
    /// assembled, not solved).
    pub fn stiffness_column(&self, j: usize, u_j: &[f64]) -> [f64; 6] {
        let volume = self.grid.voxel_count() as f64 * self.grid.h.powi(3);
        let solid = self.grid.weight_sum();
        std::array::from_fn(|i| {
            let bu: f64 = self.rhs(i).iter().zip(u_j).map(|(x, y)| x * y).sum();
            (solid * self.k0[i][j] - bu) / volume
        })
    }

    /// C^H from the six fluctuation fields `u[j]`, with the right-hand
    /// sides `b[j]` they solve.
    pub fn stiffness(&self, b: &[Vec<f64>; 6], u: &[Vec<f64>; 6]) -> Stiffness {
        let volume = self.grid.voxel_count() as f64 * self.grid.h.powi(3);
        let solid = self.grid.weight_sum();
        Stiffness(std::array::from_fn(|i| {
            std::array::from_fn(|j| {
                let bu: f64 = b[i].iter().zip(&u[j]).map(|(x, y)| x * y).sum();
                (solid * self.k0[i][j] - bu) / volume
            })
        }))
    }
}

/// The six columns solved ([`PeriodicProblem::solve_columns`]).
pub struct SixColumns {
    /// How each ended.
    pub columns: Vec<ColumnSolve>,
    /// The right-hand sides b_j.
    pub rhs: [Vec<f64>; 6],
    /// The fluctuation fields ũ_j.
    pub fields: [Vec<f64>; 6],
}

/// How one of the six solves ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ColumnSolve {
    /// Voigt component of the unit strain ("11" … "12").
    pub strain: &'static str,
    pub converged: bool,
    pub iterations: usize,
    /// The true ‖b − A ũ‖ / ‖b‖ in f64.
    pub relative_residual: f64,
    pub seconds: f64,
}

/// The homogenized stiffness of a periodic cell and how it was solved.
#[derive(Debug, Clone, Serialize)]
pub struct Homogenization {
    /// Whether all six solves converged; C^H is only reported when they did.
    pub converged: bool,
    /// C^H, MPa (Voigt order 11, 22, 33, 23, 13, 12; engineering shears).
    pub stiffness: Stiffness,
    pub columns: Vec<ColumnSolve>,
    /// Σφ over the cell's voxels: the solid fraction of the cell.
    pub solid_fraction: f64,
    pub active_nodes: usize,
    pub unknowns: usize,
    pub tolerance: f64,
    pub element: Element,
    pub preconditioner: Preconditioner,
    /// Active nodes per multigrid level, finest first.
    pub multigrid_levels: Option<Vec<usize>>,
    /// Mesh, stencils, hierarchy (and device upload), s.
    pub setup_seconds: f64,
    /// The whole: set-up and the six solves, s.
    pub solve_seconds: f64,
    pub backend: String,
    pub adapter: String,
    /// GPU: where the reliable updates ran ("device-f64", "device-ds" or
    /// "host"), as [`crate::fem::result::GpuStats::reliable_updates`].
    pub reliable_updates: Option<String>,
    /// GPU: why they fell back to the host, if they did.
    pub reliable_fallback: Option<String>,
}

impl Homogenization {
    /// The solves that did not converge, one clause each
    /// ("strain 11: residual 1.234e-3 after 20000 iterations"), joined by
    /// "; " (empty when all converged).
    pub fn unconverged(&self) -> String {
        self.columns
            .iter()
            .filter(|c| !c.converged)
            .map(|c| {
                format!(
                    "strain {}: residual {:.3e} after {} iterations",
                    c.strain, c.relative_residual, c.iterations
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Why a homogenization could not be carried out: the solver's error
/// (a solve's, or the GPU's).
pub type HomogenizeError = crate::pipeline::solver::SolverError;

/// A periodic cell: the six solves of its unit strains on one solver, set
/// up once, and C^H.
pub struct Periodic<'a> {
    pub grid: &'a VoxelGrid,
    pub material: YoungPoisson,
}

impl Task for Periodic<'_> {
    type Output = Homogenization;

    fn solve<B: SolverBackend>(
        &self,
        backend: &B,
        opts: &SolverOptions,
    ) -> Result<Homogenization, B::Error> {
        let start = Instant::now();
        let problem = PeriodicProblem::new(self.grid, self.material, opts.element)?;
        let mut solver = backend.build(problem.system(), opts)?;
        let setup_seconds = start.elapsed().as_secs_f64();
        let SixColumns {
            columns,
            rhs: bs,
            fields: us,
        } = problem.solve_columns(&mut solver, opts)?;
        let (setup, gpu) = (solver.setup(), solver.gpu_stats());
        // Every column takes the same reliable-update path: the adapter
        // decides it.
        let (reliable_updates, reliable_fallback) =
            gpu.map_or((None, None), |g| (g.reliable_updates, g.reliable_fallback));
        Ok(Homogenization {
            converged: columns.iter().all(|c| c.converged),
            stiffness: problem.stiffness(&bs, &us),
            columns,
            solid_fraction: problem.grid.solid_volume() / problem.grid.voxel_count() as f64,
            active_nodes: problem.mesh.len(),
            unknowns: problem.unknowns(),
            tolerance: opts.tolerance,
            element: problem.element,
            preconditioner: opts.preconditioner,
            multigrid_levels: setup.multigrid.map(|(levels, _)| levels),
            setup_seconds,
            solve_seconds: start.elapsed().as_secs_f64(),
            backend: setup.backend.to_string(),
            adapter: setup.adapter,
            reliable_updates,
            reliable_fallback,
        })
    }

    fn reliable_fallback(output: &Homogenization) -> Option<&str> {
        output.reliable_fallback.as_deref()
    }
}

/// The axial modulus of a periodic cell with cubic symmetry (the seven
/// lattices): one solve, of unit strain 33, instead of six. Column 3 of
/// C^H gives C11 = C33 and C12 = (C13 + C23)/2, and the cubic compliance
/// gives E = (C11 − C12)(C11 + 2·C12)/(C11 + C12). That is 1/S33 of the
/// full C^H only when the voxelized cell is exactly cubic; a voxelized
/// cell is not quite, and tests/references.rs measures the difference on
/// the seven lattices at M/16 (≤ 2.7e-3 relative). The calibration's
/// reference and its search both use this one column: both sides of the
/// calibration measure the same quantity.
pub struct PeriodicAxial<'a> {
    pub grid: &'a VoxelGrid,
    pub material: YoungPoisson,
}

/// What [`PeriodicAxial`] gives.
#[derive(Debug, Clone, Serialize)]
pub struct AxialSolve {
    /// E = 1/S33 under cubic symmetry, MPa.
    pub e: f64,
    /// Column 3 of C^H, MPa.
    pub column: [f64; 6],
    pub solve: ColumnSolve,
    pub active_nodes: usize,
    pub backend: String,
    pub adapter: String,
    /// GPU: why the reliable updates fell back to the host, if they did.
    pub reliable_fallback: Option<String>,
    /// Set-up and the solve, s.
    pub seconds: f64,
}

/// E of a cubic C^H from its third column (C11 = C33, C12 the mean of C13
/// and C23).
pub fn cubic_modulus(column: &[f64; 6]) -> f64 {
    let (c11, c12) = (column[2], 0.5 * (column[0] + column[1]));
    (c11 - c12) * (c11 + 2.0 * c12) / (c11 + c12)
}

impl Task for PeriodicAxial<'_> {
    type Output = AxialSolve;

    fn solve<B: SolverBackend>(
        &self,
        backend: &B,
        opts: &SolverOptions,
    ) -> Result<AxialSolve, B::Error> {
        let start = Instant::now();
        let problem = PeriodicProblem::new(self.grid, self.material, opts.element)?;
        let mut solver = backend.build(problem.system(), opts)?;
        let (solve, _, u) = problem.solve_column(&mut solver, 2, opts)?;
        let column = problem.stiffness_column(2, &u);
        let setup = solver.setup();
        let gpu = solver.gpu_stats();
        Ok(AxialSolve {
            e: cubic_modulus(&column),
            column,
            solve,
            active_nodes: problem.mesh.len(),
            backend: setup.backend.to_string(),
            adapter: setup.adapter,
            reliable_fallback: gpu.and_then(|g| g.reliable_fallback),
            seconds: start.elapsed().as_secs_f64(),
        })
    }

    fn reliable_fallback(output: &AxialSolve) -> Option<&str> {
        output.reliable_fallback.as_deref()
    }
}

/// The six solves on the CPU (no fallback: the backend policy is
/// [`crate::pipeline::solver::Solver`]'s).
pub fn homogenize_cpu(
    grid: &VoxelGrid,
    material: YoungPoisson,
    opts: &SolverOptions,
) -> Result<Homogenization, SolveError> {
    Periodic { grid, material }.solve(&Cpu, opts)
}

/// The six solves on the GPU of `ctx` (f32 PCG with reliable updates, the
/// multigrid hierarchy built once on the host).
pub fn homogenize_gpu(
    ctx: &GpuContext,
    grid: &VoxelGrid,
    material: YoungPoisson,
    opts: &SolverOptions,
) -> Result<Homogenization, GpuError> {
    Periodic { grid, material }.solve(&Gpu(ctx), opts)
}
