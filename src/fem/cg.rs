//! Preconditioned conjugate gradients, written once against a backend.
//!
//! A [`PcgBackend`] owns the vectors (in host memory, or on a GPU) and
//! performs whole iterations; [`pcg`] decides when to stop. The backend
//! computes α and β itself, so a GPU backend never has to send scalars back
//! to the host inside an iteration; the loop asks for ‖r‖² only every
//! `check_every` iterations.
//!
//! One iteration (z = M⁻¹r, ρ = r·z):
//!
//! ```text
//! q = A p;  α = ρ / (p·q);  x += α p;  r −= α q;  z = M⁻¹ r;
//! ρ' = r·z;  β = ρ' / ρ;  p = z + β p;  ρ = ρ'
//! ```
//!
//! Stop rule (spec): ‖r‖₂ ≤ tol·‖b‖₂ on the recursive residual; the caller
//! recomputes the true residual ‖b − A x‖ / ‖b‖ at the end.

use serde::Serialize;

/// Errors a backend can raise mid-solve.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PcgError {
    /// p·q ≤ 0: the operator is not positive definite on the search space.
    #[error("CG broke down at iteration {iteration}: p·Ap = {pq:e} ≤ 0 (the stiffness is singular or indefinite: a mechanism or a missing constraint)")]
    Breakdown { iteration: usize, pq: f64 },
    /// A backend failure (e.g. a GPU error), with its message.
    #[error("{0}")]
    Backend(String),
}

/// A place where PCG iterations run.
pub trait PcgBackend {
    /// x = 0, r = b, z = M⁻¹r, p = z, ρ = r·z. Returns ‖b‖².
    fn start(&mut self) -> Result<f64, PcgError>;
    /// One full iteration (α, β computed by the backend).
    fn step(&mut self) -> Result<(), PcgError>;
    /// ‖r‖² of the current recursive residual.
    fn residual_norm_sq(&mut self) -> Result<f64, PcgError>;
}

/// When to stop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PcgOptions {
    pub tolerance: f64,
    pub max_iterations: usize,
    /// Check the residual every this many iterations (≥ 1).
    pub check_every: usize,
}

/// How a solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PcgStats {
    pub iterations: usize,
    /// ‖r‖ / ‖b‖ of the recursive residual at the last check.
    pub relative_residual: f64,
    pub converged: bool,
}

/// Runs PCG on `backend` until ‖r‖ ≤ tol·‖b‖ or `max_iterations`.
pub fn pcg<B: PcgBackend + ?Sized>(
    backend: &mut B,
    opts: &PcgOptions,
) -> Result<PcgStats, PcgError> {
    let bb = backend.start()?;
    if bb == 0.0 {
        return Ok(PcgStats {
            iterations: 0,
            relative_residual: 0.0,
            converged: true,
        });
    }
    let threshold = opts.tolerance * opts.tolerance * bb;
    let every = opts.check_every.max(1);
    let progress = crate::progress::Progress::solve(opts.max_iterations as u64);
    let mut rr = bb;
    let mut it = 0;
    while it < opts.max_iterations {
        let n = every.min(opts.max_iterations - it);
        for _ in 0..n {
            backend.step()?;
        }
        it += n;
        rr = backend.residual_norm_sq()?;
        progress.iteration(it, (rr / bb).sqrt());
        if !rr.is_finite() {
            return Err(PcgError::Backend(format!(
                "the residual became {rr} at iteration {it}"
            )));
        }
        if rr <= threshold {
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
