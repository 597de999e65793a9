//! The lattice library: periodic unit cells of struts (or an implicit
//! surface) that fill the specimen.
//!
//! # Key concepts
//!
//! - A lattice is a **cubic cell** of side M tiled with period M along x, y
//!   and z from an origin o.
//! - **Strut lattices** are sets of segments in one cell; a point is solid
//!   when its distance to the nearest segment is ≤ r = D/2 (every strut is a
//!   capsule: a cylinder with hemispherical ends). All endpoints lie on
//!   whole "quarter units" (M/4), so the sets are exact.
//! - The **gyroid** is a network TPMS: with X = 2π(x − oₓ)/M (likewise Y, Z),
//!   a point is solid when `sin X cos Y + sin Y cos Z + sin Z cos X ≤ t`;
//!   the level t ∈ (−1.5, 1.5) sets the solid fraction (t = 0: one half).
//!
//! # The kinds
//!
//! | kind | struts per cell | strut length | node valence |
//! | --- | --- | --- | --- |
//! | `rhombic-dodecahedron` | 32 | √3·M/4 | 4 (tetrahedral sites), 8 (octahedral sites) |
//! | `bcc` | 8 | √3·M/2 | 8 (centre and corners) |
//! | `fcc` (face diagonals) | 12 | √2·M/2 | 12 (corners), 4 (face centres) |
//! | `octet` | 24 | √2·M/2 | 12 |
//! | `diamond` | 16 | √3·M/4 | 4 |
//! | `kelvin` (truncated octahedra) | 24 | √2·M/4 | 4 |
//!
//! The rhombic dodecahedron (RD) follows `shared/spec/conventions.md`: in
//! quarter units struts join every all-odd point p to the four q = p + s,
//! s ∈ {±1}³, with q₁ + q₂ + q₃ ≡ 2 (mod 4).
//!
//! # Density
//!
//! The RD has a closed-form nominal relative density (spec):
//!
//! ```text
//! ρ = (3√3/2)·π·(r/a)² − (27√2/4)·(r/a)³,   a = √3·M/4,   ε = 1 − ρ,
//! ```
//!
//! and a design pore size H = 0.816·M − D. For every kind the solid fraction
//! of one cell is also computed from the geometry itself
//! ([`Lattice::computed_solid_fraction`]): the distance to the nearest strut
//! (for the gyroid, the level function) is sampled once at
//! [`SOLID_FRACTION_SAMPLES`] points of the R₃ low-discrepancy sequence over
//! the cell and sorted, so the solid fraction at any radius is a count, and
//! the radius for a porosity a quantile. Tested against the RD closed form
//! to 5·10⁻⁴ (the formula's own accuracy) over 45–88 % porosity.
//!
//! # Performance
//!
//! [`Lattice::contains`] is the voxelizer's inner loop. The cell is divided
//! into 16³ bins, each listing the segments (its own and its neighbours')
//! that can come within r of the bin, so a query tests a few segments and
//! stops at the first hit.

mod field;
pub(crate) use field::r3_point;

use field::StrutField;
use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// Number of points at which the solid fraction of one cell is sampled.
pub const SOLID_FRACTION_SAMPLES: usize = 1 << 21;

/// Lattice kinds, with their scene names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LatticeKind {
    RhombicDodecahedron,
    Bcc,
    Fcc,
    Octet,
    Diamond,
    Kelvin,
    Gyroid,
    Solid,
}

impl LatticeKind {
    /// Every kind.
    pub const ALL: [LatticeKind; 8] = [
        LatticeKind::RhombicDodecahedron,
        LatticeKind::Bcc,
        LatticeKind::Fcc,
        LatticeKind::Octet,
        LatticeKind::Diamond,
        LatticeKind::Kelvin,
        LatticeKind::Gyroid,
        LatticeKind::Solid,
    ];

    /// The scene name, e.g. `"rhombic-dodecahedron"`.
    pub fn name(&self) -> &'static str {
        match self {
            LatticeKind::RhombicDodecahedron => "rhombic-dodecahedron",
            LatticeKind::Bcc => "bcc",
            LatticeKind::Fcc => "fcc",
            LatticeKind::Octet => "octet",
            LatticeKind::Diamond => "diamond",
            LatticeKind::Kelvin => "kelvin",
            LatticeKind::Gyroid => "gyroid",
            LatticeKind::Solid => "solid",
        }
    }

    /// Whether the kind is a set of struts.
    pub fn is_strut_lattice(&self) -> bool {
        !matches!(self, LatticeKind::Gyroid | LatticeKind::Solid)
    }
}

/// Why a lattice could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LatticeError {
    #[error("lattice.cell = {cell}: allowed: a positive cell side M in mm")]
    BadCell { cell: f64 },
    #[error("lattice.strut = {strut}: allowed: a positive strut diameter D in mm")]
    BadStrut { strut: f64 },
    #[error(
        "lattice.strut = {strut} mm is too thick for {kind} cells of M = {cell} mm: allowed: 0 < strut < {max:.4} mm ({why})"
    )]
    TooThick {
        kind: &'static str,
        strut: f64,
        cell: f64,
        max: f64,
        why: &'static str,
    },
    #[error("lattice.level = {level}: allowed: −1.5 < level < 1.5")]
    BadLevel { level: f64 },
    #[error("lattice.porosity = {porosity}: {kind} cannot reach it; allowed range {min:.4} ≤ porosity < 1")]
    Unreachable {
        kind: &'static str,
        porosity: f64,
        min: f64,
    },
    #[error("lattice.porosity = {porosity}: allowed: 0 < porosity < 1")]
    BadPorosity { porosity: f64 },
    #[error("lattice.{key} does not apply to {kind} lattices")]
    WrongSize {
        kind: &'static str,
        key: &'static str,
    },
}

/// How a lattice is sized.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LatticeSize {
    /// Strut diameter D, mm.
    Strut(f64),
    /// Gyroid level t.
    Level(f64),
    /// Nominal porosity, from which D (or t) is solved.
    Porosity(f64),
}

/// Largest RD r/a for which the density formula still increases with r
/// (dρ/dx = 0 at x = 12√3π / (81√2)).
pub fn rd_max_radius_ratio() -> f64 {
    12.0 * 3f64.sqrt() * std::f64::consts::PI / (81.0 * 2f64.sqrt())
}

/// The spec's RD relative density for r/a = `x`.
pub fn rd_relative_density(x: f64) -> f64 {
    1.5 * 3f64.sqrt() * std::f64::consts::PI * x * x - 6.75 * 2f64.sqrt() * x * x * x
}

/// Largest strut radius, in units of M, of the strut lattices other than
/// the RD (D < M/2); below it the solid fraction must also stay under
/// [`MAX_SOLID_FRACTION`].
const MAX_RADIUS_OVER_M: f64 = 0.25;
/// Largest solid fraction of a strut lattice: beyond it the pores close.
pub const MAX_SOLID_FRACTION: f64 = 0.95;

/// A sized lattice, ready to be sampled.
#[derive(Debug)]
pub struct Lattice {
    kind: LatticeKind,
    cell: f64,
    origin: [f64; 3],
    strut: Option<f64>,
    level: Option<f64>,
    field: Option<StrutField>,
    /// r² in units of M².
    r2_cell: f64,
    computed: OnceLock<f64>,
}

impl Lattice {
    /// Validates and builds a lattice. `Porosity(ε)` solves D (or the gyroid
    /// level); `solid` ignores its size.
    pub fn new(
        kind: LatticeKind,
        cell: f64,
        size: LatticeSize,
        origin: [f64; 3],
    ) -> Result<Lattice, LatticeError> {
        if !(cell.is_finite() && cell > 0.0) {
            return Err(LatticeError::BadCell { cell });
        }
        if let LatticeSize::Porosity(p) = size {
            if !(p > 0.0 && p < 1.0) {
                return Err(LatticeError::BadPorosity { porosity: p });
            }
        }
        let mut lattice = Lattice {
            kind,
            cell,
            origin,
            strut: None,
            level: None,
            field: None,
            r2_cell: 0.0,
            computed: OnceLock::new(),
        };
        match kind {
            LatticeKind::Solid => {}
            LatticeKind::Gyroid => {
                let t = match size {
                    LatticeSize::Level(t) => t,
                    LatticeSize::Porosity(p) => field::gyroid_level_for_solid_fraction(1.0 - p),
                    LatticeSize::Strut(_) => {
                        return Err(LatticeError::WrongSize {
                            kind: kind.name(),
                            key: "strut",
                        })
                    }
                };
                if !(t > -1.5 && t < 1.5) {
                    return Err(LatticeError::BadLevel { level: t });
                }
                lattice.level = Some(t);
            }
            LatticeKind::RhombicDodecahedron => {
                let a = 3f64.sqrt() * cell / 4.0;
                let x_max = rd_max_radius_ratio();
                let d = match size {
                    LatticeSize::Strut(d) => d,
                    LatticeSize::Porosity(p) => {
                        let rho = 1.0 - p;
                        let rho_max = rd_relative_density(x_max);
                        if rho >= rho_max {
                            return Err(LatticeError::Unreachable {
                                kind: kind.name(),
                                porosity: p,
                                min: 1.0 - rho_max,
                            });
                        }
                        2.0 * a * bisect(|x| rd_relative_density(x) - rho, 0.0, x_max)
                    }
                    LatticeSize::Level(_) => {
                        return Err(LatticeError::WrongSize {
                            kind: kind.name(),
                            key: "level",
                        })
                    }
                };
                check_strut(d)?;
                let max = 2.0 * a * x_max;
                if d >= max {
                    return Err(LatticeError::TooThick {
                        kind: kind.name(),
                        strut: d,
                        cell,
                        max,
                        why: "beyond r/a = 0.570 the spec's density formula no longer grows with D",
                    });
                }
                lattice.set_strut(d);
            }
            _ => {
                let r_cap = MAX_RADIUS_OVER_M;
                let d = match size {
                    LatticeSize::Strut(d) => {
                        check_strut(d)?;
                        d
                    }
                    LatticeSize::Porosity(p) => {
                        let samples = field::cached_distance_samples(kind, r_cap);
                        let f_max = samples.fraction_within(r_cap).min(MAX_SOLID_FRACTION);
                        if 1.0 - p > f_max {
                            return Err(LatticeError::Unreachable {
                                kind: kind.name(),
                                porosity: p,
                                min: 1.0 - f_max,
                            });
                        }
                        2.0 * cell * samples.radius_for_fraction(1.0 - p)
                    }
                    LatticeSize::Level(_) => {
                        return Err(LatticeError::WrongSize {
                            kind: kind.name(),
                            key: "level",
                        })
                    }
                };
                let max = 2.0 * r_cap * cell;
                if d >= max {
                    return Err(LatticeError::TooThick {
                        kind: kind.name(),
                        strut: d,
                        cell,
                        max,
                        why: "struts thicker than M/2 fill the nodes and close the pores",
                    });
                }
                let fraction =
                    field::cached_distance_samples(kind, r_cap).fraction_within(d / 2.0 / cell);
                if fraction > MAX_SOLID_FRACTION {
                    let max = 2.0
                        * cell
                        * field::cached_distance_samples(kind, r_cap)
                            .radius_for_fraction(MAX_SOLID_FRACTION);
                    return Err(LatticeError::TooThick {
                        kind: kind.name(),
                        strut: d,
                        cell,
                        max,
                        why: "the cell would be over 95 % solid: the pores close",
                    });
                }
                lattice.set_strut(d);
            }
        }
        Ok(lattice)
    }

    fn set_strut(&mut self, d: f64) {
        let r = d / 2.0 / self.cell;
        self.strut = Some(d);
        self.r2_cell = r * r;
        self.field = Some(StrutField::new(&field::tiled_struts(self.kind), r));
    }

    pub fn kind(&self) -> LatticeKind {
        self.kind
    }

    /// Cubic cell side M, mm.
    pub fn cell(&self) -> f64 {
        self.cell
    }

    /// Origin of the tiling, mm.
    pub fn origin(&self) -> [f64; 3] {
        self.origin
    }

    /// Strut diameter D, mm (strut lattices).
    pub fn strut_diameter(&self) -> Option<f64> {
        self.strut
    }

    /// Gyroid level t.
    pub fn level(&self) -> Option<f64> {
        self.level
    }

    /// Nominal porosity: the RD design formula, 0 for `solid`, else the
    /// solid fraction computed from the cell geometry.
    pub fn nominal_porosity(&self) -> f64 {
        match self.kind {
            LatticeKind::Solid => 0.0,
            LatticeKind::RhombicDodecahedron => {
                let a = 3f64.sqrt() * self.cell / 4.0;
                1.0 - rd_relative_density(self.strut.unwrap() / 2.0 / a)
            }
            _ => 1.0 - self.computed_solid_fraction(),
        }
    }

    /// Whether [`Lattice::nominal_porosity`] is a closed-form design formula.
    pub fn nominal_is_closed_form(&self) -> bool {
        matches!(
            self.kind,
            LatticeKind::RhombicDodecahedron | LatticeKind::Solid
        )
    }

    /// Solid fraction of one cell computed from the geometry itself.
    pub fn computed_solid_fraction(&self) -> f64 {
        *self.computed.get_or_init(|| match self.kind {
            LatticeKind::Solid => 1.0,
            LatticeKind::Gyroid => field::gyroid_solid_fraction(self.level.unwrap()),
            kind => {
                let r = self.strut.unwrap() / 2.0 / self.cell;
                let cap = if kind == LatticeKind::RhombicDodecahedron {
                    3f64.sqrt() / 4.0 * rd_max_radius_ratio()
                } else {
                    MAX_RADIUS_OVER_M
                };
                field::cached_distance_samples(kind, cap).fraction_within(r)
            }
        })
    }

    /// Design pore size H = 0.816·M − D (RD only).
    pub fn pore_size(&self) -> Option<f64> {
        match self.kind {
            LatticeKind::RhombicDodecahedron => Some(0.816 * self.cell - self.strut.unwrap()),
            _ => None,
        }
    }

    /// Whether the world point `p` (mm) is inside the solid.
    #[inline]
    pub fn contains(&self, p: [f64; 3]) -> bool {
        match self.kind {
            LatticeKind::Solid => true,
            LatticeKind::Gyroid => {
                let inv = std::f64::consts::TAU / self.cell;
                field::gyroid(
                    (p[0] - self.origin[0]) * inv,
                    (p[1] - self.origin[1]) * inv,
                    (p[2] - self.origin[2]) * inv,
                ) <= self.level.unwrap()
            }
            _ => {
                let inv = 1.0 / self.cell;
                let u = [
                    fract((p[0] - self.origin[0]) * inv),
                    fract((p[1] - self.origin[1]) * inv),
                    fract((p[2] - self.origin[2]) * inv),
                ];
                self.field.as_ref().unwrap().within(u, self.r2_cell)
            }
        }
    }

    /// The struts of one cubic cell, in units of M, each once modulo the
    /// lattice period (so tiling the set gives every strut exactly once).
    /// Empty for the gyroid and `solid`.
    pub fn cell_struts(kind: LatticeKind) -> Vec<[[f64; 3]; 2]> {
        field::cell_struts_quarter(kind)
            .iter()
            .map(|s| s.map(|e| e.map(|c| c as f64 / 4.0)))
            .collect()
    }
}

#[inline]
fn fract(x: f64) -> f64 {
    let f = x - x.floor();
    // x - floor(x) can round up to exactly 1.0 for tiny negative x.
    if f >= 1.0 {
        0.0
    } else {
        f
    }
}

fn check_strut(d: f64) -> Result<(), LatticeError> {
    if d.is_finite() && d > 0.0 {
        Ok(())
    } else {
        Err(LatticeError::BadStrut { strut: d })
    }
}

/// Root of an increasing `f` on [lo, hi] by bisection to machine precision.
fn bisect(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if f(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}
