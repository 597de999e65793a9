//! The stored levels' rows ([`BlockMatrix`]) with a block's three rows the
//! lanes of one 256-bit register (AVX, detected at run time by the
//! caller): each f32 column is widened into 4 f64 lanes, and the
//! multiplies and adds are the portable loop's, in the same order, so the
//! same bits.

use super::BlockMatrix;
use std::arch::x86_64::*;

impl BlockMatrix {
    /// Rows `start..` of A·x into `out` (3 values a row), as
    /// [`rows_one_by_one`](crate::fem::operator::rows_one_by_one) gives
    /// them: per row r, acc_r + ((b_r0·x0 + b_r1·x1) + b_r2·x2) block after
    /// block, in stencil order.
    ///
    /// # Safety
    ///
    /// The processor must have AVX.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn rows_times_avx(&self, start: usize, x: &[f64], out: &mut [f64]) {
        // SAFETY: AVX, by this function's contract; one column is the
        // batched loop's first, with the same loads, multiplies and adds.
        unsafe { self.columns_times_avx::<1>(start, x, out) }
    }
}

impl BlockMatrix {
    /// Rows `start..` of A·x on `K` columns stored node by node into `out`
    /// (3K values a row), as `columns_times` gives them: each block read
    /// and widened once, as [`BlockMatrix::rows_times_avx`] does, then per
    /// column the same multiplies and adds in the same order, so each
    /// column has the bits of its own apply.
    ///
    /// # Safety
    ///
    /// The processor must have AVX.
    #[target_feature(enable = "avx")]
    pub(super) unsafe fn columns_times_avx<const K: usize>(
        &self,
        start: usize,
        x: &[f64],
        out: &mut [f64],
    ) {
        let end = start + out.len() / (3 * K);
        let blocks = &self.blocks[27 * start..27 * end];
        let neighbours = &self.neighbours[27 * start..27 * end];
        // The last column of a block is read with a mask: its fourth lane
        // would be the next block's first value, past the end for the
        // last block.
        let mask = _mm_setr_epi32(-1, -1, -1, 0);
        for ((o, blocks), neighbours) in out
            .chunks_exact_mut(3 * K)
            .zip(blocks.chunks_exact(27))
            .zip(neighbours.chunks_exact(27))
        {
            let mut acc = [_mm256_setzero_pd(); K];
            for (b, &m) in blocks.iter().zip(neighbours) {
                if m == u32::MAX {
                    continue;
                }
                let m = m as usize;
                let xm = &x[3 * K * m..3 * K * (m + 1)];
                let p = b.as_ptr();
                // SAFETY: the first two loads read 4 of the block's 9
                // values (the fourth is the next column's first, its lane
                // ignored), the third 3 under the mask.
                let (c0, c1, c2) = unsafe {
                    (
                        _mm256_cvtps_pd(_mm_loadu_ps(p)),
                        _mm256_cvtps_pd(_mm_loadu_ps(p.add(3))),
                        _mm256_cvtps_pd(_mm_maskload_ps(p.add(6), mask)),
                    )
                };
                for (acc, xm) in acc.iter_mut().zip(xm.chunks_exact(3)) {
                    let t = _mm256_add_pd(
                        _mm256_mul_pd(c0, _mm256_set1_pd(xm[0])),
                        _mm256_mul_pd(c1, _mm256_set1_pd(xm[1])),
                    );
                    let t = _mm256_add_pd(t, _mm256_mul_pd(c2, _mm256_set1_pd(xm[2])));
                    *acc = _mm256_add_pd(*acc, t);
                }
            }
            for (o, acc) in o.chunks_exact_mut(3).zip(acc) {
                let mut row = [0.0f64; 4];
                // SAFETY: `row` holds the 4 values stored.
                unsafe { _mm256_storeu_pd(row.as_mut_ptr(), acc) };
                o.copy_from_slice(&row[..3]);
            }
        }
    }
}
