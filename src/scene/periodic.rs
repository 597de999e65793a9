//! What a periodic scene (`load.case = "periodic"`) must be: a box of
//! whole lattice cells, each a whole number of voxels, with nothing that
//! breaks the periodicity (no holes, end plates, wall or wedge), and no
//! keys of the other load cases; and [`make_periodic`], any lattice
//! scene's table made periodic ([`Scene::load_as_periodic`],
//! [`Scene::with_cells`]: `voxfe homogenize`, `voxfe calibrate`).

use super::{invalid, Scene, SceneError, Shape};
use crate::lattice::LatticeKind;

/// Relative tolerance of "a whole number" (as for nx = Lx/h).
const WHOLE: f64 = 1e-9;

/// `x` when it is within [`WHOLE`] of a positive whole number.
fn whole(x: f64) -> Option<usize> {
    let n = x.round();
    ((x - n).abs() <= WHOLE * x.abs().max(1.0) && n >= 1.0).then_some(n as usize)
}

impl Scene {
    /// The checks of a periodic scene.
    pub(super) fn validate_periodic(&self) -> Result<(), SceneError> {
        let l = &self.load;
        let other = "only three-point-bending (span, contact) and compression (platens) take it; a periodic cell has no platens or supports";
        if let Some(p) = l.platens {
            return Err(invalid(
                "load.platens",
                format!("{p:?}").to_lowercase(),
                other,
            ));
        }
        if let Some(s) = l.span {
            return Err(invalid("load.span", s, other));
        }
        if let Some(c) = l.contact {
            return Err(invalid("load.contact", c, other));
        }
        let sp = &self.specimen;
        if sp.shape != Shape::Box {
            return Err(invalid(
                "specimen.shape",
                format!("{:?}", sp.shape).to_lowercase(),
                "load.case = \"periodic\" takes specimen.shape = \"box\": whole lattice cells that tile space (an envelope, an STL or an image is not periodic)",
            ));
        }
        let breaks = "load.case = \"periodic\" takes none: it breaks the periodicity of the cell";
        if !sp.holes.is_empty() {
            return Err(invalid("specimen.holes", sp.holes.len(), breaks));
        }
        for (key, v) in [
            ("specimen.end_plates", sp.end_plates),
            ("specimen.wall", sp.wall),
            ("specimen.wedge", sp.wedge),
        ] {
            if v != 0.0 {
                return Err(invalid(key, v, breaks));
            }
        }
        if self.lattice.kind == LatticeKind::Solid {
            return Ok(());
        }
        let lattice = self.lattice()?;
        let m = lattice.cell();
        let h = self.voxel.size;
        let size = sp.size.unwrap_or_default();
        for (axis, &len) in ["x", "y", "z"].iter().zip(&size) {
            if whole(len / m).is_none() {
                return Err(invalid(
                    "specimen.size",
                    format!("{size:?}"),
                    format!(
                        "a periodic specimen is whole cells: L{axis} = {len} mm is {:.4} cells of lattice.cell = {m} mm",
                        len / m
                    ),
                ));
            }
        }
        cell_of_whole_voxels(m, h)
    }
}

/// A lattice cell of side `m` is a whole number of voxels of edge `h`,
/// else an error naming the voxel size and the cell.
fn cell_of_whole_voxels(m: f64, h: f64) -> Result<(), SceneError> {
    if whole(m / h).is_none() {
        return Err(invalid(
            "voxel.size",
            h,
            format!(
                "a periodic cell must be a whole number of voxels: lattice.cell = {m} mm is {:.4} voxels of {h} mm (use M/n, e.g. {:.6} mm)",
                m / h,
                m / (m / h).round().max(1.0)
            ),
        ));
    }
    Ok(())
}

/// Makes the scene table `table` periodic: unless its `load.case` is
/// `"periodic"` already and `cells` is not given, `[load]` becomes
/// `case = "periodic"` and `[specimen]` a box of `cells` (default 1)
/// lattice cells per axis.
pub(super) fn make_periodic(
    table: &mut toml::Table,
    cells: Option<usize>,
) -> Result<(), SceneError> {
    if cells == Some(0) {
        return Err(invalid("cells", 0, "at least 1 cell per axis"));
    }
    let case = table
        .get("load")
        .and_then(|l| l.get("case"))
        .and_then(|c| c.as_str());
    if case == Some("periodic") && cells.is_none() {
        return Ok(());
    }
    let lattice = table.get("lattice").and_then(|l| l.as_table());
    let solid = lattice.and_then(|l| l.get("kind")).and_then(|k| k.as_str()) == Some("solid");
    let cell = match lattice.and_then(|l| l.get("cell")) {
        Some(v) => v.as_float().or_else(|| v.as_integer().map(|i| i as f64)),
        None if solid => Some(1.0),
        None => None,
    }
    .ok_or_else(|| {
        invalid(
            "lattice.cell",
            "(missing)",
            "a periodic cell needs the cubic cell side M in mm",
        )
    })?;
    let l = cells.unwrap_or(1) as f64 * cell;
    let mut load = toml::Table::new();
    load.insert("case".into(), "periodic".into());
    let mut specimen = toml::Table::new();
    specimen.insert("shape".into(), "box".into());
    specimen.insert("size".into(), toml::Value::Array(vec![l.into(); 3]));
    table.insert("load".into(), load.into());
    table.insert("specimen".into(), specimen.into());
    // Checked now, while what sized the specimen is known: the cell
    // against the voxel size (not the box of cells made of it), and the
    // grid of `cells` (its errors name the cells). A table that does not
    // make a scene, or a voxel size or cell that is no length, is refused
    // later by the scene's own checks.
    if let Ok(scene) = <Scene as serde::Deserialize>::deserialize(toml::Value::Table(table.clone()))
    {
        let h = scene.voxel.size;
        if !solid && h.is_finite() && h > 0.0 && cell.is_finite() && cell > 0.0 {
            cell_of_whole_voxels(cell, h)?;
        }
        if let Some(n) = cells {
            scene.validate_cells_grid(n, cell)?;
        }
    }
    Ok(())
}
