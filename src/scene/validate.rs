//! [`Scene::validate`]: every check that can be made without building the
//! lattice; each names the key, the value and what is allowed. The first
//! check walks every float of the scene (as its TOML value) and refuses NaN
//! and infinities by their full key path, so no later check sees them.

use super::{invalid, Fill, Scene, SceneError, Shape};
use crate::fem::load::LoadCase;
use std::path::Path;

/// What sizes a grid, for the errors of one too large
/// ([`Scene::validate_grid_size`], [`Scene::validate_memory`]).
#[derive(Debug, Clone, Copy)]
pub(super) enum SizedBy {
    /// The scene's own keys: its specimen (an image: its file).
    Scene,
    /// A periodic specimen of `cells` cells of side `cell` mm per axis.
    Cells { cells: usize, cell: f64 },
}

/// Smallest lattice cell, in voxels: one voxel per quarter cell M/4, the
/// grid on which every strut node lies.
pub const MIN_CELL_VOXELS: f64 = 4.0;

impl Scene {
    /// Checks every value that can be checked without building the lattice.
    pub fn validate(&self) -> Result<(), SceneError> {
        self.check_finite()?;
        if self.name.trim().is_empty() {
            return Err(invalid("name", "\"\"", "a non-empty name"));
        }
        let material = self.material()?;
        self.strength()?;
        let h = self.voxel.size;
        let (h_key, h_value) = self.voxel_size_named();
        if !(h.is_finite() && h > 0.0) {
            return Err(invalid(
                h_key,
                h_value,
                "allowed: a positive voxel edge h in mm",
            ));
        }
        // Its entries scale as E·h: with E bounded only an absurd h makes them
        // overflow, but no solve may start from a non-finite stiffness.
        if !crate::fem::hex8::element_stiffness(material, h)
            .iter()
            .all(|k| k.is_finite())
        {
            return Err(invalid(
                h_key,
                h_value,
                format!(
                    "the element stiffness for material.E = {} MPa, material.nu = {} at this voxel size is not finite \
                     (its entries grow as E·h): use a physical voxel size in mm",
                    material.e, material.nu
                ),
            ));
        }
        self.validate_specimen()?;
        self.validate_image()?;
        self.validate_grid_size(SizedBy::Scene)?;
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
        if let Some(m) = self.lattice.cell {
            if self.lattice.kind != crate::lattice::LatticeKind::Solid
                && m < MIN_CELL_VOXELS * h * (1.0 - 1e-9)
            {
                return Err(invalid(
                    "lattice.cell",
                    m,
                    format!(
                        "allowed: at least {MIN_CELL_VOXELS} voxels, {} mm at voxel.size = {h} mm: the strut nodes lie on \
                         quarter cells M/4, and with less than one voxel per quarter cell, sampling at voxel centres \
                         aliases the lattice (pores close or struts break: the part is not the lattice asked for); \
                         use a larger cell or a smaller voxel.size",
                        MIN_CELL_VOXELS * h
                    ),
                ));
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
        let t = self.voxel.fraction_threshold;
        if !(0.0..1.0).contains(&t) {
            return Err(invalid(
                "voxel.fraction_threshold",
                t,
                "allowed: 0 ≤ threshold < 1 (the solid fraction φ below which a voxel is void; default 0.01)",
            ));
        }
        if let Some(p) = self.voxel.fraction_exponent.value() {
            if !(1.0..=4.0).contains(&p) {
                return Err(invalid(
                    "voxel.fraction_exponent",
                    p,
                    "allowed: \"auto\" (calibrated for the lattice at h, the default) or 1 ≤ p ≤ 4 (a fractional voxel's stiffness is φ^p·Kₑ; 1 is Voigt scaling)",
                ));
            }
            let ramp = self.specimen.shape == Shape::Image
                && self
                    .image
                    .as_ref()
                    .is_some_and(|i| i.calibration == super::CalibrationKind::Ramp);
            if p != 1.0 && self.voxel.fill != Fill::Fraction && !ramp {
                return Err(invalid(
                    "voxel.fraction_exponent",
                    p,
                    "it applies to voxel.fill = \"fraction\" (or an image with calibration = \"ramp\") only: binary voxels have φ = 0 or 1; set voxel.fill = \"fraction\" or leave the exponent \"auto\"",
                ));
            }
        }
        let cap = self.voxel.max_memory_mb;
        if !(cap.is_finite() && cap > 0.0) {
            return Err(invalid(
                "voxel.max_memory_mb",
                cap,
                "allowed: a positive number of MiB",
            ));
        }
        self.validate_memory(SizedBy::Scene)?;
        self.validate_load()?;
        self.as_built_model()?;
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
        if let Some(c) = self.sweep.converge {
            if c.levels < 3 {
                return Err(invalid(
                    "sweep.converge.levels",
                    c.levels,
                    "allowed: at least 3 (an order and an extrapolation need three solves)",
                ));
            }
            if c.ratio <= 1.0 {
                return Err(invalid(
                    "sweep.converge.ratio",
                    c.ratio,
                    "allowed: a refinement ratio above 1 (e.g. 1.5 or 2)",
                ));
            }
        }
        Ok(())
    }

    /// Whether the scene file or an override or edit writes the dotted
    /// `key` (`voxel.fill`): a key left out takes its default, and a
    /// default is never refused as not applying to the scene.
    pub(crate) fn writes(&self, key: &str) -> bool {
        let mut table = &self.origin.table;
        let mut parts = key.split('.').peekable();
        while let Some(part) = parts.next() {
            match (table.get(part), parts.peek()) {
                (Some(_), None) => return true,
                (Some(toml::Value::Table(t)), Some(_)) => table = t,
                _ => return false,
            }
        }
        false
    }

    /// The strength of the solid for the strength estimates:
    /// `material.yield_strength` (default: the preset's; none for a
    /// material given by E and nu alone) and `material.critical_strain`
    /// (default [`crate::strength::DEFAULT_CRITICAL_STRAIN`]).
    pub fn strength(&self) -> Result<crate::strength::StrengthParams, SceneError> {
        use crate::strength::{
            CRITICAL_STRAIN_MAX, CRITICAL_STRAIN_MIN, DEFAULT_CRITICAL_STRAIN, YIELD_STRENGTH_MAX,
            YIELD_STRENGTH_MIN,
        };
        let m = &self.material;
        if let Some(y) = m.yield_strength {
            if !(YIELD_STRENGTH_MIN..=YIELD_STRENGTH_MAX).contains(&y) {
                return Err(invalid(
                    "material.yield_strength",
                    format!("{y:?}"),
                    format!(
                        "allowed: {YIELD_STRENGTH_MIN} ≤ yield_strength ≤ {YIELD_STRENGTH_MAX} MPa, a positive \
                         strength in MPa (a value outside is usually Pa or GPa)"
                    ),
                ));
            }
        }
        let critical_strain = m.critical_strain.unwrap_or(DEFAULT_CRITICAL_STRAIN);
        if !(CRITICAL_STRAIN_MIN..=CRITICAL_STRAIN_MAX).contains(&critical_strain) {
            return Err(invalid(
                "material.critical_strain",
                format!("{critical_strain:?}"),
                format!(
                    "allowed: {CRITICAL_STRAIN_MIN} ≤ critical_strain ≤ {CRITICAL_STRAIN_MAX}, a strain (not \
                     percent; the Pistoia default is {DEFAULT_CRITICAL_STRAIN})"
                ),
            ));
        }
        let preset = match (&m.preset, m.e, m.nu) {
            (Some(p), _, _) => crate::material::YoungPoisson::preset_yield_strength(p),
            (None, None, None) => Some(crate::material::TANTALUM_YIELD),
            _ => None,
        };
        Ok(crate::strength::StrengthParams {
            yield_strength: m.yield_strength.or(preset),
            critical_strain,
        })
    }

    /// Every float of every key is finite: a walk over the scene as a TOML
    /// value, so a key added later is covered without a check of its own.
    fn check_finite(&self) -> Result<(), SceneError> {
        // A scene always serializes (plain numbers, strings, arrays, tables);
        // if it ever did not, the per-key checks below still run.
        match toml::Value::try_from(self) {
            Ok(value) => first_non_finite(&value, &mut String::new()).map_or(Ok(()), Err),
            Err(_) => Ok(()),
        }
    }

    /// The grid of a periodic specimen of `cells` > 1 cells of side `cell`
    /// (mm) per axis, made from a scene by `cells` (voxfe homogenize
    /// --cells), fits the node ids and the memory cap: the errors name the
    /// cells, not the specimen size made of them. Run before the scene is
    /// checked as a whole, so only where its voxel size is a length.
    pub(super) fn validate_cells_grid(&self, cells: usize, cell: f64) -> Result<(), SceneError> {
        let h = self.voxel.size;
        if cells <= 1 || !(h.is_finite() && h > 0.0 && cell.is_finite() && cell > 0.0) {
            return Ok(());
        }
        let by = SizedBy::Cells { cells, cell };
        self.validate_grid_size(by)?;
        if self.voxel.max_memory_mb > 0.0 {
            self.validate_memory(by)?;
        }
        Ok(())
    }

    /// The key and value an error about the voxel size names: `voxel.size`
    /// as written, or for an image whose scene does not write it, the
    /// image file with the voxel size it states.
    fn voxel_size_named(&self) -> (&'static str, String) {
        let h = self.voxel.size;
        if self.specimen.shape == Shape::Image && !self.writes("voxel.size") {
            (
                "specimen.path",
                format!(
                    "'{}' (its voxels of {h:?} mm)",
                    crate::text::path(self.specimen.path.as_deref().unwrap_or(Path::new("")))
                ),
            )
        } else {
            ("voxel.size", h.to_string())
        }
    }

    /// What is named as sizing the grid, with the value the user wrote and
    /// what makes the grid smaller, for the errors of a grid too large: an
    /// image's file and its voxel counts (its voxel size is the file's),
    /// the cells of a periodic specimen made of `cells`, or `fallback` (the
    /// key of the scene's own sizes).
    fn grid_named(
        &self,
        by: SizedBy,
        counts: [f64; 3],
        fallback: (&'static str, String, &'static str),
    ) -> (&'static str, String, String, &'static str) {
        let [nx, ny, nz] = counts.map(|n| {
            if n < 1e15 {
                format!("{n:.0}")
            } else {
                format!("{n:e}")
            }
        });
        let h = self.voxel.size;
        match by {
            SizedBy::Cells { cells, cell } => (
                "cells",
                cells.to_string(),
                format!(
                    "the periodic specimen of {cells}×{cells}×{cells} cells of lattice.cell = {cell} mm (a grid of \
                     {nx}×{ny}×{nz} voxels at voxel.size = {h} mm)"
                ),
                "use fewer cells or a larger voxel.size",
            ),
            SizedBy::Scene if self.specimen.shape == Shape::Image => (
                "specimen.path",
                format!(
                    "'{}'",
                    crate::text::path(self.specimen.path.as_deref().unwrap_or(Path::new("")))
                ),
                format!("the image (a grid of {nx}×{ny}×{nz} voxels of {h} mm)"),
                "crop or downsample the image",
            ),
            SizedBy::Scene => (
                fallback.0,
                fallback.1,
                format!("the grid of {nx}×{ny}×{nz} voxels at voxel.size = {h} mm"),
                fallback.2,
            ),
        }
    }

    /// The estimated peak memory ([`Scene::estimated_bytes`]) is within
    /// `voxel.max_memory_mb` (positive: checked before); the error names
    /// what sizes the grid ([`Scene::grid_named`]; the voxel size for a
    /// scene's own sizes).
    fn validate_memory(&self, by: SizedBy) -> Result<(), SceneError> {
        let cap = self.voxel.max_memory_mb;
        let need_mb = self.estimated_bytes() / (1024.0 * 1024.0);
        if need_mb <= cap {
            return Ok(());
        }
        let h = self.voxel.size;
        let (key, value, grid, smaller) = self.grid_named(
            by,
            self.dims().map(|n| n as f64),
            ("voxel.size", h.to_string(), "use a larger voxel.size"),
        );
        Err(invalid(
            key,
            value,
            format!(
                "{grid} needs up to {need_mb:.0} MiB, over voxel.max_memory_mb = {cap} MiB; \
                 {smaller}, or raise voxel.max_memory_mb{}",
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
        ))
    }

    /// The grid's node count fits the solver's 32-bit node ids, computed in
    /// f64 from the sizes alone, before anything is allocated (and before
    /// the memory estimate, whose integer products it keeps in range). The
    /// error names what the user wrote that makes the grid too large
    /// ([`Scene::grid_named`]: the specimen size, an image's file, the
    /// cells of a periodic specimen).
    fn validate_grid_size(&self, by: SizedBy) -> Result<(), SceneError> {
        let sp = &self.specimen;
        let h = self.voxel.size;
        let (key, value, counts) = match sp.shape {
            Shape::Box | Shape::Stl | Shape::Image => {
                let size = sp.size.expect("validated");
                (
                    "specimen.size",
                    format!("{size:?}"),
                    size.map(|l| (l / h).round()),
                )
            }
            Shape::Cylinder => {
                let e = self.cylinder_envelope().expect("validated").extent();
                let counts = [
                    (e[0] / h).round(),
                    (e[1] / h).round(),
                    (e[2] / h - 1e-9).ceil(),
                ];
                if counts[2] > counts[0] {
                    (
                        "specimen.height",
                        format!("{:?}", sp.height.unwrap_or(0.0)),
                        counts,
                    )
                } else {
                    (
                        "specimen.diameter",
                        format!("{:?}", sp.diameter.unwrap_or(0.0)),
                        counts,
                    )
                }
            }
        };
        let nodes: f64 = counts.iter().map(|n| n + 1.0).product();
        let max = crate::fem::mesh::INACTIVE as f64 - 1.0;
        if nodes.is_nan() || nodes > max {
            let (key, value, grid, smaller) = self.grid_named(
                by,
                counts,
                (key, value, "use a smaller specimen or a larger voxel.size"),
            );
            return Err(invalid(
                key,
                value,
                format!(
                    "{grid} has {nodes:.4e} nodes; allowed: at most {max:.0} nodes (the solver's 32-bit node ids): \
                     {smaller}"
                ),
            ));
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
            Shape::Image => "image",
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
        only(
            "specimen.path",
            !is_stl && sp.shape != Shape::Image && sp.path.is_some(),
            "\"stl\" or \"image\"",
        )?;
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
            Shape::Box | Shape::Stl | Shape::Image => {
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
        // Features that leave no room for the lattice turn the part solid.
        let (height, height_what) = match sp.shape {
            Shape::Box | Shape::Stl | Shape::Image => (
                sp.size.expect("checked above")[2],
                "the height Lz".to_string(),
            ),
            Shape::Cylinder => {
                let (d, height) = (sp.diameter.unwrap_or(0.0), sp.height.unwrap_or(0.0));
                let lowest = height - d / 2.0 * sp.wedge.to_radians().tan().abs();
                (
                    lowest,
                    if sp.wedge == 0.0 {
                        "the height H".to_string()
                    } else {
                        format!("the lowest height H − Ø/2·tan|wedge| = {lowest} mm")
                    },
                )
            }
        };
        if sp.end_plates > 0.0 && 2.0 * sp.end_plates >= height {
            return Err(invalid(
                "specimen.end_plates",
                sp.end_plates,
                format!(
                    "allowed: less than half of {height_what} ({height} mm): thicker plates on both faces meet \
                     and leave no lattice between them (the part would be solid)"
                ),
            ));
        }
        let half_width = match sp.shape {
            Shape::Box => {
                let size = sp.size.expect("checked above");
                Some((size[0].min(size[1]) / 2.0, "half the smaller side"))
            }
            Shape::Cylinder => Some((sp.diameter.unwrap_or(0.0) / 2.0, "the radius")),
            Shape::Stl | Shape::Image => None,
        };
        if let Some((limit, what)) = half_width {
            if sp.wall > 0.0 && sp.wall >= limit {
                return Err(invalid(
                    "specimen.wall",
                    sp.wall,
                    format!(
                        "allowed: less than {what} ({limit} mm): a wall that thick fills the whole cross-section \
                         and leaves no lattice (the part would be solid)"
                    ),
                ));
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
        match self.load_case() {
            LoadCase::Periodic => self.validate_periodic()?,
            LoadCase::Compression { .. } | LoadCase::ImplantCompression { .. } => {
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
            LoadCase::ThreePointBending { span, contact } => {
                if let Some(p) = l.platens {
                    return Err(invalid(
                        "load.platens",
                        format!("{p:?}").to_lowercase(),
                        "only compression takes platens",
                    ));
                }
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

/// The first NaN or infinite float under `value`, named by its path from
/// the scene's root (`path` is the path of `value`).
fn first_non_finite(value: &toml::Value, path: &mut String) -> Option<SceneError> {
    match value {
        toml::Value::Float(f) if !f.is_finite() => Some(SceneError::NotFinite {
            key: path.clone(),
            value: *f,
        }),
        toml::Value::Array(items) => items.iter().enumerate().find_map(|(i, v)| {
            let len = path.len();
            path.push_str(&format!("[{i}]"));
            let found = first_non_finite(v, path);
            path.truncate(len);
            found
        }),
        toml::Value::Table(table) => table.iter().find_map(|(k, v)| {
            let len = path.len();
            if !path.is_empty() {
                path.push('.');
            }
            path.push_str(k);
            let found = first_non_finite(v, path);
            path.truncate(len);
            found
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_floats_are_named_by_their_path() {
        let v: toml::Value = toml::from_str(
            "a = 1.0\n[t]\nx = [1.0, 2.0]\n[[t.h]]\np = [0.0, 0.0]\n[[t.h]]\np = [0.0, nan]\n",
        )
        .unwrap();
        let e = first_non_finite(&v, &mut String::new()).expect("a NaN");
        assert_eq!(
            e.to_string(),
            "t.h[1].p[1] = NaN: allowed: a finite number (not nan or inf)"
        );
        let v: toml::Value = toml::from_str("a = -inf").unwrap();
        assert!(first_non_finite(&v, &mut String::new())
            .unwrap()
            .to_string()
            .starts_with("a = -inf"));
        let v: toml::Value = toml::from_str("a = 1.0\nb = [2, 3]").unwrap();
        assert!(first_non_finite(&v, &mut String::new()).is_none());
    }
}
