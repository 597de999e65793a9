//! Voxelization: from a solid predicate to a [`VoxelGrid`].
//!
//! # What it does
//!
//! The specimen box `[0,Lx]×[0,Ly]×[0,Lz]` is cut into `nx × ny × nz` cubic
//! voxels of edge `h` (see `shared/spec/conventions.md`). A voxel is solid
//! when its **centre** `((i+½)h, (j+½)h, (k+½)h)` lies inside the solid
//! (centre sampling): no partial volumes, no anti-aliasing, so the measured
//! porosity converges to the true one as `h → 0`, at a rate set by how well
//! `D/h` resolves a strut.
//!
//! After sampling, only the **largest face-connected component** of solid
//! voxels is kept. Voxels that touch the rest only at an edge or a corner
//! would be mechanisms rather than load paths; they, and any floating
//! islands, are removed and counted ([`VoxelCounts::removed`]).
//!
//! With `voxel.fill = "fraction"` ([`voxelize_fraction`], method and error
//! in [`fraction`]) every voxel carries φₑ, its volume fraction inside the
//! solid; voxels under the threshold are void, and the component rule
//! applies to the voxels kept.
//!
//! # Performance
//!
//! Sampling is parallel over z-slices (rayon); each slice is independent, so
//! the grid is the same whatever the thread count. The component search is a
//! sequential flood fill that marks the mask in place (values 1 → 2 → 3), so
//! it needs no label array: memory is one byte per voxel plus the stack of
//! the flood fill.
//!
//! # Example
//!
//! ```
//! use voxfe::voxelize::voxelize;
//! // A ball of radius 1 mm in a 2.4 mm box, h = 0.1 mm.
//! let v = voxelize([24, 24, 24], 0.1, |p| {
//!     let d = [p[0] - 1.2, p[1] - 1.2, p[2] - 1.2];
//!     d[0] * d[0] + d[1] * d[1] + d[2] * d[2] <= 1.0
//! })
//! .unwrap();
//! assert_eq!(v.counts.removed, 0);
//! assert!(v.counts.solid > 4000);
//! ```

pub mod fraction;

use crate::grid::{VoxelCounts, VoxelGrid};
use rayon::prelude::*;
use std::time::Instant;

/// Why a voxelization failed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum VoxelError {
    /// No voxel centre lies inside the solid.
    #[error("no solid voxel: none of the {total} voxel centres lies inside the solid (check lattice.origin, lattice.strut / lattice.porosity and voxel.size)")]
    Empty { total: usize },
    /// No voxel of an image is solid under its calibration.
    #[error("no solid voxel: none of the {total} voxels of image '{path}' is solid under {calibration}; its grey values lie in [{min}, {max}] (check image.threshold or image.ramp, and voxel.fraction_threshold for a ramp)")]
    EmptyImage {
        total: usize,
        path: String,
        calibration: String,
        min: f32,
        max: f32,
    },
}

/// A voxel grid reduced to its largest face-connected component.
#[derive(Debug, Clone)]
pub struct Voxelization {
    pub grid: VoxelGrid,
    pub counts: VoxelCounts,
    /// Wall time of sampling plus the component search, seconds.
    pub seconds: f64,
}

impl Voxelization {
    /// Measured porosity `1 − Σφ / total` after the component search
    /// (`1 − solid / total` under binary fill).
    pub fn porosity(&self) -> f64 {
        1.0 - self.grid.solid_volume() / self.counts.total as f64
    }
}

/// Samples `inside` at every voxel centre of a `dims` grid of edge `h` and
/// keeps the largest face-connected component.
pub fn voxelize<F>(dims: [usize; 3], h: f64, inside: F) -> Result<Voxelization, VoxelError>
where
    F: Fn([f64; 3]) -> bool + Sync,
{
    let start = Instant::now();
    let grid = sample(dims, h, inside);
    finish(grid, start)
}

/// Sub-voxel fill: φ of every voxel ([`fraction::sample_fractions`]),
/// voxels with φ < `threshold` void, then the largest face-connected
/// component of the rest.
pub fn voxelize_fraction<F>(
    dims: [usize; 3],
    h: f64,
    threshold: f64,
    inside: F,
) -> Result<Voxelization, VoxelError>
where
    F: Fn([f64; 3]) -> bool + Sync,
{
    let start = Instant::now();
    let mut grid = fraction::sample_fractions(dims, h, inside);
    fraction::apply_threshold(&mut grid, threshold);
    finish(grid, start)
}

/// A periodic cell (homogenization): binary (`threshold` `None`) or
/// fractional fill, and the largest component *with faces wrapped*, so a
/// strut cut by the cell's boundary stays joined to its other end.
pub fn voxelize_periodic<F>(
    dims: [usize; 3],
    h: f64,
    threshold: Option<f64>,
    inside: F,
) -> Result<Voxelization, VoxelError>
where
    F: Fn([f64; 3]) -> bool + Sync,
{
    let start = Instant::now();
    let grid = match threshold {
        None => sample(dims, h, inside),
        Some(t) => {
            let mut g = fraction::sample_fractions(dims, h, inside);
            fraction::apply_threshold(&mut g, t);
            g
        }
    };
    finish_with(grid, start, true)
}

/// The component search and the counts of a sampled grid.
fn finish(grid: VoxelGrid, start: Instant) -> Result<Voxelization, VoxelError> {
    finish_with(grid, start, false)
}

fn finish_with(
    mut grid: VoxelGrid,
    start: Instant,
    periodic: bool,
) -> Result<Voxelization, VoxelError> {
    let sampled = grid.solid_count();
    let kept = largest_component(&mut grid, periodic);
    fraction::clear_removed(&mut grid);
    if kept == 0 {
        return Err(VoxelError::Empty {
            total: grid.voxel_count(),
        });
    }
    Ok(Voxelization {
        counts: VoxelCounts {
            total: grid.voxel_count(),
            solid: kept,
            removed: sampled - kept,
        },
        grid,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Centre sampling only, without the component search.
pub fn sample<F>(dims: [usize; 3], h: f64, inside: F) -> VoxelGrid
where
    F: Fn([f64; 3]) -> bool + Sync,
{
    let mut grid = VoxelGrid::empty(dims, h);
    let [nx, ny, nz] = dims;
    let progress = crate::progress::Progress::voxelize((ny * nz) as u64);
    // One task per (j, k) row keeps the work units small enough to balance
    // and large enough to amortise the task overhead.
    grid.solid
        .par_chunks_mut(nx.max(1))
        .enumerate()
        .for_each(|(row, out)| {
            let j = row % ny;
            let k = row / ny;
            let y = (j as f64 + 0.5) * h;
            let z = (k as f64 + 0.5) * h;
            for (i, o) in out.iter_mut().enumerate() {
                *o = inside([(i as f64 + 0.5) * h, y, z]) as u8;
            }
            progress.inc(1);
        });
    grid
}

/// Counts the voxels of `grid` whose centre lies in `region`, and the
/// solid volume among them (Σφ, the solid count under binary fill):
/// `(in region, solid volume in region)`. Summed per row, rows in order.
pub fn count_in_region<F>(grid: &VoxelGrid, region: F) -> (usize, f64)
where
    F: Fn([f64; 3]) -> bool + Sync,
{
    let [nx, ny, _] = grid.dims;
    let h = grid.h;
    let rows: Vec<(usize, f64)> = (0..grid.voxel_count() / nx.max(1))
        .into_par_iter()
        .map(|row| {
            let y = ((row % ny) as f64 + 0.5) * h;
            let z = ((row / ny) as f64 + 0.5) * h;
            (0..nx)
                .filter(|&i| region([(i as f64 + 0.5) * h, y, z]))
                .fold((0, 0.0), |(n, s), i| (n + 1, s + grid.phi(i + nx * row)))
        })
        .collect();
    rows.iter()
        .fold((0, 0.0), |(n, s), &(rn, rs)| (n + rn, s + rs))
}

/// Keeps only the largest face-connected component of solid voxels (ties:
/// the component met first in voxel-id order) and returns its size.
pub fn keep_largest_component(grid: &mut VoxelGrid) -> usize {
    largest_component(grid, false)
}

/// [`keep_largest_component`] where faces connect across the box's
/// opposite faces too when `periodic`.
pub fn largest_component(grid: &mut VoxelGrid, periodic: bool) -> usize {
    const UNSEEN: u8 = 1;
    const SEEN: u8 = 2;
    const KEPT: u8 = 3;
    let mut stack = Vec::new();
    let mut best = (0usize, usize::MAX);
    for seed in 0..grid.solid.len() {
        if grid.solid[seed] == UNSEEN {
            let size = flood(grid, seed, (UNSEEN, SEEN), periodic, &mut stack);
            if size > best.0 {
                best = (size, seed);
            }
        }
    }
    if best.0 == 0 {
        return 0;
    }
    flood(grid, best.1, (SEEN, KEPT), periodic, &mut stack);
    grid.solid
        .par_iter_mut()
        .for_each(|v| *v = (*v == KEPT) as u8);
    best.0
}

/// Face-connected flood fill from `seed` over voxels equal to `from`,
/// setting them to `to`; across opposite faces too when `periodic`.
/// Returns the number of voxels filled.
fn flood(
    grid: &mut VoxelGrid,
    seed: usize,
    (from, to): (u8, u8),
    periodic: bool,
    stack: &mut Vec<usize>,
) -> usize {
    let dims = grid.dims;
    let stride = [1, dims[0], dims[0] * dims[1]];
    let mask = &mut grid.solid;
    let mut count = 0;
    stack.clear();
    mask[seed] = to;
    stack.push(seed);
    while let Some(v) = stack.pop() {
        count += 1;
        let c = [v % dims[0], (v / dims[0]) % dims[1], v / stride[2]];
        for a in 0..3 {
            let (n, s) = (dims[a], stride[a]);
            // The neighbours below and above along axis a, if any.
            let below = if c[a] > 0 {
                Some(v - s)
            } else {
                (periodic && n > 1).then(|| v + (n - 1) * s)
            };
            let above = if c[a] + 1 < n {
                Some(v + s)
            } else {
                (periodic && n > 1).then(|| v - (n - 1) * s)
            };
            for w in [below, above].into_iter().flatten() {
                if mask[w] == from {
                    mask[w] = to;
                    stack.push(w);
                }
            }
        }
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_connected_voxel_is_removed() {
        // Two solid voxels sharing only an edge, plus a 2-voxel bar.
        let mut g = VoxelGrid::empty([4, 4, 1], 1.0);
        let id = |i: usize, j: usize| i + 4 * j;
        g.solid[id(0, 0)] = 1;
        g.solid[id(1, 1)] = 1;
        g.solid[id(1, 2)] = 1;
        let kept = keep_largest_component(&mut g);
        assert_eq!(kept, 2);
        assert_eq!(g.solid[id(0, 0)], 0);
        assert_eq!(g.solid[id(1, 1)], 1);
        assert_eq!(g.solid[id(1, 2)], 1);
    }

    #[test]
    fn centre_sampling_uses_voxel_centres() {
        // Solid where x < 1.0 in a grid of h = 0.4: centres 0.2, 0.6 in, 1.0 not (strict).
        let v = voxelize([3, 1, 1], 0.4, |p| p[0] < 1.0).unwrap();
        assert_eq!(v.grid.solid, vec![1, 1, 0]);
    }

    #[test]
    fn region_counts_use_voxel_centres() {
        // Solid where x < 1.0 (voxels 0, 1 of 4); region x > 0.5 (voxels 1, 2, 3).
        let v = voxelize([4, 2, 1], 0.4, |p| p[0] < 1.0).unwrap();
        assert_eq!(count_in_region(&v.grid, |p| p[0] > 0.5), (6, 2.0));
    }

    #[test]
    fn periodic_components_join_across_opposite_faces() {
        // A bar along x cut by the box: voxels (0,0) and (3,0) of a 4×2 row
        // touch only through the wrap; (1,1) touches nothing.
        let mut g = VoxelGrid::empty([4, 2, 1], 1.0);
        let id = |i: usize, j: usize| i + 4 * j;
        for v in [id(0, 0), id(3, 0), id(1, 1)] {
            g.solid[v] = 1;
        }
        let mut boxed = g.clone();
        assert_eq!(keep_largest_component(&mut boxed), 1);
        assert_eq!(largest_component(&mut g, true), 2);
        assert_eq!(g.solid, vec![1, 0, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn empty_is_an_error() {
        assert_eq!(
            voxelize([2, 2, 2], 1.0, |_| false).unwrap_err(),
            VoxelError::Empty { total: 8 }
        );
    }
}
