//! The voxel grid: a box of `nx × ny × nz` cubic voxels of edge `h`, its
//! solid mask (one byte per voxel) and, with `voxel.fill = "fraction"`, the
//! solid volume fraction φₑ of every voxel.
//!
//! Index conventions (see `shared/spec/conventions.md`):
//! - voxel `(i, j, k)` is `[ih, (i+1)h] × [jh, (j+1)h] × [kh, (k+1)h]`, linear
//!   id `i + nx·(j + ny·k)`;
//! - node `(i, j, k)`, `0 ≤ i ≤ nx`, has linear id `i + (nx+1)·(j + (ny+1)·k)`;
//! - a node is *active* when it is a corner of at least one solid voxel.

use serde::Serialize;

/// A voxel grid with its solid mask (1 = solid, 0 = void).
#[derive(Debug, Clone, PartialEq)]
pub struct VoxelGrid {
    /// Voxel counts `[nx, ny, nz]`.
    pub dims: [usize; 3],
    /// Voxel edge h, mm.
    pub h: f64,
    /// One byte per voxel, 1 = solid, 0 = void, indexed by [`VoxelGrid::voxel_id`].
    pub solid: Vec<u8>,
    /// Solid volume fraction φₑ ∈ [0, 1] per voxel, indexed like `solid`
    /// (`voxel.fill = "fraction"`, see the spec's "Sub-voxel solid fraction").
    /// `None` is binary fill: every solid voxel has φ = 1. When present, a
    /// void voxel's entry is 0 and a solid voxel's entry is its φ, which
    /// scales its element stiffness (φₑ^p·Kₑ, p = `fraction_exponent`).
    pub fraction: Option<Vec<f32>>,
    /// Exponent p of the stiffness weight φₑ^p of a fractional voxel
    /// (`voxel.fraction_exponent`; 1 is the spec's Voigt scaling φₑ·Kₑ).
    /// Volumes and porosity always use φₑ itself.
    pub fraction_exponent: f64,
}

/// Counts reported with every voxelization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VoxelCounts {
    pub total: usize,
    pub solid: usize,
    pub removed: usize,
}

impl VoxelGrid {
    /// A grid with every voxel void.
    pub fn empty(dims: [usize; 3], h: f64) -> VoxelGrid {
        VoxelGrid {
            dims,
            h,
            solid: vec![0; dims[0] * dims[1] * dims[2]],
            fraction: None,
            fraction_exponent: 1.0,
        }
    }

    /// A grid with every voxel solid.
    pub fn full(dims: [usize; 3], h: f64) -> VoxelGrid {
        VoxelGrid {
            dims,
            h,
            solid: vec![1; dims[0] * dims[1] * dims[2]],
            fraction: None,
            fraction_exponent: 1.0,
        }
    }

    /// Number of voxels `nx·ny·nz`.
    pub fn voxel_count(&self) -> usize {
        self.dims[0] * self.dims[1] * self.dims[2]
    }

    /// Node counts `[nx+1, ny+1, nz+1]`.
    pub fn node_dims(&self) -> [usize; 3] {
        [self.dims[0] + 1, self.dims[1] + 1, self.dims[2] + 1]
    }

    /// Number of grid nodes, active or not.
    pub fn node_count(&self) -> usize {
        let n = self.node_dims();
        n[0] * n[1] * n[2]
    }

    /// Linear voxel id `i + nx·(j + ny·k)`.
    #[inline]
    pub fn voxel_id(&self, i: usize, j: usize, k: usize) -> usize {
        i + self.dims[0] * (j + self.dims[1] * k)
    }

    /// Linear node id `i + (nx+1)·(j + (ny+1)·k)`.
    #[inline]
    pub fn node_id(&self, i: usize, j: usize, k: usize) -> usize {
        i + (self.dims[0] + 1) * (j + (self.dims[1] + 1) * k)
    }

    /// Whether voxel `(i, j, k)` is solid.
    #[inline]
    pub fn is_solid(&self, i: usize, j: usize, k: usize) -> bool {
        self.solid[self.voxel_id(i, j, k)] != 0
    }

    /// Whether voxel `(i, j, k)` is solid, with out-of-range (including
    /// negative) coordinates counting as void.
    #[inline]
    pub fn is_solid_signed(&self, i: isize, j: isize, k: isize) -> bool {
        i >= 0
            && j >= 0
            && k >= 0
            && (i as usize) < self.dims[0]
            && (j as usize) < self.dims[1]
            && (k as usize) < self.dims[2]
            && self.is_solid(i as usize, j as usize, k as usize)
    }

    /// Solid fraction φ of voxel `v` (linear id): its `fraction` entry, or
    /// 1 for a solid and 0 for a void voxel under binary fill.
    #[inline]
    pub fn phi(&self, v: usize) -> f64 {
        match &self.fraction {
            Some(f) => f[v] as f64,
            None => f64::from(self.solid[v] != 0),
        }
    }

    /// Stiffness weight of a voxel whose solid fraction is `phi`: φ^p,
    /// p = [`VoxelGrid::fraction_exponent`], rounded to f32 as the solvers
    /// store it (φ itself, bit for bit, when p = 1).
    #[inline]
    pub fn weight_of(&self, phi: f64) -> f64 {
        if self.fraction_exponent == 1.0 {
            phi
        } else {
            phi.powf(self.fraction_exponent) as f32 as f64
        }
    }

    /// Stiffness weight wₑ = φₑ^p of voxel `v`: the factor of its element
    /// stiffness (1 or 0 under binary fill).
    #[inline]
    pub fn weight(&self, v: usize) -> f64 {
        self.weight_of(self.phi(v))
    }

    /// Σwₑ in voxel units: the solid volume when p = 1.
    pub fn weight_sum(&self) -> f64 {
        match &self.fraction {
            Some(f) => f.iter().map(|&p| self.weight_of(p as f64)).sum(),
            None => self.solid_count() as f64,
        }
    }

    /// Solid volume in voxel units, Σφₑ (the solid count under binary fill).
    pub fn solid_volume(&self) -> f64 {
        match &self.fraction {
            Some(f) => f.iter().map(|&p| p as f64).sum(),
            None => self.solid_count() as f64,
        }
    }

    /// Number of solid voxels.
    pub fn solid_count(&self) -> usize {
        self.solid.iter().filter(|&&s| s != 0).count()
    }

    /// Box size `[Lx, Ly, Lz]` in mm.
    pub fn size(&self) -> [f64; 3] {
        [
            self.dims[0] as f64 * self.h,
            self.dims[1] as f64 * self.h,
            self.dims[2] as f64 * self.h,
        ]
    }

    /// Centre of voxel `(i, j, k)`: `((i+½)h, (j+½)h, (k+½)h)`.
    #[inline]
    pub fn voxel_centre(&self, i: usize, j: usize, k: usize) -> [f64; 3] {
        [
            (i as f64 + 0.5) * self.h,
            (j as f64 + 0.5) * self.h,
            (k as f64 + 0.5) * self.h,
        ]
    }

    /// Whether node `(i, j, k)` is active (a corner of at least one solid voxel).
    pub fn is_node_active(&self, i: usize, j: usize, k: usize) -> bool {
        let (i, j, k) = (i as isize, j as isize, k as isize);
        (0..8).any(|c| {
            self.is_solid_signed(
                i - 1 + (c & 1) as isize,
                j - 1 + ((c >> 1) & 1) as isize,
                k - 1 + ((c >> 2) & 1) as isize,
            )
        })
    }
}
