//! Implants: a lattice clipped to an envelope, plus solid features, minus
//! holes.
//!
//! ```text
//! implant = (lattice ∩ envelope) ∪ (features ∩ envelope) − holes
//! ```
//!
//! - **Envelopes** ([`Envelope`]): the specimen box; a cylinder of diameter
//!   Ø and height H along z whose top face may be tilted by a wedge angle θ
//!   about the x axis through the top centre (`z_top(y) = H + (y − R)·tan θ`,
//!   R = Ø/2, so the height runs from H − R tan θ to H + R tan θ, H at the
//!   centre); or a closed STL mesh ([`stl::Mesh`]).
//! - **Solid features** ([`Features`]): end plates of thickness t on the
//!   bottom (`z ≤ t`) and top (`z ≥ z_top − t`) faces, and a solid outer
//!   wall of thickness w (within w of the side surface).
//! - **Holes** ([`Hole`]): cylinders given by a point on the axis, a
//!   direction, a diameter and a depth along the direction from the point
//!   (none: through), subtracted after everything else, e.g. screw holes at
//!   30° and 45°.
//!
//! The grid box of a cylinder is `[0, Ø]² × [0, z_max]`, with the cylinder
//! axis at (R, R) and z_max = H + R tan θ rounded up to whole voxels.

pub mod stl;

use crate::lattice::Lattice;

/// The outer shape that clips the lattice.
#[derive(Debug, Clone)]
pub enum Envelope {
    /// The whole grid box `[0, size]`.
    Box { size: [f64; 3] },
    /// Cylinder along z, axis at (R, R), base at z = 0, top tilted by `wedge_deg`.
    Cylinder {
        diameter: f64,
        height: f64,
        wedge_deg: f64,
    },
    /// A closed mesh, voxelized by columns (see [`stl`]); its mask is
    /// sampled at voxel centres, so it is stored with its grid.
    Mesh {
        mask: Vec<u8>,
        dims: [usize; 3],
        h: f64,
        /// Per (i, j) column: the lowest and highest z where the column's
        /// centre line crosses the mesh (NaN where it misses it).
        bottom: Vec<f64>,
        top: Vec<f64>,
        /// Degenerate (zero-area) triangles dropped while reading.
        degenerate: usize,
        /// What reading the STL accepted with a warning ([`stl::Mesh::warnings`]).
        warnings: Vec<String>,
    },
}

impl Envelope {
    /// Height of the top face above the point (x, y).
    fn top(&self, x: f64, y: f64) -> f64 {
        match self {
            Envelope::Box { size } => size[2],
            Envelope::Cylinder {
                diameter,
                height,
                wedge_deg,
            } => height + (y - diameter / 2.0) * wedge_deg.to_radians().tan(),
            Envelope::Mesh { top, .. } => self.column(x, y).map_or(f64::NAN, |c| top[c]),
        }
    }

    /// Height of the bottom face below the point (x, y).
    fn bottom(&self, x: f64, y: f64) -> f64 {
        match self {
            Envelope::Mesh { bottom, .. } => self.column(x, y).map_or(f64::NAN, |c| bottom[c]),
            _ => 0.0,
        }
    }

    /// The mesh column holding (x, y).
    fn column(&self, x: f64, y: f64) -> Option<usize> {
        let Envelope::Mesh { dims, h, .. } = self else {
            return None;
        };
        let (i, j) = ((x / h).floor(), (y / h).floor());
        (i >= 0.0 && j >= 0.0 && (i as usize) < dims[0] && (j as usize) < dims[1])
            .then(|| i as usize + dims[0] * j as usize)
    }

    /// Distance from (x, y) to the side surface (positive inside).
    fn side_depth(&self, p: [f64; 3]) -> f64 {
        match self {
            Envelope::Box { size } => p[0].min(size[0] - p[0]).min(p[1]).min(size[1] - p[1]),
            Envelope::Cylinder { diameter, .. } => {
                let r = diameter / 2.0;
                r - ((p[0] - r).powi(2) + (p[1] - r).powi(2)).sqrt()
            }
            Envelope::Mesh { .. } => f64::INFINITY,
        }
    }

    /// Whether the voxel centre `p` lies inside the envelope.
    pub fn contains(&self, p: [f64; 3]) -> bool {
        match self {
            Envelope::Mesh { mask, dims, h, .. } => {
                let idx = p.map(|c| (c / h).floor() as isize);
                if (0..3).any(|c| idx[c] < 0 || idx[c] as usize >= dims[c]) {
                    return false;
                }
                let [i, j, k] = idx.map(|c| c as usize);
                mask[i + dims[0] * (j + dims[1] * k)] != 0
            }
            _ => p[2] >= 0.0 && p[2] <= self.top(p[0], p[1]) && self.side_depth(p) >= 0.0,
        }
    }

    /// Size of the grid box that holds the envelope, before rounding to voxels.
    pub fn extent(&self) -> [f64; 3] {
        match self {
            Envelope::Box { size } => *size,
            Envelope::Cylinder {
                diameter,
                height,
                wedge_deg,
            } => [
                *diameter,
                *diameter,
                height + diameter / 2.0 * wedge_deg.to_radians().tan().abs(),
            ],
            Envelope::Mesh { dims, h, .. } => dims.map(|d| d as f64 * h),
        }
    }
}

/// Solid features added to the lattice inside the envelope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// Thickness of the solid plates on the bottom and top faces, mm (0: none).
    pub end_plates: f64,
    /// Thickness of the solid outer wall, mm (0: none).
    pub wall: f64,
    pub holes: Vec<Hole>,
}

/// A cylindrical hole.
#[derive(Debug, Clone, PartialEq)]
pub struct Hole {
    /// A point on the axis where the hole starts, mm.
    pub position: [f64; 3],
    /// Unit direction of the axis.
    pub direction: [f64; 3],
    pub diameter: f64,
    /// Length along `direction` from `position`; `None`: through (both ways).
    pub depth: Option<f64>,
}

impl Hole {
    fn contains(&self, p: [f64; 3]) -> bool {
        let w = [
            p[0] - self.position[0],
            p[1] - self.position[1],
            p[2] - self.position[2],
        ];
        let t = w[0] * self.direction[0] + w[1] * self.direction[1] + w[2] * self.direction[2];
        if let Some(depth) = self.depth {
            if t < 0.0 || t > depth {
                return false;
            }
        }
        let r2 = w.iter().map(|c| c * c).sum::<f64>() - t * t;
        r2 <= (self.diameter / 2.0).powi(2)
    }
}

/// The whole implant solid.
#[derive(Debug)]
pub struct Implant<'a> {
    pub lattice: &'a Lattice,
    pub envelope: Envelope,
    pub features: Features,
}

impl Implant<'_> {
    /// Whether the point is solid.
    pub fn contains(&self, p: [f64; 3]) -> bool {
        if !self.envelope.contains(p) || self.in_hole(p) {
            return false;
        }
        self.in_feature(p) || self.lattice.contains(p)
    }

    /// Whether the point is where the lattice alone decides: inside the
    /// envelope, in no hole, in no end plate or wall. The measured porosity
    /// of the lattice is taken over these points.
    pub fn in_lattice_region(&self, p: [f64; 3]) -> bool {
        self.envelope.contains(p) && !self.in_hole(p) && !self.in_feature(p)
    }

    /// Whether the implant has features or holes (else its lattice region
    /// is the whole envelope).
    pub fn has_features(&self) -> bool {
        let f = &self.features;
        f.end_plates > 0.0 || f.wall > 0.0 || !f.holes.is_empty()
    }

    fn in_hole(&self, p: [f64; 3]) -> bool {
        self.features.holes.iter().any(|h| h.contains(p))
    }

    /// Whether the point lies in an end plate or the wall (envelope not checked).
    fn in_feature(&self, p: [f64; 3]) -> bool {
        let f = &self.features;
        (f.end_plates > 0.0
            && (p[2] <= self.envelope.bottom(p[0], p[1]) + f.end_plates
                || p[2] >= self.envelope.top(p[0], p[1]) - f.end_plates))
            || (f.wall > 0.0 && self.envelope.side_depth(p) <= f.wall)
    }
}
