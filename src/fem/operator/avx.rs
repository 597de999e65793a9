//! The table rows of [`StencilRows`] with a block's three rows the lanes of
//! one 256-bit register (AVX, detected at run time by the caller): the same
//! multiplies and adds, in the same order, as the portable loop, so the
//! same bits.

use super::{Pass, StencilRows};
use std::arch::x86_64::*;

/// acc + b·x for a table block b given by its
/// [`StencilTable::lanes`](super::StencilTable::lanes): per lane (row) r,
/// acc_r + ((b_r0·x0 + b_r1·x1) + b_r2·x2), the order of
/// [`mul_add`](super::mul_add).
///
/// # Safety
///
/// The processor must have AVX. Not itself compiled for AVX, so that it
/// inlines into the function compiled for AVX that calls it.
#[inline(always)]
unsafe fn block_times_avx(acc: __m256d, lanes: &[f64; 12], x: &[f64; 3]) -> __m256d {
    let c = lanes.as_ptr();
    // The loads read 4 values each at 0, 4 and 8 of the 12.
    let (c0, c1, c2) = (
        _mm256_loadu_pd(c),
        _mm256_loadu_pd(c.add(4)),
        _mm256_loadu_pd(c.add(8)),
    );
    let t = _mm256_add_pd(
        _mm256_mul_pd(c0, _mm256_set1_pd(x[0])),
        _mm256_mul_pd(c1, _mm256_set1_pd(x[1])),
    );
    let t = _mm256_add_pd(t, _mm256_mul_pd(c2, _mm256_set1_pd(x[2])));
    _mm256_add_pd(acc, t)
}

/// [`StencilTable::neighbours`](super::StencilTable::neighbours) of a node
/// whose 8 voxels are all solid.
const ALL_NEIGHBOURS: u32 = (1 << 27) - 1;

impl StencilRows<'_> {
    /// [`rows_one_by_one`](super::rows_one_by_one) with the table rows in AVX
    /// registers ([`StencilRows::table_row_times_avx`]): the same bits.
    #[target_feature(enable = "avx")]
    pub(super) fn rows_times_avx(&self, start: usize, x: &[f64], pass: &Pass, out: &mut [f64]) {
        for (k, yn) in out.chunks_exact_mut(3).enumerate() {
            let row = self.row_times_with::<true>(start + k, x, pass);
            yn.copy_from_slice(&row);
        }
    }

    /// [`StencilRows::table_row_times`] with a block's 4-wide sum in one
    /// 256-bit register: the same multiplies and adds in the same order
    /// (no fused multiply-add), so the same bits. Written with the
    /// intrinsics because the compiler, seeing the fourth lane unused,
    /// splits the sum into a 2-wide and a scalar part.
    ///
    /// # Safety
    ///
    /// The processor must have AVX. Not itself compiled for AVX, so that it
    /// inlines into [`StencilRows::rows_times_avx`], which is.
    #[inline(always)]
    pub(super) unsafe fn table_row_times_avx(&self, a: usize, p: usize, x: &[f64]) -> [f64; 3] {
        let mesh = self.mesh;
        let lanes: &[[f64; 12]; 27] = self.table.lanes[27 * p..27 * p + 27]
            .try_into()
            .expect("27 blocks a pattern");
        let id = mesh.nodes[a] as isize;
        let mut acc = _mm256_setzero_pd();
        // A macro, not a closure: a closure is compiled on its own, without
        // AVX, and the intrinsics in it would be calls.
        macro_rules! block {
            ($d:expr) => {{
                let d = $d;
                let m = mesh.node_map[(id + self.offsets[d]) as usize] as usize;
                let xm: &[f64; 3] = x[3 * m..3 * m + 3].try_into().expect("3 dofs a node");
                acc = block_times_avx(acc, &lanes[d], xm);
            }};
        }
        let mut bits = self.table.neighbours[p];
        if bits == ALL_NEIGHBOURS && !mesh.periodic {
            // A node inside the solid: all 27 neighbours are active, so
            // the three of a row along x are consecutive active nodes (the
            // numbering follows the grid ids; a periodic mesh's ghost
            // layer does not): one node-map read a row, and a loop of known
            // length, unrolled, in the order d = 0..27.
            for row in 0..9 {
                let d = 3 * row + 1;
                let m = mesh.node_map[(id + self.offsets[d]) as usize] as usize;
                let xr: &[f64; 9] = x[3 * m - 3..3 * m + 6].try_into().expect("3 nodes a row");
                for k in 0..3 {
                    let xm: &[f64; 3] = xr[3 * k..3 * k + 3].try_into().expect("3 dofs a node");
                    acc = block_times_avx(acc, &lanes[d - 1 + k], xm);
                }
            }
        } else if bits == ALL_NEIGHBOURS {
            for d in 0..27 {
                block!(d);
            }
        } else {
            while bits != 0 {
                let d = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                block!(d);
            }
        }
        let mut out = [0.0f64; 4];
        // SAFETY: `out` holds the 4 values stored.
        unsafe { _mm256_storeu_pd(out.as_mut_ptr(), acc) };
        [out[0], out[1], out[2]]
    }
}
