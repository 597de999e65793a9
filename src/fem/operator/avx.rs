//! The table rows of [`StencilRows`] in 256-bit registers (AVX and FMA,
//! detected at run time by the caller): a node's three values are the
//! lanes of one register, a block row another
//! ([`StencilTable::lanes`](super::StencilTable::lanes)), and each block is
//! three fused multiply-adds into three 4-wide sums, one per row. The
//! multiply-adds and the final sums are those of the portable loop
//! ([`StencilRows::table_row_times`]), in the same order, so the same bits.
//!
//! Two nodes inside the solid that follow each other along x share their
//! table row (all 8 voxels solid) and 18 of their 27 neighbours: they are
//! summed together, each block's rows loaded once for both, each
//! neighbour's values once for the two blocks that read them. Each node's
//! sums are still its own, in its own order.

use super::{Pass, StencilRows};

/// [`StencilTable::neighbours`](super::StencilTable::neighbours) of a node
/// whose 8 voxels are all solid.
const ALL_NEIGHBOURS: u32 = (1 << 27) - 1;
use std::arch::x86_64::*;

/// A node's three values in lanes 0–2 of a register; lane 3 the next
/// node's first value (multiplied by the zero of a block row) or, at the
/// end of x, zero.
///
/// # Safety
///
/// The processor must have AVX; inlines into a function compiled for it.
#[inline(always)]
unsafe fn node_lanes(x: &[f64], m: usize) -> __m256d {
    match x.get(3 * m..3 * m + 4) {
        // SAFETY: the slice holds the 4 values loaded.
        Some(v) => unsafe { _mm256_loadu_pd(v.as_ptr()) },
        None => {
            let v: &[f64; 3] = x[3 * m..3 * m + 3].try_into().expect("3 dofs a node");
            _mm256_setr_pd(v[0], v[1], v[2], 0.0)
        }
    }
}

/// The three rows of a padded block ([`StencilTable::lanes`](super::StencilTable::lanes)).
///
/// # Safety
///
/// The processor must have AVX; inlines into a function compiled for it.
#[inline(always)]
unsafe fn block_rows(lanes: &[f64; 12]) -> [__m256d; 3] {
    let c = lanes.as_ptr();
    // SAFETY: the loads read 4 values each at 0, 4 and 8 of the 12.
    unsafe {
        [
            _mm256_loadu_pd(c),
            _mm256_loadu_pd(c.add(4)),
            _mm256_loadu_pd(c.add(8)),
        ]
    }
}

/// acc_r = row_r·x + acc_r, lane by lane, fused.
///
/// # Safety
///
/// The processor must have FMA; inlines into a function compiled for it.
#[inline(always)]
unsafe fn block_fma(acc: &mut [__m256d; 3], rows: &[__m256d; 3], x: __m256d) {
    for (acc, row) in acc.iter_mut().zip(rows) {
        *acc = _mm256_fmadd_pd(*row, x, *acc);
    }
}

/// y_r = (s_r0 + s_r1) + (s_r2 + s_r3) of the three sums.
///
/// # Safety
///
/// The processor must have AVX; inlines into a function compiled for it.
#[inline(always)]
unsafe fn row_sums(acc: &[__m256d; 3]) -> [f64; 3] {
    // [s00 + s01, s10 + s11, s02 + s03, s12 + s13] and the same of row 2.
    let h01 = _mm256_hadd_pd(acc[0], acc[1]);
    let h22 = _mm256_hadd_pd(acc[2], acc[2]);
    let lo = _mm256_permute2f128_pd(h01, h22, 0x20);
    let hi = _mm256_permute2f128_pd(h01, h22, 0x31);
    let mut out = [0.0f64; 4];
    // SAFETY: `out` holds the 4 values stored.
    unsafe { _mm256_storeu_pd(out.as_mut_ptr(), _mm256_add_pd(lo, hi)) };
    [out[0], out[1], out[2]]
}

impl StencilRows<'_> {
    /// [`rows_one_by_one`](super::rows_one_by_one) with the table rows in
    /// registers ([`StencilRows::table_row_times_avx`]), and two nodes
    /// inside the solid that follow each other along x at once: the same
    /// bits.
    #[target_feature(enable = "avx,fma")]
    pub(super) fn rows_times_avx(&self, start: usize, x: &[f64], pass: &Pass, out: &mut [f64]) {
        let rows = out.len() / 3;
        let mut k = 0;
        while k < rows {
            let a = start + k;
            if k + 1 < rows && self.inner_pair(a) {
                // SAFETY: compiled for AVX and FMA.
                let (ya, yb) = unsafe { self.inner_pair_times(a, x) };
                out[3 * k..3 * k + 3].copy_from_slice(&ya);
                out[3 * k + 3..3 * k + 6].copy_from_slice(&yb);
                k += 2;
            } else {
                let row = self.row_times_with::<true>(a, x, pass);
                out[3 * k..3 * k + 3].copy_from_slice(&row);
                k += 1;
            }
        }
    }

    /// Whether nodes `a` and `a + 1` are both inside the solid (all 8
    /// voxels solid, none partial), neighbours along x, and their rows run
    /// along x ([`StencilRows::rows_run_along_x`]).
    #[inline(always)]
    pub(super) fn inner_pair(&self, a: usize) -> bool {
        let mesh = self.mesh;
        mesh.pattern[a] == 255
            && mesh.pattern[a + 1] == 255
            && self.partial_mask(a) == 0
            && self.partial_mask(a + 1) == 0
            && mesh.nodes[a + 1] == mesh.nodes[a] + 1
            && self.rows_run_along_x(a)
            && self.rows_run_along_x(a + 1)
    }

    /// Whether the three neighbours along x of node `a`, in each of its
    /// stencil's 9 rows, are consecutive active nodes once they are all
    /// active (the numbering follows the grid ids, x fastest). Always on a
    /// box mesh. On a periodic mesh only away from the wrap along x: the
    /// ghost layer maps to the nodes it wraps to, so a row that crosses
    /// x = 0 is not consecutive, while one whose y or z wraps is (its
    /// three ghosts map to three consecutive nodes of the wrapped row).
    #[inline(always)]
    fn rows_run_along_x(&self, a: usize) -> bool {
        if !self.mesh.periodic {
            return true;
        }
        // Padded x of the node, 1..=nx; its neighbours along x are owned
        // (not ghosts) for 2..=nx − 1.
        let i = self.mesh.nodes[a] % self.row_ids;
        i >= 2 && i + 3 <= self.row_ids
    }

    /// The table rows of nodes `a` and `a + 1` ([`StencilRows::inner_pair`])
    /// applied to x. Row by row of the stencil (the three neighbours along
    /// x of a node are consecutive active nodes), node a reads neighbours
    /// m − 1, m, m + 1 and node a + 1 reads m, m + 1, m + 2, with the same
    /// three blocks.
    ///
    /// # Safety
    ///
    /// The processor must have AVX and FMA; inlines into
    /// [`StencilRows::rows_times_avx`].
    #[inline(always)]
    unsafe fn inner_pair_times(&self, a: usize, x: &[f64]) -> ([f64; 3], [f64; 3]) {
        let mesh = self.mesh;
        let lanes: &[[f64; 12]; 27] = self.table.lanes[27 * 255..27 * 256]
            .try_into()
            .expect("27 blocks a pattern");
        let id = mesh.nodes[a] as isize;
        let zero = _mm256_setzero_pd();
        let (mut acc_a, mut acc_b) = ([zero; 3], [zero; 3]);
        for row in 0..9 {
            let d = 3 * row + 1;
            let m = mesh.node_map[(id + self.offsets[d]) as usize] as usize;
            // SAFETY: AVX and FMA, by this function's contract.
            unsafe {
                let xs: [__m256d; 4] = std::array::from_fn(|k| node_lanes(x, m - 1 + k));
                for k in 0..3 {
                    let rows = block_rows(&lanes[d - 1 + k]);
                    block_fma(&mut acc_a, &rows, xs[k]);
                    block_fma(&mut acc_b, &rows, xs[k + 1]);
                }
            }
        }
        // SAFETY: AVX, by this function's contract.
        unsafe { (row_sums(&acc_a), row_sums(&acc_b)) }
    }

    /// [`StencilRows::table_row_times`] in registers: the same fused
    /// multiply-adds in the same order, so the same bits.
    ///
    /// # Safety
    ///
    /// The processor must have AVX and FMA. Not itself compiled for them,
    /// so that it inlines into [`StencilRows::rows_times_avx`], which is.
    #[inline(always)]
    pub(super) unsafe fn table_row_times_avx(&self, a: usize, p: usize, x: &[f64]) -> [f64; 3] {
        let mesh = self.mesh;
        let lanes: &[[f64; 12]; 27] = self.table.lanes[27 * p..27 * p + 27]
            .try_into()
            .expect("27 blocks a pattern");
        let id = mesh.nodes[a] as isize;
        let mut acc = [_mm256_setzero_pd(); 3];
        let mut bits = self.table.neighbours[p];
        if bits == ALL_NEIGHBOURS && self.rows_run_along_x(a) {
            // A node inside the solid: all 27 neighbours are active, so
            // the three of a row along x are consecutive active nodes
            // (away from a periodic mesh's wrap): one node-map read a row,
            // in the order d = 0..27.
            for row in 0..9 {
                let d = 3 * row + 1;
                let m = mesh.node_map[(id + self.offsets[d]) as usize] as usize;
                for k in 0..3 {
                    // SAFETY: AVX and FMA, by this function's contract.
                    unsafe {
                        block_fma(
                            &mut acc,
                            &block_rows(&lanes[d - 1 + k]),
                            node_lanes(x, m - 1 + k),
                        )
                    };
                }
            }
        } else {
            while bits != 0 {
                let d = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let m = mesh.node_map[(id + self.offsets[d]) as usize] as usize;
                // SAFETY: AVX and FMA, by this function's contract.
                unsafe { block_fma(&mut acc, &block_rows(&lanes[d]), node_lanes(x, m)) };
            }
        }
        // SAFETY: AVX, by this function's contract.
        unsafe { row_sums(&acc) }
    }
}
