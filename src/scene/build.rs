//! What a scene builds: the material, the voxel grid's counts and box, the
//! specimen envelope (an STL mesh is read and voxelized here), the solid
//! features and holes, and the lattice.

use super::{invalid, Scene, SceneError, Shape};
use crate::implant::stl::{ExportError, Mesh};
use crate::implant::{Envelope, Features, Hole};
use crate::lattice::{Lattice, LatticeKind, LatticeSize};
use crate::material::{YoungPoisson, E_MAX, E_MIN, NU_MAX, NU_MIN, PRESETS};

impl Scene {
    /// The material.
    pub fn material(&self) -> Result<YoungPoisson, SceneError> {
        let m = &self.material;
        match (&m.preset, m.e, m.nu) {
            (Some(p), None, None) => YoungPoisson::preset(p).ok_or_else(|| {
                let names: Vec<_> = PRESETS.iter().map(|p| format!("\"{}\"", p.0)).collect();
                invalid(
                    "material.preset",
                    format!("\"{p}\""),
                    format!("allowed: {}", names.join(", ")),
                )
            }),
            (None, Some(e), Some(nu)) => {
                if !(E_MIN..=E_MAX).contains(&e) {
                    return Err(invalid(
                        "material.E",
                        format!("{e:?}"),
                        format!(
                            "allowed: {E_MIN} ≤ E ≤ {E_MAX} MPa, from 1 kPa (soft gels) to 1.2 TPa (diamond), \
                             the range of real solids; E is in MPa (a value outside is usually Pa or GPa), \
                             and far outside it the stiffness under- or overflows the solver's floating point"
                        ),
                    ));
                }
                if !(NU_MIN..=NU_MAX).contains(&nu) {
                    return Err(invalid(
                        "material.nu",
                        nu,
                        format!(
                            "allowed: {NU_MIN} ≤ nu ≤ {NU_MAX}: nearer 0.5 the voxel elements lock (too stiff), \
                             nearer −1 the shear modulus dwarfs the bulk modulus"
                        ),
                    ));
                }
                Ok(YoungPoisson { e, nu })
            }
            (None, None, None) => Ok(YoungPoisson::tantalum()),
            (Some(p), _, _) => Err(invalid(
                "material.preset",
                format!("\"{p}\""),
                "give either a preset or both E and nu, not both",
            )),
            (None, e, nu) => Err(invalid(
                "material",
                format!("E = {e:?}, nu = {nu:?}"),
                "give both E (MPa) and nu, or a preset",
            )),
        }
    }

    /// Voxel counts `[nx, ny, nz]`.
    pub fn dims(&self) -> [usize; 3] {
        let h = self.voxel.size;
        let sp = &self.specimen;
        match sp.shape {
            Shape::Box | Shape::Stl | Shape::Image => sp
                .size
                .unwrap_or_default()
                .map(|l| (l / h).round() as usize),
            Shape::Cylinder => {
                let e = self.cylinder().extent();
                [
                    (e[0] / h).round() as usize,
                    (e[1] / h).round() as usize,
                    (e[2] / h - 1e-9).ceil() as usize,
                ]
            }
        }
    }

    /// Size of the grid box `[Lx, Ly, Lz]`, mm.
    pub fn box_size(&self) -> [f64; 3] {
        self.dims().map(|n| n as f64 * self.voxel.size)
    }

    /// The cylinder envelope for `voxfe export-stl`, from the spec alone
    /// (nothing is read or voxelized).
    pub fn cylinder_envelope(&self) -> Result<Envelope, ExportError> {
        let sp = &self.specimen;
        match (sp.diameter, sp.height) {
            (Some(_), Some(_)) => Ok(self.cylinder()),
            _ => Err(ExportError::NotCylinder {
                shape: format!("{:?}", sp.shape),
            }),
        }
    }

    fn cylinder(&self) -> Envelope {
        Envelope::Cylinder {
            diameter: self.specimen.diameter.unwrap_or(0.0),
            height: self.specimen.height.unwrap_or(0.0),
            wedge_deg: self.specimen.wedge,
        }
    }

    /// The envelope (an STL mesh is read, checked and voxelized here).
    pub fn envelope(&self) -> Result<Envelope, SceneError> {
        let sp = &self.specimen;
        Ok(match sp.shape {
            // An image fills its box; its grey values are read by the
            // voxelize step (crate::image::specimen).
            Shape::Box | Shape::Image => Envelope::Box {
                size: self.box_size(),
            },
            Shape::Cylinder => self.cylinder(),
            Shape::Stl => {
                let path = self.base_dir.join(sp.path.as_ref().expect("validated"));
                let mut mesh = Mesh::read(&path)?;
                mesh.transform(sp.scale, sp.rotate, sp.translate);
                let (lo, hi) = mesh.bounds();
                let size = self.box_size();
                let tol = 1e-9 * size.iter().fold(1.0f64, |a, &b| a.max(b));
                if (0..3).any(|c| lo[c] < -tol || hi[c] > size[c] + tol) {
                    return Err(invalid(
                        "specimen.size",
                        format!("{size:?}"),
                        format!("the transformed mesh spans {lo:.4?} to {hi:.4?}: it must lie inside the grid box [0, size]"),
                    ));
                }
                let (mask, bottom, top) = mesh.voxelize_columns(self.dims(), self.voxel.size);
                Envelope::Mesh {
                    mask,
                    dims: self.dims(),
                    h: self.voxel.size,
                    bottom,
                    top,
                    degenerate: mesh.degenerate,
                    warnings: mesh.warnings,
                }
            }
        })
    }

    /// The solid features and holes.
    pub fn features(&self) -> Features {
        let sp = &self.specimen;
        Features {
            end_plates: sp.end_plates,
            wall: sp.wall,
            holes: sp
                .holes
                .iter()
                .map(|h| {
                    let n = h.direction.iter().map(|c| c * c).sum::<f64>().sqrt();
                    Hole {
                        position: h.position,
                        direction: h.direction.map(|c| c / n),
                        diameter: h.diameter,
                        depth: h.depth,
                    }
                })
                .collect(),
        }
    }

    /// The lattice, with D (or the gyroid level) solved from a porosity when one is given.
    pub fn lattice(&self) -> Result<Lattice, SceneError> {
        let l = &self.lattice;
        let size =
            match (l.kind, l.strut, l.porosity, l.level) {
                (LatticeKind::Solid, None, None, None) => LatticeSize::Strut(0.0),
                (LatticeKind::Solid, ..) => return Err(invalid(
                    "lattice.kind",
                    "\"solid\"",
                    "a solid specimen takes no lattice.strut, lattice.porosity or lattice.level",
                )),
                (_, Some(d), None, None) => LatticeSize::Strut(d),
                (_, None, Some(p), None) => LatticeSize::Porosity(p),
                (LatticeKind::Gyroid, None, None, Some(t)) => LatticeSize::Level(t),
                (LatticeKind::Gyroid, ..) => {
                    return Err(invalid(
                        "lattice",
                        format!(
                            "strut = {:?}, porosity = {:?}, level = {:?}",
                            l.strut, l.porosity, l.level
                        ),
                        "a gyroid takes exactly one of lattice.level or lattice.porosity",
                    ))
                }
                (kind, ..) => {
                    return Err(invalid(
                        "lattice",
                        format!(
                            "strut = {:?}, porosity = {:?}, level = {:?}",
                            l.strut, l.porosity, l.level
                        ),
                        format!(
                            "{} takes exactly one of lattice.strut or lattice.porosity",
                            kind.name()
                        ),
                    ))
                }
            };
        let cell = match (l.kind, l.cell) {
            (_, Some(m)) => m,
            (LatticeKind::Solid, None) => 1.0,
            (_, None) => {
                return Err(invalid(
                    "lattice.cell",
                    "(missing)",
                    "the cubic cell side M in mm is required",
                ))
            }
        };
        Ok(Lattice::new(l.kind, cell, size, l.origin)?)
    }
}
