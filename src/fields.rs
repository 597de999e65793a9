//! Field output of a run: the solid mask, nodal displacement, von Mises
//! stress, strain energy density and effective strain (EES, see
//! [`crate::strength`]) as VTK ImageData, and a PNG of the von Mises stress
//! or the EES on a slice ([`SliceField`]); and [`FieldOutput`], the files
//! `voxfe run --vtk/--slice/--vtu/--inp` asks for, each carrying the run's
//! provenance.

use std::path::{Path, PathBuf};

use crate::plot::Axis;
use crate::provenance::Provenance;
use crate::report::RunReport;
use crate::scene::Scene;

/// Why field output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FieldError {
    #[error(transparent)]
    Vtk(#[from] crate::vtk::VtkError),
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
    #[error(transparent)]
    Mesh(#[from] crate::fem::mesh::MeshError),
    #[error(transparent)]
    Export(#[from] crate::export::ExportError),
    #[error(transparent)]
    PngText(#[from] crate::provenance::PngTextError),
    #[error("slice_at={at} mm: allowed: 0 ≤ at < {length} mm along {axis}")]
    SliceOutside { at: f64, length: f64, axis: char },
    /// Field files asked for while running several scenes.
    #[error("the field files (vtk, slice, vtu, inp) are of one scene; {scenes} scenes were given")]
    SeveralScenes { scenes: usize },
    /// Field files asked for of a periodic scene (six fluctuation fields,
    /// no single displacement).
    #[error("the field files (vtk, slice, vtu, inp) are of a loaded specimen; a periodic scene (load.case = \"periodic\") reports C^H only")]
    Periodic,
    /// A field file that could not be written, found before the solve.
    #[error("{flag}='{path}': {why}")]
    Unwritable {
        flag: &'static str,
        path: PathBuf,
        why: String,
    },
}

impl FieldError {
    /// Whether the failure comes from the input (a slice outside the
    /// specimen, fields of several scenes) rather than from writing.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            FieldError::SliceOutside { .. }
                | FieldError::SeveralScenes { .. }
                | FieldError::Periodic
                | FieldError::Unwritable { .. }
        )
    }
}

/// The field a slice PNG shows (`--slice-field`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SliceField {
    /// Voxel-centre von Mises stress, MPa.
    #[default]
    VonMises,
    /// Voxel-centre effective strain EES = √(2·SED/E).
    Ees,
}

impl SliceField {
    /// The values of the field in `report`, voxel-id order.
    fn values(self, report: &RunReport) -> &[f32] {
        match self {
            SliceField::VonMises => &report.solve.von_mises,
            SliceField::Ees => &report.solve.ees,
        }
    }
}

/// The field files asked of a run: a `.vti` with the mask, displacement,
/// stress, SED and EES, a PNG of `field` on the slice normal to `axis` at
/// `at` mm (default: the mid-plane), the solid voxels as a `.vtu`
/// hexahedral mesh with displacement, stress and strain, and an Abaqus
/// deck (`.inp`) of that mesh; each file carries `provenance` when given.
#[derive(Debug, Clone)]
pub struct FieldOutput {
    pub vtk: Option<PathBuf>,
    pub slice: Option<PathBuf>,
    pub axis: Axis,
    pub at: Option<f64>,
    pub field: SliceField,
    pub vtu: Option<PathBuf>,
    pub inp: Option<PathBuf>,
    pub provenance: Option<Provenance>,
}

impl FieldOutput {
    /// Whether no field file is asked for.
    pub fn is_empty(&self) -> bool {
        self.vtk.is_none() && self.slice.is_none() && self.vtu.is_none() && self.inp.is_none()
    }

    /// Fields are written for one scene only.
    pub fn check_scene_count(&self, scenes: usize) -> Result<(), FieldError> {
        if scenes > 1 && !self.is_empty() {
            return Err(FieldError::SeveralScenes { scenes });
        }
        Ok(())
    }

    /// Checks the slice position against `scene`'s grid and that each
    /// file can be written (its folder exists and takes a new file), before
    /// the solve (which may take long).
    /// None may be asked of a periodic scene.
    pub fn check_periodic(&self) -> Result<(), FieldError> {
        let any =
            self.vtk.is_some() || self.slice.is_some() || self.vtu.is_some() || self.inp.is_some();
        if any {
            Err(FieldError::Periodic)
        } else {
            Ok(())
        }
    }

    pub fn check(&self, scene: &Scene) -> Result<(), FieldError> {
        if self.slice.is_some() {
            slice_layer(scene.dims(), scene.voxel.size, self.axis, self.at)?;
        }
        if let Some(file) = &self.vtk {
            check_writable("vtk", file)?;
        }
        if let Some(file) = &self.slice {
            check_writable("slice", file)?;
        }
        if let Some(file) = &self.vtu {
            check_writable("vtu", file)?;
        }
        if let Some(file) = &self.inp {
            check_writable("inp", file)?;
        }
        Ok(())
    }

    /// Writes the asked-for files of `report` (`.vti`, slice, `.vtu`,
    /// `.inp`, in that order), calling `wrote` after each file written.
    pub fn write(
        &self,
        report: &RunReport,
        mut wrote: impl FnMut(&Path),
    ) -> Result<(), FieldError> {
        let provenance = self.provenance.as_ref();
        if let Some(file) = &self.vtk {
            report.write_vti(file, provenance)?;
            wrote(file);
        }
        if let Some(file) = &self.slice {
            report.write_slice(file, self.field, self.axis, self.at)?;
            if let Some(p) = provenance {
                crate::provenance::add_png_text(file, &p.pairs())?;
            }
            wrote(file);
        }
        if let Some(file) = &self.vtu {
            crate::export::vtu::write_run(report, provenance, file)?;
            wrote(file);
        }
        if let Some(file) = &self.inp {
            crate::export::inp::write_run(report, provenance, file)?;
            wrote(file);
        }
        Ok(())
    }
}

/// Checks that `path` (the file of `flag`) can be written: not a folder,
/// its folder exists and a file can be created there. The file itself is
/// left as it was.
pub fn check_writable(flag: &'static str, path: &Path) -> Result<(), FieldError> {
    let fail = |why: String| FieldError::Unwritable {
        flag,
        path: path.to_path_buf(),
        why,
    };
    if path.is_dir() {
        return Err(fail("is a directory; give a file name".into()));
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(fail(format!(
            "folder '{}' does not exist (voxfe does not create it)",
            parent.display()
        )));
    }
    let probe = parent.join(format!(".voxfe-write-check-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
        }
        Err(e) => {
            return Err(fail(format!(
                "cannot create a file in '{}': {e}",
                parent.display()
            )))
        }
    }
    if path.exists() {
        std::fs::OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| fail(format!("cannot be overwritten: {e}")))?;
    }
    Ok(())
}

/// The voxel layer of a slice normal to `axis` at `at` mm (default: the
/// mid-plane) through a grid of `dims` voxels of edge `h`.
pub fn slice_layer(
    dims: [usize; 3],
    h: f64,
    axis: Axis,
    at: Option<f64>,
) -> Result<usize, FieldError> {
    let c = axis as usize;
    let length = dims[c] as f64 * h;
    let at = at.unwrap_or(length / 2.0);
    if !(at >= 0.0 && at < length) {
        return Err(FieldError::SliceOutside {
            at,
            length,
            axis: ['x', 'y', 'z'][c],
        });
    }
    Ok(((at / h).floor() as usize).min(dims[c] - 1))
}

/// What a slice of `field` shows (its title and colour-bar label): marked
/// NOT CONVERGED for the fields of a solve that did not converge.
pub fn slice_title(field: SliceField, converged: bool) -> &'static str {
    match (field, converged) {
        (SliceField::VonMises, true) => "von Mises stress (MPa)",
        (SliceField::VonMises, false) => "von Mises stress (MPa), NOT CONVERGED",
        (SliceField::Ees, true) => "effective strain EES",
        (SliceField::Ees, false) => "effective strain EES, NOT CONVERGED",
    }
}

impl RunReport {
    /// Writes the solid mask (cells), the nodal displacement u in mm
    /// (points; 0 at inactive nodes), the voxel-centre von Mises stress
    /// in MPa, strain energy density `sed` in MPa and effective strain `ees`
    /// (cells) as VTK ImageData that ParaView opens, with the field
    /// data `converged` (1, or 0 for the fields of a solve that did not
    /// converge: they are written, marked, so that a failed solve can be
    /// looked at) and the provenance strings.
    pub fn write_vti(
        &self,
        path: &Path,
        provenance: Option<&Provenance>,
    ) -> Result<(), FieldError> {
        use crate::vtk::{ArrayData, VtiWriter};
        let g = &self.grid;
        let mut u = vec![0.0f32; 3 * g.node_count()];
        // The displacement is numbered as the solver's mesh numbers its nodes.
        let mesh = crate::fem::mesh::ActiveMesh::new(g)?;
        for (n, &id) in mesh.nodes.iter().enumerate() {
            for c in 0..3 {
                u[3 * id as usize + c] = self.solve.displacement[3 * n + c] as f32;
            }
        }
        let mut w =
            VtiWriter::new(g.dims, g.h).field_data("converged", self.solve.converged as i32);
        if let Some(p) = provenance {
            w = w.provenance(p);
        }
        w.cell_array("solid", 1, ArrayData::U8(g.solid.clone()))?
            .cell_array("von_mises", 1, ArrayData::F32(self.solve.von_mises.clone()))?
            .cell_array("sed", 1, ArrayData::F32(self.solve.sed.clone()))?
            .cell_array("ees", 1, ArrayData::F32(self.solve.ees.clone()))?
            .point_array("displacement", 3, ArrayData::F32(u))?
            .write(path)?;
        Ok(())
    }

    /// Writes a PNG of `field` on the plane normal to `axis` at `at` mm
    /// (default: the mid-plane); its title says NOT CONVERGED when the
    /// solve did not converge.
    pub fn write_slice(
        &self,
        path: &Path,
        field: SliceField,
        axis: Axis,
        at: Option<f64>,
    ) -> Result<(), FieldError> {
        let g = &self.grid;
        let layer = slice_layer(g.dims, g.h, axis, at)?;
        crate::plot::slice_png(
            path,
            g,
            field.values(self),
            axis,
            layer,
            slice_title(field, self.solve.converged),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slice_of_a_solve_that_did_not_converge_says_so() {
        for field in [SliceField::VonMises, SliceField::Ees] {
            assert!(slice_title(field, false).contains("NOT CONVERGED"));
            assert!(!slice_title(field, true).contains("NOT"));
        }
        assert!(slice_title(SliceField::Ees, true).contains("EES"));
    }

    #[test]
    fn writability_is_checked_without_touching_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.vti");
        assert!(check_writable("vtk", &file).is_ok());
        assert!(!file.exists(), "the check leaves no file");
        let e = check_writable("vtk", &dir.path().join("x/f.vti")).unwrap_err();
        assert!(e.to_string().contains("does not exist"), "{e}");
        assert!(e.is_bad_input());
        let e = check_writable("slice", dir.path()).unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
