//! Sub-voxel fill's partial voxels in the apply of [`StencilRows`]: their
//! weighted element products, made once per apply ([`Pass`]).

use super::{corner_entry, StencilRows, CHUNK_NODES};
use crate::fem::mesh::ActiveMesh;
use rayon::prelude::*;

/// What an apply computes from x before its rows ([`BlockRows::pass`](super::BlockRows::pass)):
/// for [`StencilRows`] with partial voxels, each partial voxel's weighted
/// element product wₑ·Ke·xₑ (24 values); empty for every other operator.
/// Its buffer goes back to a process-wide spare list when the pass ends, so
/// the next apply of any operator reuses it (the applies of a solve's
/// operator and of its multigrid's finest level never overlap: one buffer
/// serves both).
#[derive(Default)]
pub struct Pass {
    /// The products of slots `first_slot..`, 24 values each.
    pub(super) products: Vec<f64>,
    pub(super) first_slot: usize,
}

/// Buffers of ended passes, at most [`SPARE_MAX`]; emptied when the
/// partial voxels of an operator are dropped.
static SPARE: std::sync::Mutex<Vec<Vec<f64>>> = std::sync::Mutex::new(Vec::new());
const SPARE_MAX: usize = 4;

impl Pass {
    /// A pass with `len` products, its buffer a spare one where there is.
    fn with_len(len: usize) -> Pass {
        let mut products = SPARE
            .lock()
            .ok()
            .and_then(|mut spare| spare.pop())
            .unwrap_or_default();
        products.resize(len, 0.0);
        Pass {
            products,
            first_slot: 0,
        }
    }
}

impl Drop for Pass {
    fn drop(&mut self) {
        let products = std::mem::take(&mut self.products);
        if products.capacity() > 0 {
            if let Ok(mut spare) = SPARE.lock() {
                if spare.len() < SPARE_MAX {
                    spare.push(products);
                }
            }
        }
    }
}

/// The voxels with a stiffness weight w ≠ 1 under sub-voxel fill, as the
/// apply finds them (the module doc of `crate::fem::operator`, "Sub-voxel
/// fill"). Memory: 1 B (which voxels are partial) and 4 B (the node's own
/// voxel's slot) per active node, 4 B (its corner node) per partial voxel;
/// a pass adds 192 B (its product) per partial voxel.
pub(super) struct PartialVoxels {
    /// Per node, bit c set when pattern bit c's voxel is solid with a
    /// weight ≠ 1.
    pub(super) mask: Vec<u8>,
    /// Per node, the slot of the partial voxel of which it is corner 0
    /// (pattern bit 7), or `u32::MAX`.
    pub(super) slot: Vec<u32>,
    /// Per slot, the voxel's corner-0 node.
    pub(super) corner: Vec<u32>,
}

impl Drop for PartialVoxels {
    /// The spare product buffers go with the operator (a long-lived
    /// process does not keep them after its solves).
    fn drop(&mut self) {
        if let Ok(mut spare) = SPARE.lock() {
            spare.clear();
        }
    }
}

impl PartialVoxels {
    pub(super) fn new(mesh: &ActiveMesh) -> Option<PartialVoxels> {
        let phi = mesh.phi.as_ref()?;
        let mask: Vec<u8> = phi
            .par_iter()
            .zip(mesh.pattern.par_iter())
            .map(|(phi, &p)| {
                (0..8)
                    .filter(|&c| p & (1 << c) != 0 && phi[c] != 1.0)
                    .fold(0u8, |m, c| m | (1 << c))
            })
            .collect();
        let mut slot = vec![u32::MAX; mask.len()];
        let mut corner = Vec::new();
        for (a, &m) in mask.iter().enumerate() {
            if m & 0x80 != 0 {
                slot[a] = corner.len() as u32;
                corner.push(a as u32);
            }
        }
        Some(PartialVoxels { mask, slot, corner })
    }
}

impl StencilRows<'_> {
    /// The partial voxels' element products w·Ke·xₑ, one task per
    /// [`CHUNK_NODES`] voxels.
    pub(super) fn element_pass(&self, partial: &PartialVoxels, x: &[f64]) -> Pass {
        let mut pass = Pass::with_len(24 * partial.corner.len());
        let out = &mut pass.products[..];
        out.par_chunks_mut(24 * CHUNK_NODES)
            .enumerate()
            .for_each(|(ci, out)| {
                self.element_products_fastest(&partial.corner[ci * CHUNK_NODES..], x, out)
            });
        pass
    }

    /// [`BlockRows::for_chunks`](super::BlockRows::for_chunks) on a box
    /// mesh with partial voxels: the chunks in a few runs of consecutive
    /// chunks (two a thread), each run one task that makes, before each of
    /// its chunks, the products of the partial voxels whose corner-0 node
    /// comes before the chunk's end, into the run's own buffer. A row
    /// reads the products of voxels whose corner 0 is at most one node
    /// plane back, made moments before, so from cache, where one pass
    /// before all rows left them in memory. A run starts one node plane
    /// before its first chunk: that plane's products are made twice. The
    /// same values, the same chunks, so the same bits.
    pub(super) fn chunks_with_products<T: Send>(
        &self,
        partial: &PartialVoxels,
        x: &[f64],
        y: &mut [f64],
        chunk: impl Fn(usize, &mut [f64], &Pass) -> T + Sync,
    ) -> Vec<T> {
        let nodes = self.mesh.len();
        let chunks = nodes.div_ceil(CHUNK_NODES);
        let runs = (2 * rayon::current_num_threads()).min(chunks).max(1);
        let mut parts = Vec::with_capacity(runs);
        let mut rest = y;
        for r in 0..runs {
            let first = r * chunks / runs * CHUNK_NODES;
            let last = ((r + 1) * chunks / runs * CHUNK_NODES).min(nodes);
            let (part, tail) = rest.split_at_mut(3 * (last - first));
            parts.push((first, part));
            rest = tail;
        }
        // The lowest neighbour offset, (−1, −1, −1): a voxel's corner 0 is
        // at most that far back from any of its nodes.
        let back = self.offsets[0];
        let corner = &partial.corner[..];
        let slots_before = |node: usize| corner.partition_point(|&c| (c as usize) < node);
        let results: Vec<Vec<T>> = parts
            .into_par_iter()
            .map(|(first, part)| {
                let last = first + part.len() / 3;
                let from = self.mesh.nodes[first] as isize + back;
                let lo = self.mesh.nodes.partition_point(|&g| (g as isize) < from);
                let first_slot = slots_before(lo);
                let mut pass = Pass::with_len(24 * (slots_before(last) - first_slot));
                pass.first_slot = first_slot;
                let mut done = first_slot;
                part.chunks_mut(3 * CHUNK_NODES)
                    .enumerate()
                    .map(|(k, out)| {
                        let start = first + k * CHUNK_NODES;
                        let upto = slots_before(start + out.len() / 3);
                        let into =
                            &mut pass.products[24 * (done - first_slot)..24 * (upto - first_slot)];
                        self.element_products_fastest(&corner[done..upto], x, into);
                        done = upto;
                        chunk(start, out, &pass)
                    })
                    .collect()
            })
            .collect();
        results.into_iter().flatten().collect()
    }

    /// [`StencilRows::element_products`], compiled for AVX2 where the
    /// processor has it (the same bits).
    fn element_products_fastest(&self, corners: &[u32], x: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2, checked just above.
            unsafe { self.element_products_avx2(corners, x, out) };
            return;
        }
        self.element_products(corners, x, out)
    }

    /// The weighted element products w·Ke·xₑ of the partial voxels whose
    /// corner-0 nodes are `corners`, 24 values each into `out` (as many
    /// voxels as `out` holds).
    #[inline(always)]
    pub(super) fn element_products(&self, corners: &[u32], x: &[f64], out: &mut [f64]) {
        let mesh = self.mesh;
        let phi = mesh
            .phi
            .as_ref()
            .expect("partial voxels come with fractions");
        let columns: &[[f64; 24]; 24] = self.table.columns[..].try_into().expect("24 columns");
        // The voxel is pattern bit 7 of its corner-0 node; its corner b is
        // that node's neighbour at entry d(7, b).
        let corner_offsets: [isize; 8] =
            std::array::from_fn(|b| self.offsets[corner_entry(7, b).1]);
        for (o, &a) in out.chunks_exact_mut(24).zip(corners) {
            let id = mesh.nodes[a as usize] as isize;
            let mut xe = [0.0f64; 24];
            for (b, off) in corner_offsets.iter().enumerate() {
                let m = mesh.node_map[(id + off) as usize] as usize;
                xe[3 * b..3 * b + 3].copy_from_slice(&x[3 * m..3 * m + 3]);
            }
            let mut acc = [0.0f64; 24];
            for (column, &xj) in columns.iter().zip(&xe) {
                for (acc, k) in acc.iter_mut().zip(column) {
                    *acc += k * xj;
                }
            }
            let w = phi[a as usize][7] as f64;
            for (o, acc) in o.iter_mut().zip(acc) {
                *o = w * acc;
            }
        }
    }

    /// [`StencilRows::element_products`] compiled for AVX2: four rows of a
    /// column a register, the same multiplies and adds in the same order
    /// (no fused multiply-add), so the same bits.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    pub(super) fn element_products_avx2(&self, corners: &[u32], x: &[f64], out: &mut [f64]) {
        self.element_products(corners, x, out)
    }
}
