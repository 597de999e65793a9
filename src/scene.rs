//! Scene files: what to simulate, in TOML.
//!
//! One [`Scene::load`] reads a scene, applies `--set key=value` overrides and
//! validates every key; unknown keys are rejected. The keys (README holds the
//! full reference):
//!
//! ```toml
//! name = "rd-80"
//! [material]            # preset = "tantalum" | "ti6al4v" | "titanium" | "cocr" | "ss316l", or E (MPa) and nu
//! preset = "tantalum"
//! [lattice]
//! kind = "rhombic-dodecahedron"   # bcc, fcc, octet, diamond, kelvin, gyroid, solid
//! cell = 1.5            # cubic cell side M, mm
//! strut = 0.35          # strut diameter D, mm — or porosity = 0.80 (nominal) — gyroid: level = t or porosity
//! origin = [0.0, 0.0, 0.0]
//! [specimen]
//! shape = "box"
//! size = [4.5, 4.5, 4.5]   # mm
//! [voxel]
//! size = 0.05           # h, mm
//! max_memory_mb = 16384 # cap on the estimated peak memory of a run
//! [load]
//! case = "compression"  # or "three-point-bending" (span, contact)
//! platens = "frictionless"  # or "bonded"
//! [solver]
//! backend = "auto"      # auto | gpu | cpu
//! tolerance = 1e-6
//! max_iterations = 20000
//! preconditioner = "multigrid"  # or "jacobi"
//! ```
//!
//! Every check names the key, the value and what is allowed
//! ([`SceneError::Invalid`]).

use crate::implant::stl::{Mesh, StlError};
use crate::implant::{Envelope, Features, Hole};
use crate::lattice::{Lattice, LatticeError, LatticeKind, LatticeSize};
use crate::material::{YoungPoisson, PRESETS};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Why a scene could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SceneError {
    #[error("cannot read scene file '{path}': {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Malformed TOML or a key of the wrong type or name; toml's message
    /// carries the line and column.
    #[error("scene '{path}': {message}")]
    Toml { path: PathBuf, message: String },
    /// A `--set` argument that is not `key=value`.
    #[error("--set '{arg}': expected key=value with a dotted key, e.g. lattice.porosity=0.85")]
    BadOverride { arg: String },
    /// A value outside what is allowed.
    #[error("{key} = {value}: {allowed}")]
    Invalid {
        key: &'static str,
        value: String,
        allowed: String,
    },
    #[error(transparent)]
    Lattice(#[from] LatticeError),
    #[error(transparent)]
    Stl(#[from] StlError),
}

fn invalid(
    key: &'static str,
    value: impl std::fmt::Display,
    allowed: impl Into<String>,
) -> SceneError {
    SceneError::Invalid {
        key,
        value: value.to_string(),
        allowed: allowed.into(),
    }
}

/// A whole scene, as read from its file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scene {
    /// Name used in reports.
    pub name: String,
    #[serde(default)]
    pub material: MaterialSpec,
    pub lattice: LatticeSpec,
    pub specimen: SpecimenSpec,
    pub voxel: VoxelSpec,
    #[serde(default)]
    pub load: LoadSpec,
    #[serde(default)]
    pub solver: SolverSpec,
    /// `[sweep]`: the variations `voxfe sweep` runs when no `--vary` is given.
    #[serde(default)]
    pub sweep: SweepSpec,
    /// Folder of the scene file, for relative paths (not a key).
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// `[sweep]`: `vary = ["lattice.porosity=0.45:0.88:8", ...]`, each entry
/// as `voxfe sweep --vary` takes it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    #[serde(default)]
    pub vary: Vec<String>,
}

/// `[material]`: a preset, or `E` (MPa) and `nu`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaterialSpec {
    pub preset: Option<String>,
    #[serde(rename = "E")]
    pub e: Option<f64>,
    pub nu: Option<f64>,
}

/// `[lattice]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LatticeSpec {
    pub kind: LatticeKind,
    /// Cubic cell side M, mm (not needed for `solid`).
    pub cell: Option<f64>,
    /// Strut diameter D, mm.
    pub strut: Option<f64>,
    /// Nominal porosity, from which D (or the gyroid level) is solved.
    pub porosity: Option<f64>,
    /// Gyroid level t, −1.5 < t < 1.5.
    pub level: Option<f64>,
    /// Origin of the tiling, mm (default: the box's min corner).
    #[serde(default)]
    pub origin: [f64; 3],
}

/// Specimen envelope shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Shape {
    /// The grid box `[0, size]`.
    Box,
    /// A cylinder along z (diameter, height, optional wedge).
    Cylinder,
    /// A closed STL mesh (path, transform) inside the grid box `size`.
    Stl,
}

/// `[specimen]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpecimenSpec {
    pub shape: Shape,
    /// Box and STL: the grid box `[Lx, Ly, Lz]`, mm.
    pub size: Option<[f64; 3]>,
    /// Cylinder: diameter Ø, mm.
    pub diameter: Option<f64>,
    /// Cylinder: height H at the axis, mm.
    pub height: Option<f64>,
    /// Cylinder: tilt of the top face about the x axis, degrees.
    #[serde(default)]
    pub wedge: f64,
    /// STL: path to the mesh, relative to the scene file.
    pub path: Option<PathBuf>,
    /// STL: scale factor applied first.
    #[serde(default = "one")]
    pub scale: f64,
    /// STL: rotation angles about x, then y, then z, degrees.
    #[serde(default)]
    pub rotate: [f64; 3],
    /// STL: translation applied last, mm.
    #[serde(default)]
    pub translate: [f64; 3],
    /// Solid plates on the bottom and top faces, thickness in mm.
    #[serde(default)]
    pub end_plates: f64,
    /// Solid outer wall, thickness in mm.
    #[serde(default)]
    pub wall: f64,
    /// Holes subtracted after everything else.
    #[serde(default)]
    pub holes: Vec<HoleSpec>,
}

fn one() -> f64 {
    1.0
}

/// `[[specimen.holes]]`: a cylindrical hole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoleSpec {
    /// A point on the axis where the hole starts, mm.
    pub position: [f64; 3],
    /// Direction of the axis (need not be unit length).
    pub direction: [f64; 3],
    pub diameter: f64,
    /// Length along the direction; absent: a through hole.
    pub depth: Option<f64>,
}

/// Default cap on the estimated peak memory of a run, MiB.
pub const DEFAULT_MAX_MEMORY_MB: f64 = 16384.0;

/// `[voxel]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoxelSpec {
    /// Voxel edge h, mm.
    pub size: f64,
    /// Cap on the estimated peak memory of a run, MiB.
    #[serde(default = "default_max_memory")]
    pub max_memory_mb: f64,
}

fn default_max_memory() -> f64 {
    DEFAULT_MAX_MEMORY_MB
}

/// Load cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseName {
    #[default]
    Compression,
    ThreePointBending,
    ImplantCompression,
}

/// Platen contact in compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PlatenSpec {
    #[default]
    Frictionless,
    Bonded,
}

/// `[load]`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoadSpec {
    #[serde(default)]
    pub case: CaseName,
    /// Compression only.
    pub platens: Option<PlatenSpec>,
    /// Three-point bending: support span S, mm (default 0.75·Lx).
    pub span: Option<f64>,
    /// Three-point bending: contact width c, mm (default 1 mm).
    pub contact: Option<f64>,
}

/// Which solver runs a scene.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    /// The best GPU adapter, else the CPU solver.
    #[default]
    Auto,
    Gpu,
    Cpu,
}

/// `[solver]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SolverSpec {
    #[serde(default)]
    pub backend: Backend,
    /// Substring of the adapter name to use (GPU backends).
    pub adapter: Option<String>,
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    #[serde(default = "default_max_iterations")]
    pub max_iterations: u64,
    /// GPU: read the residual back every this many iterations.
    #[serde(default = "default_check_every")]
    pub check_every: u64,
    /// `multigrid` (default) or `jacobi`, on both backends.
    #[serde(default)]
    pub preconditioner: crate::fem::Preconditioner,
}

fn default_tolerance() -> f64 {
    1e-6
}
fn default_max_iterations() -> u64 {
    20000
}
fn default_check_every() -> u64 {
    25
}

impl Default for SolverSpec {
    fn default() -> Self {
        SolverSpec {
            backend: Backend::Auto,
            adapter: None,
            tolerance: default_tolerance(),
            max_iterations: default_max_iterations(),
            preconditioner: Default::default(),
            check_every: default_check_every(),
        }
    }
}

/// A load case with its defaults resolved (lengths in mm).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub enum ResolvedLoad {
    Compression { bonded: bool },
    ThreePointBending { span: f64, contact: f64 },
    ImplantCompression { bonded: bool },
}

impl Scene {
    /// Reads, overrides (`key=value` strings as given to `--set`) and validates a scene.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Scene, SceneError> {
        let text = std::fs::read_to_string(path).map_err(|source| SceneError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Scene::parse(&text, path, overrides)
    }

    /// Parses scene text (`path` only names it in errors).
    pub fn parse(text: &str, path: &Path, overrides: &[String]) -> Result<Scene, SceneError> {
        let toml_err = |e: toml::de::Error| SceneError::Toml {
            path: path.to_path_buf(),
            message: with_line_col(text, &e),
        };
        let scene: Scene = if overrides.is_empty() {
            toml::from_str(text).map_err(toml_err)?
        } else {
            let mut table: toml::Table = toml::from_str(text).map_err(toml_err)?;
            for arg in overrides {
                apply_override(&mut table, arg)?;
            }
            Scene::deserialize(toml::Value::Table(table)).map_err(|e| SceneError::Toml {
                path: path.to_path_buf(),
                message: format!("after --set {}: {}", overrides.join(" --set "), e.message()),
            })?
        };
        let mut scene = scene;
        scene.base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        scene.validate()?;
        Ok(scene)
    }

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
                if !(e.is_finite() && e > 0.0) {
                    return Err(invalid(
                        "material.E",
                        e,
                        "allowed: a positive Young's modulus in MPa",
                    ));
                }
                if !(nu > -1.0 && nu < 0.5) {
                    return Err(invalid("material.nu", nu, "allowed: −1 < nu < 0.5"));
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
            Shape::Box | Shape::Stl => sp
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
            Shape::Box => Envelope::Box {
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

    /// The load case with its defaults resolved.
    pub fn resolved_load(&self) -> ResolvedLoad {
        match self.load.case {
            CaseName::Compression => ResolvedLoad::Compression {
                bonded: self.load.platens == Some(PlatenSpec::Bonded),
            },
            CaseName::ImplantCompression => ResolvedLoad::ImplantCompression {
                bonded: self.load.platens == Some(PlatenSpec::Bonded),
            },
            CaseName::ThreePointBending => ResolvedLoad::ThreePointBending {
                span: self.load.span.unwrap_or(0.75 * self.box_size()[0]),
                contact: self.load.contact.unwrap_or(1.0),
            },
        }
    }

    /// Conservative estimate of the peak memory of a run, bytes: the mask,
    /// the node map, the CPU solver's vectors and, with multigrid, the
    /// hierarchy, as if every node were active.
    pub fn estimated_bytes(&self) -> f64 {
        self.estimated_bytes_with(self.solver.preconditioner)
    }

    /// [`Scene::estimated_bytes`] with preconditioner `p`.
    pub fn estimated_bytes_with(&self, p: crate::fem::Preconditioner) -> f64 {
        let [nx, ny, nz] = self.dims();
        let voxels = (nx * ny * nz) as f64;
        let nodes = ((nx + 1) * (ny + 1) * (nz + 1)) as f64;
        let per_node = match p {
            crate::fem::Preconditioner::Jacobi => BYTES_PER_ACTIVE_NODE,
            crate::fem::Preconditioner::Multigrid => {
                BYTES_PER_ACTIVE_NODE + MULTIGRID_BYTES_PER_ACTIVE_NODE
            }
        };
        voxels * 1.0 + nodes * (4.0 + per_node)
    }

    /// Checks every value that can be checked without building the lattice.
    pub fn validate(&self) -> Result<(), SceneError> {
        if self.name.trim().is_empty() {
            return Err(invalid("name", "\"\"", "a non-empty name"));
        }
        self.material()?;
        let h = self.voxel.size;
        if !(h.is_finite() && h > 0.0) {
            return Err(invalid(
                "voxel.size",
                h,
                "allowed: a positive voxel edge h in mm",
            ));
        }
        self.validate_specimen()?;
        for (key, v) in [
            ("lattice.cell", self.lattice.cell),
            ("lattice.strut", self.lattice.strut),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && v > 0.0) {
                    return Err(invalid(key, v, "allowed: a positive length in mm"));
                }
            }
        }
        if let Some(p) = self.lattice.porosity {
            if !(p > 0.0 && p < 1.0) {
                return Err(invalid("lattice.porosity", p, "allowed: 0 < porosity < 1"));
            }
        }
        if self.lattice.origin.iter().any(|o| !o.is_finite()) {
            return Err(invalid(
                "lattice.origin",
                format!("{:?}", self.lattice.origin),
                "allowed: three finite coordinates in mm",
            ));
        }
        let cap = self.voxel.max_memory_mb;
        if !(cap.is_finite() && cap > 0.0) {
            return Err(invalid(
                "voxel.max_memory_mb",
                cap,
                "allowed: a positive number of MiB",
            ));
        }
        let need_mb = self.estimated_bytes() / (1024.0 * 1024.0);
        if need_mb > cap {
            let [nx, ny, nz] = self.dims();
            return Err(invalid(
                "voxel.size",
                h,
                format!(
                    "the grid of {nx}×{ny}×{nz} voxels needs up to {need_mb:.0} MiB, over voxel.max_memory_mb = {cap} MiB; \
                     use a larger voxel.size or raise voxel.max_memory_mb{}",
                    if self.solver.preconditioner == crate::fem::Preconditioner::Multigrid {
                        format!(
                            ", or set solver.preconditioner = \"jacobi\" (up to {:.0} MiB, more iterations)",
                            self.estimated_bytes_with(crate::fem::Preconditioner::Jacobi)
                                / (1024.0 * 1024.0)
                        )
                    } else {
                        String::new()
                    }
                ),
            ));
        }
        self.validate_load()?;
        let s = &self.solver;
        if !(s.tolerance > 0.0 && s.tolerance < 1.0) {
            return Err(invalid(
                "solver.tolerance",
                s.tolerance,
                "allowed: 0 < tolerance < 1",
            ));
        }
        if s.max_iterations == 0 {
            return Err(invalid("solver.max_iterations", 0, "allowed: at least 1"));
        }
        if s.check_every == 0 {
            return Err(invalid("solver.check_every", 0, "allowed: at least 1"));
        }
        Ok(())
    }

    fn validate_specimen(&self) -> Result<(), SceneError> {
        let sp = &self.specimen;
        let h = self.voxel.size;
        let shape = match sp.shape {
            Shape::Box => "box",
            Shape::Cylinder => "cylinder",
            Shape::Stl => "stl",
        };
        let only = |key: &'static str, given: bool, shapes: &str| -> Result<(), SceneError> {
            if given {
                Err(invalid(
                    key,
                    "(given)",
                    format!("only specimen.shape = {shapes} takes it, not \"{shape}\""),
                ))
            } else {
                Ok(())
            }
        };
        let is_cyl = sp.shape == Shape::Cylinder;
        let is_stl = sp.shape == Shape::Stl;
        only(
            "specimen.diameter",
            !is_cyl && sp.diameter.is_some(),
            "\"cylinder\"",
        )?;
        only(
            "specimen.height",
            !is_cyl && sp.height.is_some(),
            "\"cylinder\"",
        )?;
        only("specimen.wedge", !is_cyl && sp.wedge != 0.0, "\"cylinder\"")?;
        only(
            "specimen.size",
            is_cyl && sp.size.is_some(),
            "\"box\" or \"stl\"",
        )?;
        only("specimen.path", !is_stl && sp.path.is_some(), "\"stl\"")?;
        only("specimen.scale", !is_stl && sp.scale != 1.0, "\"stl\"")?;
        only(
            "specimen.rotate",
            !is_stl && sp.rotate != [0.0; 3],
            "\"stl\"",
        )?;
        only(
            "specimen.translate",
            !is_stl && sp.translate != [0.0; 3],
            "\"stl\"",
        )?;
        let whole = |key: &'static str,
                     value: String,
                     axis: &str,
                     l: f64|
         -> Result<(), SceneError> {
            if !(l.is_finite() && l > 0.0) {
                return Err(invalid(
                    key,
                    value,
                    format!("allowed: positive lengths in mm (the {axis} size is {l})"),
                ));
            }
            let n = l / h;
            if (n - n.round()).abs() > 1e-9 * n || n.round() < 1.0 {
                return Err(invalid(
                    key,
                    value,
                    format!(
                        "the {axis} size {l} mm is not a whole number of voxels of voxel.size = {h} mm ({l}/{h} = {n}); \
                         choose sizes that are multiples of h"
                    ),
                ));
            }
            Ok(())
        };
        match sp.shape {
            Shape::Box | Shape::Stl => {
                let size = sp.size.ok_or_else(|| {
                    invalid(
                        "specimen.size",
                        "(missing)",
                        "the box [Lx, Ly, Lz] in mm is required",
                    )
                })?;
                for (axis, &l) in ["x", "y", "z"].iter().zip(&size) {
                    whole("specimen.size", format!("{size:?}"), axis, l)?;
                }
                if is_stl {
                    if sp.path.is_none() {
                        return Err(invalid(
                            "specimen.path",
                            "(missing)",
                            "the path of an STL file is required",
                        ));
                    }
                    if !(sp.scale.is_finite() && sp.scale > 0.0) {
                        return Err(invalid(
                            "specimen.scale",
                            sp.scale,
                            "allowed: a positive factor",
                        ));
                    }
                    if sp.wall > 0.0 {
                        return Err(invalid(
                            "specimen.wall",
                            sp.wall,
                            "an STL envelope takes no wall yet: model it in the mesh",
                        ));
                    }
                }
            }
            Shape::Cylinder => {
                let d = sp.diameter.ok_or_else(|| {
                    invalid(
                        "specimen.diameter",
                        "(missing)",
                        "a cylinder needs its diameter in mm",
                    )
                })?;
                let height = sp.height.ok_or_else(|| {
                    invalid(
                        "specimen.height",
                        "(missing)",
                        "a cylinder needs its height in mm",
                    )
                })?;
                whole("specimen.diameter", d.to_string(), "diameter", d)?;
                if !(height.is_finite() && height > 0.0) {
                    return Err(invalid(
                        "specimen.height",
                        height,
                        "allowed: a positive height in mm",
                    ));
                }
                if sp.wedge.is_nan()
                    || sp.wedge.abs() >= 45.0
                    || d / 2.0 * sp.wedge.to_radians().tan().abs() >= height
                {
                    return Err(invalid(
                        "specimen.wedge",
                        sp.wedge,
                        "allowed: |wedge| < 45 degrees, and the tilted top must stay above the base",
                    ));
                }
            }
        }
        for (key, v) in [
            ("specimen.end_plates", sp.end_plates),
            ("specimen.wall", sp.wall),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(invalid(key, v, "allowed: a thickness ≥ 0 mm (0: none)"));
            }
        }
        for hole in &sp.holes {
            let n = hole.direction.iter().map(|c| c * c).sum::<f64>().sqrt();
            if !(n.is_finite() && n > 0.0) {
                return Err(invalid(
                    "specimen.holes.direction",
                    format!("{:?}", hole.direction),
                    "allowed: a non-zero vector",
                ));
            }
            if !(hole.diameter.is_finite() && hole.diameter > 0.0) {
                return Err(invalid(
                    "specimen.holes.diameter",
                    hole.diameter,
                    "allowed: a positive diameter in mm",
                ));
            }
            if let Some(depth) = hole.depth {
                if !(depth.is_finite() && depth > 0.0) {
                    return Err(invalid(
                        "specimen.holes.depth",
                        depth,
                        "allowed: a positive depth in mm (omit it for a through hole)",
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_load(&self) -> Result<(), SceneError> {
        let l = &self.load;
        let [lx, _, _] = self.box_size();
        let h = self.voxel.size;
        match l.case {
            CaseName::Compression | CaseName::ImplantCompression => {
                if let Some(s) = l.span {
                    return Err(invalid(
                        "load.span",
                        s,
                        "only three-point-bending takes a span",
                    ));
                }
                if let Some(c) = l.contact {
                    return Err(invalid(
                        "load.contact",
                        c,
                        "only three-point-bending takes a contact width",
                    ));
                }
            }
            CaseName::ThreePointBending => {
                if let Some(p) = l.platens {
                    return Err(invalid(
                        "load.platens",
                        format!("{p:?}").to_lowercase(),
                        "only compression takes platens",
                    ));
                }
                let ResolvedLoad::ThreePointBending { span, contact } = self.resolved_load() else {
                    unreachable!("case is three-point-bending")
                };
                if !(span.is_finite() && span > 0.0 && span < lx) {
                    return Err(invalid(
                        "load.span",
                        span,
                        format!("allowed: 0 < span < the bar length Lx = {lx} mm"),
                    ));
                }
                if !(contact.is_finite() && contact >= h * (1.0 - 1e-9)) {
                    return Err(invalid(
                        "load.contact",
                        contact,
                        format!("allowed: at least one voxel, voxel.size = {h} mm"),
                    ));
                }
                if contact >= span {
                    return Err(invalid(
                        "load.contact",
                        contact,
                        format!("allowed: less than the span {span} mm"),
                    ));
                }
                if span / 2.0 + contact / 2.0 > lx / 2.0 {
                    return Err(invalid(
                        "load.span",
                        span,
                        format!("the supports (span {span} mm, contact {contact} mm) must lie on the bar of length {lx} mm"),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Upper estimate of the CPU solver's bytes per active node, used by
/// [`Scene::estimated_bytes`] (measured figure in README).
pub const BYTES_PER_ACTIVE_NODE: f64 = 250.0;

/// Upper estimate of the multigrid hierarchy's bytes per fine active node
/// (measured 560–680 B in README, set-up included).
pub const MULTIGRID_BYTES_PER_ACTIVE_NODE: f64 = 800.0;

/// Sets `key` (dotted) in `table` from a `key=value` string. The value is
/// read as a TOML value (`0.85`, `[1, 2, 3]`, `"bcc"`) or, failing that, as
/// a bare string (`lattice.kind=bcc`).
fn apply_override(table: &mut toml::Table, arg: &str) -> Result<(), SceneError> {
    let bad = || SceneError::BadOverride {
        arg: arg.to_string(),
    };
    let (key, value) = arg.split_once('=').ok_or_else(bad)?;
    let key = key.trim();
    let parts: Vec<&str> = key.split('.').collect();
    if key.is_empty() || parts.iter().any(|p| p.is_empty()) {
        return Err(bad());
    }
    let value = value.trim();
    let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()));
    let mut t = table;
    for p in &parts[..parts.len() - 1] {
        let entry = t
            .entry(p.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        t = entry.as_table_mut().ok_or_else(bad)?;
    }
    let last = parts[parts.len() - 1];
    // A strut and a porosity (or level) are alternatives: setting one
    // replaces the other, so `--set lattice.porosity=0.85` works on a scene
    // that gives a strut diameter.
    if parts.len() == 2 && parts[0] == "lattice" && ["strut", "porosity", "level"].contains(&last) {
        for other in ["strut", "porosity", "level"] {
            t.remove(other);
        }
    }
    t.insert(last.to_string(), parsed);
    Ok(())
}

/// toml's message already names line and column; make sure the first line says so too.
fn with_line_col(text: &str, e: &toml::de::Error) -> String {
    let msg = e.message().to_string();
    match e.span() {
        Some(span) => {
            let before = &text[..span.start.min(text.len())];
            let line = before.matches('\n').count() + 1;
            let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
            format!("line {line}, column {col}: {msg}")
        }
        None => msg,
    }
}
