//! The V-cycle on several right-hand sides at once
//! ([`Multigrid::apply_many`]): a periodic cell's six columns.
//!
//! The finest level is matrix-free and cheap to read (one shared table),
//! so it is smoothed column by column on the columns' own vectors, each
//! residual restricted into its column of the first coarse level. From
//! the first coarse level down, a level's vectors hold all the columns
//! node by node (value c of column j at node a at 3(k·a + j) + c), so one
//! pass over a stored level's blocks, which are 1 080 bytes a node and
//! read from memory, serves every column. Each column's arithmetic is the
//! single cycle's, in the same order: every column gets the bits of
//! [`Preconditioner::apply`] on it alone.

use super::{Multigrid, Work, MAX_BATCH};
use crate::fem::operator::BlockRows;
use crate::fem::precond::Preconditioner;
use rayon::prelude::*;

/// The batched cycle's vectors: every smoothed level's [`Work`] for
/// [`MAX_BATCH`] columns (the finest level's residual, step and A·step
/// are the single cycle's).
pub(super) struct BatchWork {
    levels: Vec<Work>,
}

impl BatchWork {
    /// Bytes held.
    pub(super) fn bytes(&self) -> usize {
        self.levels.iter().map(Work::bytes).sum()
    }
}

impl<R: BlockRows> Multigrid<'_, R> {
    fn batch_work(&self) -> BatchWork {
        let k = MAX_BATCH;
        let levels = (0..self.levels.len())
            .map(|l| {
                // The finest level smooths on the single cycle's vectors.
                let n = if l == 0 {
                    0
                } else {
                    3 * k * self.nodes(l).len()
                };
                Work::new(n, 3 * k * self.nodes(l + 1).len())
            })
            .collect();
        BatchWork { levels }
    }

    /// z_j = M⁻¹ r_j for every column j, in batches of [`MAX_BATCH`]:
    /// each z_j has the bits of [`Preconditioner::apply`] on r_j alone.
    pub fn apply_many(&self, rs: &[&[f64]], zs: &mut [&mut [f64]]) {
        assert_eq!(rs.len(), zs.len(), "one z per r");
        if self.levels.is_empty() || rs.len() == 1 {
            for (r, z) in rs.iter().zip(zs.iter_mut()) {
                self.apply(r, z);
            }
            return;
        }
        let mut guard = self.batch.lock().unwrap_or_else(|e| e.into_inner());
        let work = guard.get_or_insert_with(|| self.batch_work());
        for (rs, zs) in rs.chunks(MAX_BATCH).zip(zs.chunks_mut(MAX_BATCH)) {
            self.cycle_columns(rs, zs, work);
        }
    }

    /// One V-cycle from zero on each of the columns `b` (at most
    /// [`MAX_BATCH`]), into `x`: the finest level's [`Multigrid::level_step`]
    /// column by column, the coarse levels' on all columns at once.
    fn cycle_columns(&self, b: &[&[f64]], x: &mut [&mut [f64]], work: &mut BatchWork) {
        let k = b.len();
        let nc = 3 * k * self.nodes(1).len();
        let mut guard = self.work[0].lock().unwrap_or_else(|e| e.into_inner());
        let w = &mut *guard;
        let (first, coarser) = work.levels.split_first_mut().expect("a coarse level");
        let (rc, xc) = (&mut first.rc[..nc], &mut first.xc[..nc]);
        // Pre-smoothing, column by column, each residual restricted into
        // its column of r_c.
        for (j, (b, x)) in b.iter().zip(x.iter_mut()).enumerate() {
            x.fill(0.0);
            self.smooth(0, x, b, true, w, 1);
            self.apply_level(0, x, &mut w.r, 1);
            w.r.par_iter_mut().zip(*b).for_each(|(r, b)| *r = b - *r);
            self.restrict(0, &w.r, 1, rc, k, j);
        }
        self.cycle_batch(1, rc, xc, k, coarser);
        // x += P x_c and post-smoothing, column by column.
        for (j, (b, x)) in b.iter().zip(x.iter_mut()).enumerate() {
            self.prolong_add(0, xc, k, j, x, 1);
            self.smooth(0, x, b, false, w, 1);
        }
    }

    /// One V-cycle from zero on A_l x = b, `k` columns side by side,
    /// `work` holding levels l, l + 1, ….
    fn cycle_batch(&self, l: usize, b: &[f64], x: &mut [f64], k: usize, work: &mut [Work]) {
        if l == self.levels.len() {
            return self.solve_coarsest(b, x, k);
        }
        let (w, coarser) = work.split_first_mut().expect("a level's vectors");
        self.level_step(l, b, x, w, k, |rc, xc| {
            self.cycle_batch(l + 1, rc, xc, k, coarser)
        });
    }
}
