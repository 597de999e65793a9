//! The finite-element problem and the CPU reference solver.
//!
//! A [`Problem`] is built once from a voxel grid, a material and a load
//! case: the active-node mesh, the stencil table of the element stiffness,
//! the boundary conditions and the right-hand side `b = −K·u_D` (u_D: the
//! prescribed displacements). Any backend solves `A w = b` with the
//! constrained operator A (CPU: [`CpuPcg`]; GPU: `crate::gpu`), and
//! [`Problem::finish`] turns `u = u_D + w` into the reported quantities, in
//! f64 on the host, whatever backend produced w:
//!
//! - reaction F = −Σ (K u)_z over the loaded nodes (F > 0 in compression);
//! - compression: E_eff = (F / (Lx·Ly)) / (δ / Lz);
//! - implant compression (endplates: the bottommost and topmost active node
//!   of every (x, y) column): k = F/δ and the apparent modulus k·H/A with the
//!   envelope's footprint area A and height H;
//! - three-point bending: E_f = F·S³ / (4·w·t³·δ), σ_f / F = 3·S / (2·w·t²);
//! - the true relative residual ‖b − A w‖ / ‖b‖;
//! - von Mises stress at every solid voxel centre and its peak over the
//!   nominal stress (F / (Lx·Ly), or σ_f).

pub mod bc;
pub mod cg;
pub mod hex8;
pub mod load;
pub mod mesh;
pub mod multigrid;
pub mod operator;

use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;
use bc::{BcError, Constraints};
use cg::{pcg, PcgBackend, PcgError, PcgOptions, PcgStats};
use load::LoadCase;
use mesh::{ActiveMesh, MeshError};
use operator::{CpuOperator, LinearOperator, StencilTable, CHUNK_NODES};
use rayon::prelude::*;
use serde::Serialize;
use std::time::Instant;

/// Why a solve could not be carried out (a solve that does not converge is
/// a [`SolveResult`] with `converged: false`, not an error).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SolveError {
    #[error(transparent)]
    Mesh(#[from] MeshError),
    #[error(transparent)]
    Bc(#[from] BcError),
    #[error(transparent)]
    Pcg(#[from] PcgError),
}

/// Solver settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolverOptions {
    /// Stop when ‖r‖ ≤ tolerance·‖b‖.
    pub tolerance: f64,
    pub max_iterations: usize,
    pub preconditioner: Preconditioner,
}

/// The CG preconditioner (`solver.preconditioner`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preconditioner {
    /// Point Jacobi, D⁻¹ (both backends).
    Jacobi,
    /// One geometric multigrid V-cycle ([`multigrid`]; both backends), the
    /// default.
    #[default]
    Multigrid,
}

impl Default for SolverOptions {
    fn default() -> Self {
        SolverOptions {
            tolerance: 1e-6,
            max_iterations: 20000,
            preconditioner: Preconditioner::Multigrid,
        }
    }
}

/// What a solve reports. Moduli are `None` unless the solve converged.
#[derive(Debug, Clone, Serialize)]
pub struct SolveResult {
    pub converged: bool,
    /// Compression: effective modulus, MPa.
    pub e_eff: Option<f64>,
    /// Three-point bending: flexural modulus, MPa.
    pub e_flex: Option<f64>,
    /// Three-point bending: σ_f per newton of load, MPa/N.
    pub flexural_stress_per_newton: Option<f64>,
    /// Reaction force F, N (None unless converged).
    pub reaction_force: Option<f64>,
    /// Implant compression: axial stiffness k = F/δ, N/mm.
    pub stiffness: Option<f64>,
    /// Implant compression: apparent modulus k·H/A, MPa.
    pub apparent_modulus: Option<f64>,
    /// Peak voxel-centre von Mises stress per newton of load, MPa/N.
    pub peak_von_mises_per_newton: Option<f64>,
    /// Applied displacement δ, mm.
    pub delta: f64,
    /// Three-point bending: x-extent of the loading strip actually used, mm.
    pub contact_width: Option<f64>,
    pub active_nodes: usize,
    pub unknowns: usize,
    pub iterations: usize,
    /// True residual ‖b − A w‖ / ‖b‖ at the end.
    pub relative_residual: f64,
    pub tolerance: f64,
    pub solve_seconds: f64,
    pub backend: String,
    pub adapter: String,
    /// Peak voxel-centre von Mises stress over the nominal applied stress.
    pub peak_von_mises_per_nominal: Option<f64>,
    /// The CG preconditioner.
    pub preconditioner: Preconditioner,
    /// Multigrid: active nodes per level, finest first.
    pub multigrid_levels: Option<Vec<usize>>,
    /// Multigrid: bytes of the hierarchy (coarse operators, smoothers,
    /// coarsest factor).
    pub multigrid_bytes: Option<usize>,
    /// Von Mises stress at every voxel centre (0 for void), MPa, voxel-id order.
    #[serde(skip)]
    pub von_mises: Vec<f32>,
    /// Nodal displacements u (3 per active node), mm.
    #[serde(skip)]
    pub displacement: Vec<f64>,
}

/// The discrete problem, shared by every backend.
pub struct Problem<'g> {
    pub grid: &'g VoxelGrid,
    pub material: YoungPoisson,
    pub load: LoadCase,
    pub mesh: ActiveMesh,
    pub table: StencilTable,
    pub bc: Constraints,
}

impl<'g> Problem<'g> {
    /// Builds the mesh, the stencils and the boundary conditions.
    pub fn new(
        grid: &'g VoxelGrid,
        material: YoungPoisson,
        load: &LoadCase,
    ) -> Result<Problem<'g>, SolveError> {
        let mesh = ActiveMesh::new(grid)?;
        let table = StencilTable::new(&hex8::element_stiffness(material, grid.h));
        let bc = bc::constraints(&mesh, load)?;
        Ok(Problem {
            grid,
            material,
            load: load.clone(),
            mesh,
            table,
            bc,
        })
    }

    /// The constrained operator A = P K P + (I − P).
    pub fn operator(&self) -> CpuOperator<'_> {
        CpuOperator::new(&self.mesh, &self.table, Some(&self.bc.fixed))
    }

    /// The unconstrained stiffness K.
    pub fn stiffness(&self) -> CpuOperator<'_> {
        CpuOperator::new(&self.mesh, &self.table, None)
    }

    /// Number of free degrees of freedom.
    pub fn unknowns(&self) -> usize {
        3 * self.mesh.len() - self.bc.fixed_count()
    }

    /// Prescribed displacements u_D (zero on free dofs).
    pub fn prescribed(&self) -> Vec<f64> {
        let mut u = vec![0.0; 3 * self.mesh.len()];
        for &(dof, v) in &self.bc.values {
            u[dof] = v;
        }
        u
    }

    /// b = −K u_D on the free dofs, 0 on the fixed ones.
    pub fn rhs(&self) -> Vec<f64> {
        let ud = self.prescribed();
        let mut b = vec![0.0; ud.len()];
        self.stiffness().apply(&ud, &mut b);
        for (n, &f) in self.bc.fixed.iter().enumerate() {
            for c in 0..3 {
                b[3 * n + c] = if f & (1 << c) != 0 {
                    0.0
                } else {
                    -b[3 * n + c]
                };
            }
        }
        b
    }

    /// Turns the solution w of A w = b into the reported result.
    pub fn finish(
        &self,
        w: Vec<f64>,
        stats: PcgStats,
        tolerance: f64,
        seconds: f64,
        backend: &str,
        adapter: &str,
    ) -> SolveResult {
        let [nx, ny, nz] = self.grid.dims;
        let h = self.grid.h;
        let (lx, ly, lz) = (nx as f64 * h, ny as f64 * h, nz as f64 * h);
        // True residual.
        let b = self.rhs();
        let mut aw = vec![0.0; w.len()];
        self.operator().apply(&w, &mut aw);
        let rr: f64 = ordered_sum(
            b.par_chunks(3 * CHUNK_NODES)
                .zip(aw.par_chunks(3 * CHUNK_NODES))
                .map(|(b, a)| b.iter().zip(a).map(|(b, a)| (b - a) * (b - a)).sum::<f64>()),
        );
        let bb: f64 = ordered_sum(
            b.par_chunks(3 * CHUNK_NODES)
                .map(|c| c.iter().map(|v| v * v).sum::<f64>()),
        );
        let relative_residual = if bb > 0.0 { (rr / bb).sqrt() } else { 0.0 };
        // The recursive residual met the tolerance; the true one must too (1 % slack
        // for rounding): a backend whose arithmetic drifts (f32) is caught here.
        let converged = stats.converged && relative_residual <= 1.01 * tolerance;
        // Total displacement and reaction.
        let mut u = w;
        for &(dof, v) in &self.bc.values {
            u[dof] = v;
        }
        let mut ku = vec![0.0; u.len()];
        self.stiffness().apply(&u, &mut ku);
        let force: f64 = -self.bc.loaded.iter().map(|&n| ku[3 * n + 2]).sum::<f64>();
        let delta = self.bc.delta;
        let mut implant = None;
        let (e_eff, e_flex, sigma_per_n, nominal) = match self.load {
            LoadCase::Compression { .. } => {
                let nominal = force / (lx * ly);
                (Some(nominal / (delta / lz)), None, None, nominal)
            }
            LoadCase::ImplantCompression {
                footprint_area,
                height,
                ..
            } => {
                let stiffness = force / delta;
                implant = Some((stiffness, stiffness * height / footprint_area));
                // Nominal stress: the load over the footprint.
                (None, None, None, force / footprint_area)
            }
            LoadCase::ThreePointBending { span, .. } => {
                let (w_, t) = (ly, lz);
                let per_n = 3.0 * span / (2.0 * w_ * t * t);
                (
                    None,
                    Some(force * span.powi(3) / (4.0 * w_ * t.powi(3) * delta)),
                    Some(per_n),
                    per_n * force,
                )
            }
        };
        let von_mises = self.von_mises(&u);
        let peak = von_mises.iter().fold(0.0f32, |a, &b| a.max(b)) as f64;
        let ok = |v: Option<f64>| v.filter(|_| converged);
        SolveResult {
            converged,
            e_eff: ok(e_eff),
            e_flex: ok(e_flex),
            flexural_stress_per_newton: sigma_per_n,
            reaction_force: ok(Some(force)),
            stiffness: ok(implant.map(|i| i.0)),
            apparent_modulus: ok(implant.map(|i| i.1)),
            peak_von_mises_per_newton: ok(Some(peak / force)),
            delta,
            contact_width: self.bc.contact_width,
            active_nodes: self.mesh.len(),
            unknowns: self.unknowns(),
            iterations: stats.iterations,
            relative_residual,
            tolerance,
            solve_seconds: seconds,
            backend: backend.to_string(),
            adapter: adapter.to_string(),
            peak_von_mises_per_nominal: ok(Some(peak / nominal)),
            preconditioner: Preconditioner::Jacobi,
            multigrid_levels: None,
            multigrid_bytes: None,
            von_mises,
            displacement: u,
        }
    }

    /// Von Mises stress at every voxel centre (0 for void voxels).
    pub fn von_mises(&self, u: &[f64]) -> Vec<f32> {
        let g = self.grid;
        let [nx, ny, _] = g.dims;
        let b = hex8::strain_displacement([0.0; 3], g.h);
        let db = self.material.elasticity_matrix() * b;
        let mut out = vec![0.0f32; g.voxel_count()];
        out.par_chunks_mut(nx).enumerate().for_each(|(row, vm)| {
            let (j, k) = (row % ny, row / ny);
            for (i, v) in vm.iter_mut().enumerate() {
                if !g.is_solid(i, j, k) {
                    continue;
                }
                let mut ue = nalgebra::SVector::<f64, 24>::zeros();
                for a in 0..8 {
                    let c = hex8::corner(a);
                    let n = self.mesh.node_map[g.node_id(i + c[0], j + c[1], k + c[2])] as usize;
                    for d in 0..3 {
                        ue[3 * a + d] = u[3 * n + d];
                    }
                }
                *v = hex8::von_mises(&(db * ue)) as f32;
            }
        });
        out
    }
}

/// Sums per-chunk partial sums in chunk order: the same result whatever
/// the thread count or scheduling.
pub fn ordered_sum<I: IndexedParallelIterator<Item = f64>>(parts: I) -> f64 {
    parts.collect::<Vec<f64>>().iter().sum()
}

/// Jacobi-preconditioned CG on the CPU, f64, five vectors of 3 values per
/// active node (x, r, p, q and the inverse diagonal; z = D⁻¹r is never
/// stored).
pub struct CpuPcg<'p> {
    op: CpuOperator<'p>,
    inv_diag: Vec<f64>,
    /// A multigrid V-cycle as M⁻¹ instead of D⁻¹, with its z = M⁻¹r.
    multigrid: Option<(multigrid::Multigrid<'p>, Vec<f64>)>,
    pub x: Vec<f64>,
    r: Vec<f64>,
    p: Vec<f64>,
    q: Vec<f64>,
    rho: f64,
    rr: f64,
    iteration: usize,
}

impl<'p> CpuPcg<'p> {
    /// A solver for `problem` with right-hand side `b` (moved in as r).
    pub fn new(problem: &'p Problem<'_>, b: Vec<f64>) -> CpuPcg<'p> {
        let op = problem.operator();
        let inv_diag: Vec<f64> = op.diagonal().into_iter().map(|d| 1.0 / d).collect();
        let n = b.len();
        CpuPcg {
            op,
            inv_diag,
            multigrid: None,
            x: vec![0.0; n],
            r: b,
            p: vec![0.0; n],
            q: vec![0.0; n],
            rho: 0.0,
            rr: 0.0,
            iteration: 0,
        }
    }
}

const CHUNK: usize = 3 * CHUNK_NODES;

impl<'p> CpuPcg<'p> {
    /// Preconditions with one multigrid V-cycle instead of Jacobi.
    pub fn with_multigrid(mut self, problem: &'p Problem<'_>) -> CpuPcg<'p> {
        let mg = multigrid::Multigrid::new(&problem.mesh, &problem.table, &problem.bc.fixed);
        let n = self.r.len();
        self.multigrid = Some((mg, vec![0.0; n]));
        self
    }

    /// The multigrid hierarchy, when there is one.
    pub fn multigrid(&self) -> Option<&multigrid::Multigrid<'p>> {
        self.multigrid.as_ref().map(|m| &m.0)
    }

    /// z = M⁻¹ r; returns r·z and r·r.
    fn precondition_mg(&mut self) -> (f64, f64) {
        let (mg, z) = self.multigrid.as_mut().expect("multigrid is on");
        mg.apply(&self.r, z);
        let rz = ordered_sum(
            self.r
                .par_chunks(CHUNK)
                .zip(z.par_chunks(CHUNK))
                .map(|(r, z)| r.iter().zip(z).map(|(r, z)| r * z).sum()),
        );
        let rr = ordered_sum(
            self.r
                .par_chunks(CHUNK)
                .map(|r| r.iter().map(|v| v * v).sum()),
        );
        (rz, rr)
    }
}

impl PcgBackend for CpuPcg<'_> {
    fn start(&mut self) -> Result<f64, PcgError> {
        self.x.iter_mut().for_each(|v| *v = 0.0);
        if self.multigrid.is_some() {
            let (rz, rr) = self.precondition_mg();
            let z = &self.multigrid.as_ref().expect("on").1;
            self.p.copy_from_slice(z);
            self.rho = rz;
            self.rr = rr;
            self.iteration = 0;
            return Ok(rr);
        }
        let (r, d) = (&self.r, &self.inv_diag);
        self.p
            .par_chunks_mut(CHUNK)
            .zip(r.par_chunks(CHUNK))
            .zip(d.par_chunks(CHUNK))
            .for_each(|((p, r), d)| {
                for i in 0..p.len() {
                    p[i] = d[i] * r[i];
                }
            });
        self.rho = ordered_sum(
            r.par_chunks(CHUNK)
                .zip(d.par_chunks(CHUNK))
                .map(|(r, d)| r.iter().zip(d).map(|(r, d)| r * r * d).sum()),
        );
        self.rr = ordered_sum(r.par_chunks(CHUNK).map(|r| r.iter().map(|v| v * v).sum()));
        self.iteration = 0;
        Ok(self.rr)
    }

    fn step(&mut self) -> Result<(), PcgError> {
        self.iteration += 1;
        self.op.apply(&self.p, &mut self.q);
        let pq = ordered_sum(
            self.p
                .par_chunks(CHUNK)
                .zip(self.q.par_chunks(CHUNK))
                .map(|(p, q)| p.iter().zip(q).map(|(p, q)| p * q).sum()),
        );
        if pq <= 0.0 || !pq.is_finite() {
            return Err(PcgError::Breakdown {
                iteration: self.iteration,
                pq,
            });
        }
        let alpha = self.rho / pq;
        if self.multigrid.is_some() {
            self.x
                .par_chunks_mut(CHUNK)
                .zip(self.r.par_chunks_mut(CHUNK))
                .zip(self.p.par_chunks(CHUNK).zip(self.q.par_chunks(CHUNK)))
                .for_each(|((x, r), (p, q))| {
                    for i in 0..x.len() {
                        x[i] += alpha * p[i];
                        r[i] -= alpha * q[i];
                    }
                });
            let (rho_new, rr) = self.precondition_mg();
            self.rr = rr;
            let beta = rho_new / self.rho;
            self.rho = rho_new;
            let z = &self.multigrid.as_ref().expect("on").1;
            self.p
                .par_chunks_mut(CHUNK)
                .zip(z.par_chunks(CHUNK))
                .for_each(|(p, z)| {
                    for i in 0..p.len() {
                        p[i] = z[i] + beta * p[i];
                    }
                });
            return Ok(());
        }
        // x += αp, r −= αq; partial sums of r·D⁻¹r and r·r in the same pass.
        let parts: Vec<(f64, f64)> = self
            .x
            .par_chunks_mut(CHUNK)
            .zip(self.r.par_chunks_mut(CHUNK))
            .zip(self.p.par_chunks(CHUNK).zip(self.q.par_chunks(CHUNK)))
            .zip(self.inv_diag.par_chunks(CHUNK))
            .map(|(((x, r), (p, q)), d)| {
                let (mut rz, mut rr) = (0.0, 0.0);
                for i in 0..x.len() {
                    x[i] += alpha * p[i];
                    r[i] -= alpha * q[i];
                    rz += r[i] * r[i] * d[i];
                    rr += r[i] * r[i];
                }
                (rz, rr)
            })
            .collect();
        let rho_new: f64 = parts.iter().map(|p| p.0).sum();
        self.rr = parts.iter().map(|p| p.1).sum();
        let beta = rho_new / self.rho;
        self.rho = rho_new;
        let (r, d) = (&self.r, &self.inv_diag);
        self.p
            .par_chunks_mut(CHUNK)
            .zip(r.par_chunks(CHUNK))
            .zip(d.par_chunks(CHUNK))
            .for_each(|((p, r), d)| {
                for i in 0..p.len() {
                    p[i] = d[i] * r[i] + beta * p[i];
                }
            });
        Ok(())
    }

    fn residual_norm_sq(&mut self) -> Result<f64, PcgError> {
        Ok(self.rr)
    }
}

/// Solves `load` on `grid` with PCG on the CPU (f64, rayon), preconditioned
/// as `opts` says.
pub fn solve_cpu(
    grid: &VoxelGrid,
    material: YoungPoisson,
    load: &LoadCase,
    opts: &SolverOptions,
) -> Result<SolveResult, SolveError> {
    let start = Instant::now();
    let problem = Problem::new(grid, material, load)?;
    let mut backend = CpuPcg::new(&problem, problem.rhs());
    if opts.preconditioner == Preconditioner::Multigrid {
        backend = backend.with_multigrid(&problem);
    }
    let stats = pcg(
        &mut backend,
        &PcgOptions {
            tolerance: opts.tolerance,
            max_iterations: opts.max_iterations,
            check_every: 1,
        },
    )?;
    let w = std::mem::take(&mut backend.x);
    let info = backend.multigrid().map(|m| m.info());
    drop(backend);
    let seconds = start.elapsed().as_secs_f64();
    let adapter = format!("rayon, {} threads", rayon::current_num_threads());
    let mut result = problem.finish(w, stats, opts.tolerance, seconds, "cpu", &adapter);
    if let Some(info) = info {
        result.preconditioner = Preconditioner::Multigrid;
        result.multigrid_levels = Some(info.nodes);
        result.multigrid_bytes = Some(info.bytes);
    }
    Ok(result)
}
