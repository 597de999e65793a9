//! Essential boundary conditions imposed on an operator: MFEM's
//! `ConstrainedOperator`, written once for every operator given by block
//! rows (the fine stiffness of the CPU solver, of its reliable GPU residual
//! and of the multigrid's finest level).
//!
//! With P the projection that zeroes the fixed (prescribed) degrees of
//! freedom, the constrained operator is
//!
//! ```text
//! A = P K P + (I − P)
//! ```
//!
//! a fixed dof's row and column are zero but for a 1 on the diagonal. A is
//! symmetric, and positive definite on a grid with a load path; the
//! prescribed values enter only the right-hand side b = −P K u_D
//! ([`crate::fem::Problem::rhs`]). The WGSL kernel `apply_k` imposes the
//! same A in f32 on the device (`shaders/apply_k.wgsl`, mirrored in
//! `crate::gpu::mirror::apply_k`).

use crate::fem::operator::{apply_rows, Block, BlockRows, LinearOperator};

/// P K P + (I − P) for the rows of K and the fixed-dof flags of each node
/// (bit c set when dof 3n + c is fixed).
pub struct Constrained<'a, R> {
    rows: R,
    fixed: &'a [u8],
}

impl<'a, R: BlockRows> Constrained<'a, R> {
    /// Constrains `rows` with the per-node flags `fixed`.
    pub fn new(rows: R, fixed: &'a [u8]) -> Constrained<'a, R> {
        assert_eq!(fixed.len(), rows.nodes(), "one flag byte per node");
        Constrained { rows, fixed }
    }

    /// The unconstrained rows.
    pub fn inner(&self) -> &R {
        &self.rows
    }

    /// The per-node fixed-dof flags.
    pub fn fixed(&self) -> &'a [u8] {
        self.fixed
    }
}

impl<R: BlockRows> BlockRows for Constrained<'_, R> {
    fn nodes(&self) -> usize {
        self.rows.nodes()
    }

    /// K's blocks with the rows of fixed dofs of `a` and the columns of
    /// fixed dofs of m zeroed, and 1 on the diagonal of a fixed dof.
    #[inline(always)]
    fn row(&self, a: usize, mut f: impl FnMut(usize, usize, &Block)) {
        let fa = self.fixed[a];
        self.rows.row(a, |d, m, b| {
            let fm = self.fixed[m];
            if fa == 0 && fm == 0 {
                return f(d, m, b);
            }
            let mut b = *b;
            for r in 0..3 {
                for s in 0..3 {
                    if fa & (1 << r) != 0 || fm & (1 << s) != 0 {
                        b[3 * r + s] = 0.0;
                    }
                }
            }
            if d == 13 {
                for r in 0..3 {
                    if fa & (1 << r) != 0 {
                        b[4 * r] = 1.0;
                    }
                }
            }
            f(d, m, &b)
        });
    }

    fn diagonal_block(&self, a: usize) -> Block {
        let mut b = self.rows.diagonal_block(a);
        let f = self.fixed[a];
        for r in 0..3 {
            for s in 0..3 {
                if f & (1 << r) != 0 || f & (1 << s) != 0 {
                    b[3 * r + s] = if r == s { 1.0 } else { 0.0 };
                }
            }
        }
        b
    }
}

impl<R: BlockRows> LinearOperator for Constrained<'_, R> {
    fn len(&self) -> usize {
        3 * self.nodes()
    }

    fn apply(&self, x: &[f64], y: &mut [f64]) {
        apply_rows(self, x, y)
    }
}
