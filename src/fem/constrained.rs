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
//!
//! # The apply
//!
//! Only the rows of nodes that are fixed or next to a fixed node differ
//! from K's. [`Constrained::new`] lists them once (4 bytes per listed node:
//! the platen layers, a few per cent of the nodes on a loaded specimen);
//! the apply runs K's own rows everywhere else, with no flag read or test
//! per neighbour block, and the constrained rows at the listed nodes
//! only. Both are the rows [`BlockRows::row`] gives, in the same order, so
//! the result is the same to the bit as a row-by-row apply of A.

use crate::fem::operator::{mul_add, Block, BlockRows, LinearOperator};
use rayon::prelude::*;

/// P K P + (I − P) for the rows of K and the fixed-dof flags of each node
/// (bit c set when dof 3n + c is fixed).
pub struct Constrained<'a, R> {
    rows: R,
    fixed: &'a [u8],
    /// The nodes whose row has a fixed dof in it (its own or a
    /// neighbour's), increasing.
    touched: Vec<u32>,
}

impl<'a, R: BlockRows> Constrained<'a, R> {
    /// Constrains `rows` with the per-node flags `fixed`.
    pub fn new(rows: R, fixed: &'a [u8]) -> Constrained<'a, R> {
        assert_eq!(fixed.len(), rows.nodes(), "one flag byte per node");
        let touched = (0..rows.nodes())
            .into_par_iter()
            .filter(|&a| {
                let mut any = fixed[a] != 0;
                if !any {
                    rows.row(a, |_, m, _| any |= fixed[m] != 0);
                }
                any
            })
            .map(|a| a as u32)
            .collect();
        Constrained {
            rows,
            fixed,
            touched,
        }
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
        self.apply_chunks(x, y, |_, _| ());
    }

    /// The apply with x·y summed per chunk as [`crate::fem::vector::dot`]
    /// sums it (the same chunks, the same order): one pass fewer over x
    /// and y for CG's p·Ap.
    fn apply_dot(&self, x: &[f64], y: &mut [f64]) -> f64 {
        let parts = self.apply_chunks(x, y, |xs, ys| {
            xs.iter().zip(ys.iter()).map(|(a, b)| a * b).sum::<f64>()
        });
        parts.iter().sum()
    }
}

impl<R: BlockRows> Constrained<'_, R> {
    /// y = A·x in the chunks of the rows' [`BlockRows::for_chunks`]
    /// ([`CHUNK_NODES`](crate::fem::operator::CHUNK_NODES) nodes each), and
    /// `tail(x, y)` of each chunk once it is written, in chunk order.
    fn apply_chunks<T: Send>(
        &self,
        x: &[f64],
        y: &mut [f64],
        tail: impl Fn(&[f64], &[f64]) -> T + Sync,
    ) -> Vec<T> {
        let len = 3 * self.nodes();
        assert_eq!(x.len(), len, "x has the wrong length");
        assert_eq!(y.len(), len, "y has the wrong length");
        let touched = &self.touched[..];
        self.rows.for_chunks(x, y, |start, out, pass| {
            let end = start + out.len() / 3;
            // The rows' loop over the whole chunk, then the touched rows
            // written over.
            self.rows.rows_times(start, x, pass, out);
            let first = touched.partition_point(|&t| (t as usize) < start);
            for &a in touched[first..].iter().take_while(|&&t| (t as usize) < end) {
                let a = a as usize;
                let mut acc = [0.0f64; 3];
                self.row(a, |_, m, b| mul_add(&mut acc, b, &x[3 * m..3 * m + 3]));
                out[3 * (a - start)..3 * (a - start) + 3].copy_from_slice(&acc);
            }
            tail(&x[3 * start..3 * start + out.len()], out)
        })
    }
}
