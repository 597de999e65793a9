//! How the device multigrid is split over bindings that fit
//! `max_storage_buffer_binding_size`: each level's nodes in chunks
//! ([`LevelChunk`], planned by [`plan_levels`]), each kernel dispatched
//! once per chunk of the level its threads run over, with the chunk's own
//! nodes bound (vectors, stencil blocks, neighbours, inverse diagonal
//! blocks, node ids) and, for what a thread reads of its neighbours, a
//! window ([`Span`]) of active nodes and of grid ids of its own level, of
//! the next finer one (restriction, Galerkin products) and of the next
//! coarser one (prolongation). The level's buffers stay one buffer each;
//! a chunk binds sub-ranges of them. Indices stored on the device (stencil
//! neighbours, node maps) stay global: a kernel subtracts the window's
//! base (`win_base`, `map_base` in [`MgParams`], the `*_base` fields of
//! [`GalerkinParams`]). A level whose bindings all fit is
//! one chunk, its windows the whole level: the same kernels, bases 0.
//!
//! The fine level's chunks are the CG's ([`Chunk`], planned with the 36 B
//! per node of its inverse diagonal blocks). The coarsest dense inverse is
//! split by rows ([`row_chunks`]). Periodic cells stay whole-bound (their
//! wrapped neighbours defeat windows): over the limit they are a typed
//! [`GpuError::TooLarge`].

use super::chunks::{split, Chunk};
#[cfg(doc)]
use crate::gpu::abi::{GalerkinParams, MgParams};
use crate::gpu::error::GpuError;

/// Elements `base..end` of a buffer: active nodes or grid ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub base: u32,
    pub end: u32,
}

impl Span {
    pub fn len(&self) -> u64 {
        (self.end - self.base) as u64
    }

    pub fn is_empty(&self) -> bool {
        self.end == self.base
    }

    /// The elements of this span of `buffer`, `stride` bytes each (at
    /// least 4 bytes are bound).
    pub(crate) fn bind<'a>(
        &self,
        buffer: &'a wgpu::Buffer,
        stride: u64,
    ) -> wgpu::BindingResource<'a> {
        let (offset, size) = if self.is_empty() {
            (0, 4)
        } else {
            (stride * self.base as u64, stride * self.len())
        };
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer,
            offset,
            size: wgpu::BufferSize::new(size),
        })
    }
}

/// One chunk of a multigrid level: its nodes and the windows its
/// kernels read, each (active nodes, grid ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelChunk {
    /// The chunk's own nodes.
    pub own: Span,
    /// This level, one grid node around the chunk (`mg_apply`'s x, the
    /// coarse node map a Galerkin product writes neighbours from).
    pub same: (Span, Span),
    /// The next finer level around 2I (restriction, Galerkin products):
    /// two of its grid nodes when it is the finest level, else one;
    /// `None` on the finest.
    pub fine: Option<(Span, Span)>,
    /// The next coarser level, the coarse layers of the chunk's parents
    /// (prolongation); `None` on the coarsest.
    pub coarse: Option<(Span, Span)>,
}

/// A level as the planner sees it: its active grid ids (ascending), its
/// node grid and the length of its node map.
#[derive(Debug, Clone, Copy)]
pub struct LevelShape<'a> {
    pub ids: &'a [u32],
    pub size: [usize; 3],
    pub map_len: usize,
}

impl LevelShape<'_> {
    fn coords(&self, id: u32) -> [i64; 3] {
        let [sx, sy, _] = self.size.map(|s| s as u32);
        [id % sx, (id / sx) % sy, id / (sx * sy)].map(|c| c as i64)
    }

    fn id(&self, c: [i64; 3]) -> i64 {
        let [sx, sy, _] = self.size.map(|s| s as i64);
        c[0] + sx * (c[1] + sy * c[2])
    }

    /// Grid ids of one step of `r` nodes along every axis.
    fn reach(&self, r: i64) -> i64 {
        let [sx, sy, _] = self.size.map(|s| s as i64);
        r * (sx * sy + sx + 1)
    }

    /// The active nodes with grid ids in `lo..=hi` and the grid ids
    /// themselves, bases rounded down to multiples of `step`.
    fn window(&self, lo: i64, hi: i64, step: u32) -> (Span, Span) {
        let lo = lo.max(0) as u64;
        let hi = (hi.max(0) as u64).min(self.map_len as u64 - 1);
        let a = self.ids.partition_point(|&id| (id as u64) < lo) as u32;
        let b = self.ids.partition_point(|&id| (id as u64) <= hi) as u32;
        let down = |x: u32| x / step * step;
        (
            Span {
                base: down(a),
                end: b,
            },
            Span {
                base: down(lo as u32),
                end: hi as u32 + 1,
            },
        )
    }

    fn whole(&self) -> (Span, Span) {
        (
            Span {
                base: 0,
                end: self.ids.len() as u32,
            },
            Span {
                base: 0,
                end: self.map_len as u32,
            },
        )
    }
}

/// The chunk `n0..n1` of level `l` of `levels` and its windows
/// (`periodic`: every window the whole level).
fn level_chunk(
    levels: &[LevelShape],
    l: usize,
    n0: usize,
    n1: usize,
    step: u32,
    periodic: bool,
) -> LevelChunk {
    let lv = &levels[l];
    let own = Span {
        base: n0 as u32,
        end: n1 as u32,
    };
    if periodic {
        return LevelChunk {
            own,
            same: lv.whole(),
            fine: l.checked_sub(1).map(|f| levels[f].whole()),
            coarse: levels.get(l + 1).map(|c| c.whole()),
        };
    }
    let (first, last) = (lv.ids[n0], lv.ids[n1 - 1]);
    let same = lv.window(first as i64 - lv.reach(1), last as i64 + lv.reach(1), step);
    // Galerkin products from the fine level read two fine nodes around
    // 2I; restriction and products from a stored level one.
    let fine = l.checked_sub(1).map(|f| {
        let r = if f == 0 { 2 } else { 1 };
        let f = &levels[f];
        let at = |id: u32| f.id(lv.coords(id).map(|c| 2 * c));
        f.window(at(first) - f.reach(r), at(last) + f.reach(r), step)
    });
    // The parents of a node in fine layer z lie in coarse layers ⌊z/2⌋
    // and ⌈z/2⌉ (⌊·/2⌋ does not keep the order of ids within a layer, so
    // the window is whole coarse layers).
    let coarse = levels.get(l + 1).map(|c| {
        let [cx, cy, _] = c.size.map(|s| s as i64 - 1);
        let (zf, zl) = (lv.coords(first)[2], lv.coords(last)[2]);
        c.window(c.id([0, 0, zf / 2]), c.id([cx, cy, (zl + 1) / 2]), step)
    });
    LevelChunk {
        own,
        same,
        fine,
        coarse,
    }
}

/// The largest binding of chunk `c` of level `l` (name, bytes): per node
/// 36 B of inverse diagonal blocks on the fine level (32 B of corner
/// fractions with sub-voxel fill), 972 B of stencil blocks on a stored
/// one; 12 B per node of a vector window, 4 B per grid id of a node-map
/// window, and of the finer level's window what restriction and the
/// Galerkin product read (its stencil blocks, or the fine flags, corner
/// fractions and residual).
fn largest(c: &LevelChunk, l: usize, fill: bool) -> (&'static str, u64) {
    let per_node = |l: usize| -> (&'static str, u64) {
        if l == 0 {
            ("multigrid inverse diagonal blocks", 36)
        } else {
            ("multigrid stencil blocks", 972)
        }
    };
    let mut out = vec![
        (per_node(l).0, per_node(l).1 * c.own.len()),
        ("multigrid vector window", 12 * c.same.0.len()),
        ("multigrid node map window", 4 * c.same.1.len()),
    ];
    if fill && l == 0 {
        out.push(("corner fractions", 32 * c.own.len()));
    }
    if let Some((win, map)) = c.fine {
        let (name, b) = match l - 1 {
            0 if fill => ("fine corner fractions window", 32),
            0 => ("fine residual window", 12),
            f => per_node(f),
        };
        out.push((name, b * win.len()));
        out.push(("multigrid node map window", 4 * map.len()));
    }
    if let Some((win, map)) = c.coarse {
        out.push(("multigrid vector window", 12 * win.len()));
        out.push(("multigrid node map window", 4 * map.len()));
    }
    out.into_iter().max_by_key(|o| o.1).unwrap()
}

/// The chunks of every level (finest first): the fine level's are
/// `fine_chunks` (the CG's), each coarser level's the longest node ranges
/// (starting at multiples of 64 nodes and of the offset alignment) whose
/// bindings fit `limit`. A typed error when a chunk of one block cannot
/// fit, or a periodic cell's whole level does not.
pub fn plan_levels(
    levels: &[LevelShape],
    fine_chunks: &[Chunk],
    fill: bool,
    periodic: bool,
    limit: u64,
    align: u64,
) -> Result<Vec<Vec<LevelChunk>>, GpuError> {
    let step = (align / 4).max(1) as u32;
    let block = (step as usize).max(64);
    let too_large = |(name, bytes): (&'static str, u64)| GpuError::TooLarge {
        name,
        bytes,
        limit,
        what: if periodic {
            "max_storage_buffer_binding_size: a periodic cell's multigrid is bound whole (its wrapped neighbours defeat chunking); solver.preconditioner = \"jacobi\", a coarser voxel.size or the CPU backend"
        } else {
            "max_storage_buffer_binding_size: one block of multigrid nodes with the grid layers around it does not fit in one binding; solver.preconditioner = \"jacobi\" binds less per node"
        },
    };
    let mut out = Vec::with_capacity(levels.len());
    for (l, lv) in levels.iter().enumerate() {
        let chunk = |n0: usize, n1: usize| level_chunk(levels, l, n0, n1, step, periodic);
        let fits = |n0: usize, n1: usize| largest(&chunk(n0, n1), l, fill).1 <= limit;
        let n = lv.ids.len();
        let ranges: Vec<(usize, usize)> = if l == 0 {
            fine_chunks
                .iter()
                .map(|c| {
                    let n0 = c.params.node_base as usize;
                    (n0, n0 + c.params.n_nodes as usize)
                })
                .collect()
        } else if periodic {
            vec![(0, n)]
        } else {
            split(n, block, fits)
                .map_err(|n0| too_large(largest(&chunk(n0, (n0 + block).min(n)), l, fill)))?
        };
        let chunks: Vec<LevelChunk> = ranges.iter().map(|&(n0, n1)| chunk(n0, n1)).collect();
        for c in &chunks {
            let big = largest(c, l, fill);
            if big.1 > limit {
                return Err(too_large(big));
            }
        }
        out.push(chunks);
    }
    Ok(out)
}

/// Rows of the coarsest dense inverse (`rows` × `rows` f32) per dispatch:
/// as many as fit `limit`, starting at rows whose byte offset is a
/// multiple of `align`.
pub fn row_chunks(rows: usize, limit: u64, align: u64) -> Result<Vec<Span>, GpuError> {
    let row_bytes = 4 * rows as u64;
    let gcd = |mut a: u64, mut b: u64| {
        while b != 0 {
            (a, b) = (b, a % b);
        }
        a
    };
    let step = (align / gcd(row_bytes.max(1), align.max(1))).max(1) as usize;
    let per = (limit / row_bytes.max(1)) as usize / step * step;
    if per == 0 && rows > 0 {
        return Err(GpuError::TooLarge {
            name: "coarsest inverse rows",
            bytes: row_bytes * step as u64,
            limit,
            what: "max_storage_buffer_binding_size: the rows of one dispatch of the coarsest solve do not fit in one binding",
        });
    }
    Ok((0..rows)
        .step_by(per.max(1))
        .map(|r0| Span {
            base: r0 as u32,
            end: (r0 + per).min(rows) as u32,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_hold_every_neighbour_a_kernel_reads() {
        // A full 9×7×11 node grid and its coarse 5×4×6 one.
        let fine_size = [9usize, 7, 11];
        let coarse_size = [5usize, 4, 6];
        let fine_ids: Vec<u32> = (0..9 * 7 * 11).collect();
        let coarse_ids: Vec<u32> = (0..5 * 4 * 6).collect();
        let levels = [
            LevelShape {
                ids: &fine_ids,
                size: fine_size,
                map_len: fine_ids.len(),
            },
            LevelShape {
                ids: &coarse_ids,
                size: coarse_size,
                map_len: coarse_ids.len(),
            },
        ];
        for (n0, n1) in [(0, 20), (40, 60), (100, 120)] {
            let c = level_chunk(&levels, 1, n0, n1, 1, false);
            let (win, map) = c.fine.unwrap();
            for &id in &coarse_ids[n0..n1] {
                let ci = levels[1].coords(id);
                // Galerkin products: fine offsets −2..=2 around 2I.
                for d in 0..125 {
                    let o = [d % 5, (d / 5) % 5, d / 25].map(|v| v as i64 - 2);
                    let f = [0, 1, 2].map(|k| 2 * ci[k] + o[k]);
                    if (0..3).any(|k| f[k] < 0 || f[k] >= fine_size[k] as i64) {
                        continue;
                    }
                    let id = levels[0].id(f) as u32;
                    assert!(
                        map.base <= id && id < map.end,
                        "{n0}: fine id {id}, {map:?}"
                    );
                    assert!(
                        win.base <= id && id < win.end,
                        "{n0}: fine node {id}, {win:?}"
                    );
                }
                // mg_apply: the 27 neighbours.
                for d in 0..27 {
                    let o = [d % 3, (d / 3) % 3, d / 9].map(|v| v as i64 - 1);
                    let f = [0, 1, 2].map(|k| ci[k] + o[k]);
                    if (0..3).any(|k| f[k] < 0 || f[k] >= coarse_size[k] as i64) {
                        continue;
                    }
                    let id = levels[1].id(f) as u32;
                    assert!(c.same.0.base <= id && id < c.same.0.end);
                    assert!(c.same.1.base <= id && id < c.same.1.end);
                }
            }
        }
        // Prolongation from level 0: the ≤ 8 parents (a chunk from the end
        // of one layer into the next, odd one, among them).
        for (n0, n1) in [(50, 70), (60, 120), (130, 200), (300, 693)] {
            let f = level_chunk(&levels, 0, n0, n1, 1, false);
            let (win, map) = f.coarse.unwrap();
            for (i, &fid) in fine_ids.iter().enumerate().take(n1).skip(n0) {
                let fi = levels[0].coords(fid);
                for d in 0..8 {
                    let p = [d & 1, (d >> 1) & 1, d >> 2].map(|v| v as i64);
                    let c = [0, 1, 2].map(|k| fi[k] / 2 + p[k] * (fi[k] % 2));
                    let id = levels[1].id(c) as u32;
                    assert!(
                        win.base <= id && id < win.end,
                        "parent {id} of {i}, {win:?}"
                    );
                    assert!(
                        map.base <= id && id < map.end,
                        "parent {id} of {i}, {map:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn row_chunks_cover_the_rows_and_fit() {
        // Rows of 1200 B: offsets are multiples of 256 B every 16 rows.
        let spans = row_chunks(300, 70 * 4 * 300, 256).unwrap();
        assert_eq!(spans.len(), 5);
        assert_eq!(spans[0], Span { base: 0, end: 64 });
        assert_eq!(
            spans[4],
            Span {
                base: 256,
                end: 300
            }
        );
        assert!(row_chunks(300, 15 * 1200, 256).is_err());
        assert_eq!(row_chunks(300, 16 * 1200, 256).unwrap().len(), 19);
        // The whole inverse in one binding: one dispatch.
        assert_eq!(row_chunks(300, 1 << 20, 256).unwrap().len(), 1);
    }
}
