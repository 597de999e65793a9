//! Preconditioners of CG: z = M⁻¹ r. Point Jacobi lives here; the
//! geometric multigrid V-cycle ([`crate::fem::multigrid::Multigrid`])
//! implements the same trait.

use crate::fem::operator::BlockRows;
use crate::fem::vector::{dot, ordered_sum, CHUNK};
use rayon::prelude::*;

/// z = M⁻¹ r for a symmetric positive definite M.
pub trait Preconditioner: Sync {
    /// z = M⁻¹ r.
    fn apply(&self, r: &[f64], z: &mut [f64]);

    /// z = M⁻¹ r, returning r·z (a preconditioner may fuse the two).
    fn apply_dot(&self, r: &[f64], z: &mut [f64]) -> f64 {
        self.apply(r, z);
        dot(r, z)
    }

    /// z_j = M⁻¹ r_j and r_j·z_j for every column j, each with
    /// [`Preconditioner::apply_dot`]'s bits on r_j alone; a preconditioner
    /// may share work between the columns (the multigrid's coarse levels
    /// read their blocks once for all).
    fn apply_dot_many(&self, rs: &[&[f64]], zs: &mut [&mut [f64]]) -> Vec<f64> {
        rs.iter()
            .zip(zs.iter_mut())
            .map(|(r, z)| self.apply_dot(r, z))
            .collect()
    }

    /// D⁻¹ where M is a diagonal, so that PCG may make z = D⁻¹r in the
    /// pass that updates r ([`crate::fem::cg::HostPcg`]), with the bits of
    /// [`Preconditioner::apply_dot`]; `None` (the default) otherwise.
    fn diagonal_inverse(&self) -> Option<&[f64]> {
        None
    }
}

/// Point Jacobi, M = diag(A).
pub struct Jacobi {
    inv_diag: Vec<f64>,
}

impl Jacobi {
    /// The inverse diagonal of `a`.
    pub fn new(a: &impl BlockRows) -> Jacobi {
        Jacobi {
            inv_diag: a.diagonal().into_iter().map(|d| 1.0 / d).collect(),
        }
    }

    /// D⁻¹, 3 values per node.
    pub fn inverse_diagonal(&self) -> &[f64] {
        &self.inv_diag
    }
}

impl Preconditioner for Jacobi {
    fn apply(&self, r: &[f64], z: &mut [f64]) {
        self.apply_dot(r, z);
    }

    fn diagonal_inverse(&self) -> Option<&[f64]> {
        Some(&self.inv_diag)
    }

    /// One pass: z = D⁻¹ r and r·z summed as r·r·D⁻¹.
    fn apply_dot(&self, r: &[f64], z: &mut [f64]) -> f64 {
        ordered_sum(
            z.par_chunks_mut(CHUNK)
                .zip(r.par_chunks(CHUNK))
                .zip(self.inv_diag.par_chunks(CHUNK))
                .map(|((z, r), d)| {
                    let mut rz = 0.0;
                    for i in 0..z.len() {
                        z[i] = d[i] * r[i];
                        rz += r[i] * r[i] * d[i];
                    }
                    rz
                }),
        )
    }
}
