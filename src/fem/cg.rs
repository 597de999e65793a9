//! Preconditioned conjugate gradients, written once.
//!
//! - [`pcg`] is the host loop of every backend: it starts the backend, runs
//!   iterations, reads ‖r‖² every [`PcgBackend::check_every`] iterations,
//!   reports progress and applies the stop rule.
//! - [`PcgBackend`] is where iterations run. A backend computes α and β
//!   itself, so a GPU backend never sends scalars back to the host inside
//!   an iteration (`crate::gpu` records its recurrence in WGSL).
//! - [`HostPcg`] is the recurrence on f64 host vectors, against any
//!   [`LinearOperator`] and any [`Preconditioner`]: the CPU solver with
//!   Jacobi or multigrid is this one type.
//!
//! One iteration (z = M⁻¹r, ρ = r·z):
//!
//! ```text
//! q = A p;  α = ρ / (p·q);  x += α p;  r −= α q;  z = M⁻¹ r;
//! ρ' = r·z;  β = ρ' / ρ;  p = z + β p;  ρ = ρ'
//! ```
//!
//! Stop rule (spec): ‖r‖₂ ≤ tol·‖b‖₂ on the true residual r = b − A x. The
//! loop checks the backend's recursive residual; when it meets the
//! tolerance the backend replaces it by the true one
//! ([`PcgBackend::replace_residual`]), and CG goes on from there if that
//! one misses it. [`crate::fem::Problem::finish`] applies the same test,
//! computed the same way ([`crate::fem::operator::residual`]), to the result.

use crate::fem::operator::residual_into;
use crate::fem::operator::LinearOperator;
use crate::fem::options::SolverOptions;
use crate::fem::precond::Preconditioner;
use crate::fem::vector::{ordered_sum, CHUNK};
use rayon::prelude::*;
use serde::Serialize;
use std::borrow::Cow;
use std::time::Instant;

/// Why CG stopped without a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PcgError {
    /// p·q ≤ 0: the operator is not positive definite on the search space.
    #[error("CG broke down at iteration {iteration}: p·Ap = {pq:e} ≤ 0 (the stiffness is singular or indefinite: a mechanism or a missing constraint)")]
    Breakdown { iteration: usize, pq: f64 },
    /// ‖r‖² became infinite or NaN.
    #[error("the residual became {rr} at iteration {iteration}")]
    NonFinite { iteration: usize, rr: f64 },
    /// The thread's observer asked the solve to stop
    /// ([`crate::progress::observe`]: Ctrl-C in the Python binding).
    #[error("the solve was cancelled at iteration {iteration}")]
    Cancelled { iteration: usize },
}

/// A place where PCG iterations run.
pub trait PcgBackend {
    /// The backend's failures (a [`PcgError`] is one of them).
    type Error: From<PcgError>;
    /// x = 0, r = b, z = M⁻¹r, p = z, ρ = r·z. Returns ‖b‖².
    fn start(&mut self) -> Result<f64, Self::Error>;
    /// One full iteration (α, β computed by the backend).
    fn step(&mut self) -> Result<(), Self::Error>;
    /// ‖r‖² of the current residual.
    fn residual_norm_sq(&mut self) -> Result<f64, Self::Error>;
    /// How often the loop reads ‖r‖², given the requested cadence
    /// (`solver.check_every`).
    fn check_every(&self, requested: usize) -> usize {
        requested
    }
    /// Called when ‖r‖² has met the tolerance: replaces the residual by the
    /// true one, b − A·x, and returns its ‖r‖² (the iteration goes on from
    /// it when it misses the tolerance). `None` where
    /// [`PcgBackend::residual_norm_sq`] already returns the true residual at
    /// the tolerance (the GPU's reliable updates).
    fn replace_residual(&mut self) -> Result<Option<f64>, Self::Error> {
        Ok(None)
    }
}

/// How a solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PcgStats {
    pub iterations: usize,
    /// ‖r‖ / ‖b‖ of the backend's residual at the last check.
    pub relative_residual: f64,
    pub converged: bool,
}

/// Runs PCG on `backend` until ‖r‖ ≤ tol·‖b‖ or `max_iterations`.
pub fn pcg<B: PcgBackend + ?Sized>(
    backend: &mut B,
    opts: &SolverOptions,
) -> Result<PcgStats, B::Error> {
    let bb = backend.start()?;
    if bb == 0.0 {
        return Ok(PcgStats {
            iterations: 0,
            relative_residual: 0.0,
            converged: true,
        });
    }
    let threshold = opts.tolerance * opts.tolerance * bb;
    let every = backend.check_every(opts.check_every).max(1);
    let progress = crate::progress::Progress::solve(opts.tolerance);
    let mut rr = bb;
    let mut it = 0;
    while it < opts.max_iterations {
        let n = every.min(opts.max_iterations - it);
        for _ in 0..n {
            backend.step()?;
        }
        it += n;
        rr = backend.residual_norm_sq()?;
        if !progress.iteration(it, (rr / bb).sqrt()) {
            return Err(PcgError::Cancelled { iteration: it }.into());
        }
        if !rr.is_finite() {
            return Err(PcgError::NonFinite { iteration: it, rr }.into());
        }
        if rr <= threshold {
            match backend.replace_residual()? {
                Some(true_rr) if true_rr > threshold => {
                    rr = true_rr;
                    continue;
                }
                Some(true_rr) => rr = true_rr,
                None => {}
            }
            return Ok(PcgStats {
                iterations: it,
                relative_residual: (rr / bb).sqrt(),
                converged: true,
            });
        }
    }
    Ok(PcgStats {
        iterations: it,
        relative_residual: (rr / bb).sqrt(),
        converged: false,
    })
}

/// The PCG recurrence on f64 host vectors (rayon): operator `A`,
/// preconditioner `M`, six vectors of 3 values per node (b, x, r, z, p, q;
/// b is kept for the true residual at the stop).
pub struct HostPcg<'a, A, M> {
    a: &'a A,
    m: &'a M,
    b: Cow<'a, [f64]>,
    x: Vec<f64>,
    r: Vec<f64>,
    z: Vec<f64>,
    p: Vec<f64>,
    q: Vec<f64>,
    rho: f64,
    rr: f64,
    iteration: usize,
}

impl<'a, A: LinearOperator, M: Preconditioner> HostPcg<'a, A, M> {
    /// A solver of `a` x = `b` preconditioned by `m`.
    pub fn new(a: &'a A, m: &'a M, b: Vec<f64>) -> HostPcg<'a, A, M> {
        let n = b.len();
        let mut cg = HostPcg::column(a, m, Cow::Owned(b));
        cg.q = vec![0.0; n];
        cg
    }

    /// A column of [`pcg_many`]: b borrowed, and no q of its own (the
    /// columns share one: q lives only inside an iteration's first half).
    fn column(a: &'a A, m: &'a M, b: Cow<'a, [f64]>) -> HostPcg<'a, A, M> {
        let n = b.len();
        assert_eq!(n, a.len(), "b has the operator's length");
        HostPcg {
            a,
            m,
            r: b.to_vec(),
            b,
            x: vec![0.0; n],
            z: vec![0.0; n],
            p: vec![0.0; n],
            q: Vec::new(),
            rho: 0.0,
            rr: 0.0,
            iteration: 0,
        }
    }

    /// The solution x.
    pub fn into_solution(self) -> Vec<f64> {
        self.x
    }
}

impl<A: LinearOperator, M: Preconditioner> HostPcg<'_, A, M> {
    /// x = 0, r = b; returns ‖b‖².
    fn begin(&mut self) -> f64 {
        self.x.iter_mut().for_each(|v| *v = 0.0);
        self.r.copy_from_slice(&self.b);
        self.rr = ordered_sum(
            self.r
                .par_chunks(CHUNK)
                .map(|r| r.iter().map(|v| v * v).sum()),
        );
        self.iteration = 0;
        self.rr
    }

    /// With z = M⁻¹r and `rho` = r·z: p = z.
    fn restart(&mut self, rho: f64) {
        self.rho = rho;
        self.p.copy_from_slice(&self.z);
    }

    /// The next iteration's q = A p and α = ρ / p·q (a breakdown where
    /// p·q ≤ 0).
    fn step_length(&mut self) -> Result<f64, PcgError> {
        self.iteration += 1;
        let pq = self.a.apply_dot(&self.p, &mut self.q);
        if pq <= 0.0 || !pq.is_finite() {
            return Err(PcgError::Breakdown {
                iteration: self.iteration,
                pq,
            });
        }
        Ok(self.rho / pq)
    }

    /// An iteration up to the preconditioner: q = A p, α, x += αp and
    /// r −= αq, with ‖r‖².
    fn advance(&mut self) -> Result<(), PcgError> {
        let alpha = self.step_length()?;
        // x += αp, r −= αq, with the partial sums of r·r in the same pass.
        self.rr = ordered_sum(
            self.x
                .par_chunks_mut(CHUNK)
                .zip(self.r.par_chunks_mut(CHUNK))
                .zip(self.p.par_chunks(CHUNK).zip(self.q.par_chunks(CHUNK)))
                .map(|((x, r), (p, q))| {
                    let mut rr = 0.0;
                    for i in 0..x.len() {
                        x[i] += alpha * p[i];
                        r[i] -= alpha * q[i];
                        rr += r[i] * r[i];
                    }
                    rr
                }),
        );
        Ok(())
    }

    /// [`HostPcg::advance`] with a diagonal M = D (point Jacobi): z = D⁻¹r
    /// and r·z made in the same pass as r, so r is read once, not twice;
    /// returns r·z. Each chunk sums as [`HostPcg::advance`] and
    /// [`Preconditioner::apply_dot`] do, so the same bits.
    fn advance_diagonal(&mut self, d: &[f64]) -> Result<f64, PcgError> {
        let alpha = self.step_length()?;
        let sums: Vec<(f64, f64)> = self
            .x
            .par_chunks_mut(CHUNK)
            .zip(self.r.par_chunks_mut(CHUNK))
            .zip(self.z.par_chunks_mut(CHUNK))
            .zip(
                self.p
                    .par_chunks(CHUNK)
                    .zip(self.q.par_chunks(CHUNK))
                    .zip(d.par_chunks(CHUNK)),
            )
            .map(|(((x, r), z), ((p, q), d))| {
                let (mut rr, mut rz) = (0.0, 0.0);
                for i in 0..x.len() {
                    x[i] += alpha * p[i];
                    r[i] -= alpha * q[i];
                    rr += r[i] * r[i];
                    z[i] = d[i] * r[i];
                    rz += r[i] * r[i] * d[i];
                }
                (rr, rz)
            })
            .collect();
        self.rr = sums.iter().map(|s| s.0).sum();
        Ok(sums.iter().map(|s| s.1).sum())
    }

    /// The rest of the iteration, with z = M⁻¹r and `rho_new` = r·z:
    /// β = ρ'/ρ, p = z + βp.
    fn turn(&mut self, rho_new: f64) {
        let beta = rho_new / self.rho;
        self.rho = rho_new;
        self.p
            .par_chunks_mut(CHUNK)
            .zip(self.z.par_chunks(CHUNK))
            .for_each(|(p, z)| {
                for i in 0..p.len() {
                    p[i] = z[i] + beta * p[i];
                }
            });
    }
}

impl<A: LinearOperator, M: Preconditioner> PcgBackend for HostPcg<'_, A, M> {
    type Error = PcgError;

    fn start(&mut self) -> Result<f64, PcgError> {
        let bb = self.begin();
        let rho = self.m.apply_dot(&self.r, &mut self.z);
        self.restart(rho);
        Ok(bb)
    }

    fn step(&mut self) -> Result<(), PcgError> {
        let rho = match self.m.diagonal_inverse() {
            Some(d) => self.advance_diagonal(d)?,
            None => {
                self.advance()?;
                self.m.apply_dot(&self.r, &mut self.z)
            }
        };
        self.turn(rho);
        Ok(())
    }

    fn residual_norm_sq(&mut self) -> Result<f64, PcgError> {
        Ok(self.rr)
    }

    /// ‖r‖² is a by-product of every iteration: check each one.
    fn check_every(&self, _requested: usize) -> usize {
        1
    }

    /// r = b − A x; CG restarts from it (p = M⁻¹r) if it goes on.
    fn replace_residual(&mut self) -> Result<Option<f64>, PcgError> {
        self.rr = residual_into(self.a, &self.b, &self.x, &mut self.r);
        let rr = self.rr;
        let rho = self.m.apply_dot(&self.r, &mut self.z);
        self.restart(rho);
        Ok(Some(rr))
    }
}

/// One right-hand side's solve: its solution, how PCG ended, and its
/// seconds (its share, where right-hand sides shared work).
#[derive(Debug, Clone)]
pub struct Solved {
    pub x: Vec<f64>,
    pub stats: PcgStats,
    pub seconds: f64,
}

/// PCG on several right-hand sides of one operator in lockstep: each
/// column has its own recurrence, stop rule and statistics, with the bits
/// of [`pcg`] on a [`HostPcg`] of that column alone, while the
/// preconditioner is applied to all the unconverged columns at once
/// ([`Preconditioner::apply_dot_many`]). A column that meets the tolerance
/// leaves the batch. A column's seconds are its own work plus its share of
/// each batched preconditioner application.
pub fn pcg_many<A: LinearOperator, M: Preconditioner>(
    a: &A,
    m: &M,
    bs: &[Vec<f64>],
    opts: &SolverOptions,
) -> Result<Vec<Solved>, PcgError> {
    let mut cols: Vec<HostPcg<'_, A, M>> = bs
        .iter()
        .map(|b| HostPcg::column(a, m, Cow::Borrowed(b)))
        .collect();
    let mut q = vec![0.0; a.len()];
    let mut seconds = vec![0.0; cols.len()];
    let bbs: Vec<f64> = cols.iter_mut().map(HostPcg::begin).collect();
    // A zero right-hand side has the solution x = 0, as in `pcg`.
    let mut stats: Vec<Option<PcgStats>> = bbs
        .iter()
        .map(|&bb| {
            (bb == 0.0).then_some(PcgStats {
                iterations: 0,
                relative_residual: 0.0,
                converged: true,
            })
        })
        .collect();
    let mut active: Vec<usize> = (0..cols.len()).filter(|&j| stats[j].is_none()).collect();
    let rhos = precondition(m, &mut cols, &active, &mut seconds);
    for (&j, rho) in active.iter().zip(rhos) {
        cols[j].restart(rho);
    }
    let progress = crate::progress::Progress::solve(opts.tolerance);
    let mut it = 0;
    while !active.is_empty() && it < opts.max_iterations {
        it += 1;
        for &j in &active {
            let t = Instant::now();
            std::mem::swap(&mut cols[j].q, &mut q);
            let advanced = cols[j].advance();
            std::mem::swap(&mut cols[j].q, &mut q);
            advanced?;
            seconds[j] += t.elapsed().as_secs_f64();
        }
        let rhos = precondition(m, &mut cols, &active, &mut seconds);
        for (&j, rho) in active.iter().zip(rhos) {
            let t = Instant::now();
            cols[j].turn(rho);
            seconds[j] += t.elapsed().as_secs_f64();
        }
        // The progress shows the column furthest from its tolerance.
        let worst = active
            .iter()
            .map(|&j| cols[j].rr / bbs[j])
            .fold(0.0f64, |w, v| if v > w || v.is_nan() { v } else { w });
        if !progress.iteration(it, worst.sqrt()) {
            return Err(PcgError::Cancelled { iteration: it });
        }
        let mut going = Vec::with_capacity(active.len());
        for j in active {
            let (c, bb) = (&mut cols[j], bbs[j]);
            if !c.rr.is_finite() {
                return Err(PcgError::NonFinite {
                    iteration: it,
                    rr: c.rr,
                });
            }
            let threshold = opts.tolerance * opts.tolerance * bb;
            if c.rr <= threshold {
                let t = Instant::now();
                c.replace_residual()?;
                seconds[j] += t.elapsed().as_secs_f64();
                if c.rr <= threshold {
                    stats[j] = Some(PcgStats {
                        iterations: it,
                        relative_residual: (c.rr / bb).sqrt(),
                        converged: true,
                    });
                    continue;
                }
            }
            going.push(j);
        }
        active = going;
    }
    for j in active {
        stats[j] = Some(PcgStats {
            iterations: it,
            relative_residual: (cols[j].rr / bbs[j]).sqrt(),
            converged: false,
        });
    }
    Ok(cols
        .into_iter()
        .zip(stats)
        .zip(seconds)
        .map(|((c, stats), seconds)| Solved {
            x: c.into_solution(),
            stats: stats.expect("every column ended"),
            seconds,
        })
        .collect())
}

/// z = M⁻¹r and ρ = r·z of the `active` columns at once, each column
/// charged an equal share of the time.
fn precondition<A: LinearOperator, M: Preconditioner>(
    m: &M,
    cols: &mut [HostPcg<'_, A, M>],
    active: &[usize],
    seconds: &mut [f64],
) -> Vec<f64> {
    let t = Instant::now();
    let (rs, mut zs): (Vec<&[f64]>, Vec<&mut [f64]>) = cols
        .iter_mut()
        .enumerate()
        .filter(|(j, _)| active.contains(j))
        .map(|(_, c)| (&c.r[..], &mut c.z[..]))
        .unzip();
    let rhos = m.apply_dot_many(&rs, &mut zs);
    let share = t.elapsed().as_secs_f64() / active.len().max(1) as f64;
    for &j in active {
        seconds[j] += share;
    }
    rhos
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A backend whose recursive residual halves every iteration while its
    /// true residual lags `lag` halvings behind.
    struct Drifting {
        it: i32,
        lag: i32,
        replaced: usize,
    }

    impl PcgBackend for Drifting {
        type Error = PcgError;
        fn start(&mut self) -> Result<f64, PcgError> {
            Ok(1.0)
        }
        fn step(&mut self) -> Result<(), PcgError> {
            self.it += 1;
            Ok(())
        }
        fn residual_norm_sq(&mut self) -> Result<f64, PcgError> {
            Ok(0.25f64.powi(self.it))
        }
        fn replace_residual(&mut self) -> Result<Option<f64>, PcgError> {
            self.replaced += 1;
            let true_rr = 0.25f64.powi(self.it - self.lag);
            // The iteration goes on from the true residual.
            self.it -= self.lag;
            self.lag = 0;
            Ok(Some(true_rr))
        }
    }

    #[test]
    fn the_stop_rule_is_checked_on_the_true_residual() {
        let opts = SolverOptions {
            tolerance: 1e-3,
            max_iterations: 100,
            check_every: 1,
            ..Default::default()
        };
        let mut b = Drifting {
            it: 0,
            lag: 3,
            replaced: 0,
        };
        let stats = pcg(&mut b, &opts).unwrap();
        // ‖r‖ = 2^-it ≤ 1e-3 from it = 10; the true one then is 2^-7, so CG
        // goes on to it = 10 again on the true residual.
        assert_eq!(b.replaced, 2);
        assert!(stats.converged);
        assert!(stats.relative_residual <= 1e-3, "{stats:?}");
        assert_eq!(stats.iterations, 13);
    }

    #[test]
    fn point_jacobi_in_the_update_pass_gives_the_bits_of_its_own_pass() {
        use crate::fem::hex8::element_stiffness;
        use crate::fem::mesh::ActiveMesh;
        use crate::fem::operator::{StencilRows, StencilTable};
        use crate::fem::precond::Jacobi;
        use crate::material::YoungPoisson;
        /// The same M, applied in its own pass.
        struct Apart(Jacobi);
        impl Preconditioner for Apart {
            fn apply(&self, r: &[f64], z: &mut [f64]) {
                self.0.apply(r, z)
            }
            fn apply_dot(&self, r: &[f64], z: &mut [f64]) -> f64 {
                self.0.apply_dot(r, z)
            }
        }
        // 13³ nodes: two parallel chunks.
        let mut g = crate::grid::VoxelGrid::full([12, 12, 12], 0.05);
        for v in (0..g.voxel_count()).filter(|v| v % 17 == 3) {
            g.solid[v] = 0;
        }
        let mesh = ActiveMesh::new(&g).unwrap();
        assert!(mesh.len() > crate::fem::vector::CHUNK_NODES);
        let table = StencilTable::new(&element_stiffness(YoungPoisson::tantalum(), 0.05));
        let a = StencilRows::new(&mesh, &table);
        let b: Vec<f64> = (0..a.len()).map(|i| (i as f64 * 0.37).sin()).collect();
        let jacobi = Jacobi::new(&a);
        assert!(jacobi.diagonal_inverse().is_some());
        let apart = Apart(Jacobi::new(&a));
        let mut fused = HostPcg::new(&a, &jacobi, b.clone());
        let mut separate = HostPcg::new(&a, &apart, b);
        fused.start().unwrap();
        separate.start().unwrap();
        for _ in 0..6 {
            fused.step().unwrap();
            separate.step().unwrap();
            assert_eq!(fused.rr.to_bits(), separate.rr.to_bits());
            assert_eq!(fused.rho.to_bits(), separate.rho.to_bits());
        }
        let bits = |v: &[f64]| v.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fused.z), bits(&separate.z));
        assert_eq!(
            bits(&fused.into_solution()),
            bits(&separate.into_solution())
        );
    }

    #[test]
    fn a_non_finite_residual_is_an_error() {
        struct Nan;
        impl PcgBackend for Nan {
            type Error = PcgError;
            fn start(&mut self) -> Result<f64, PcgError> {
                Ok(1.0)
            }
            fn step(&mut self) -> Result<(), PcgError> {
                Ok(())
            }
            fn residual_norm_sq(&mut self) -> Result<f64, PcgError> {
                Ok(f64::NAN)
            }
        }
        let err = pcg(&mut Nan, &SolverOptions::default()).unwrap_err();
        assert!(
            matches!(err, PcgError::NonFinite { iteration: 25, .. }),
            "{err}"
        );
    }
}
