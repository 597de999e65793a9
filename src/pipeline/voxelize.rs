//! The pipeline step that voxelizes a scene: builds its lattice, envelope
//! and features, samples the implant at voxel centres, keeps the largest
//! component, and summarises the result ([`VoxelReport`], what
//! `voxfe voxelize` prints).

use crate::grid::VoxelGrid;
use crate::implant::{Envelope, Implant};
use crate::lattice::Lattice;
use crate::scene::{Scene, SceneError};
use crate::voxelize::{voxelize, VoxelError, Voxelization};
use serde::Serialize;

/// Below this strut diameter over voxel size, a voxel strut no longer
/// follows D (spec, "Resolution").
pub const MIN_D_OVER_H: f64 = 6.0;

/// Why a voxelization run failed.
#[derive(Debug, thiserror::Error)]
pub enum VoxelizeError {
    #[error(transparent)]
    Scene(#[from] SceneError),
    #[error(transparent)]
    Voxel(#[from] VoxelError),
}

/// The voxelization summary. Field names are shared with `voxfe run --json`.
#[derive(Debug, Clone, Serialize)]
pub struct VoxelReport {
    pub name: String,
    pub lattice: &'static str,
    pub dims: [usize; 3],
    pub voxel_size: f64,
    pub total_voxels: usize,
    pub solid_voxels: usize,
    pub removed_voxels: usize,
    /// Voxels whose centre lies inside the envelope (all of them for a box).
    pub envelope_voxels: usize,
    /// `1 − solid_voxels / envelope_voxels`.
    pub porosity_measured: f64,
    /// STL envelopes: zero-area triangles ignored while reading.
    pub stl_degenerate_triangles: Option<usize>,
    pub porosity_nominal: f64,
    /// Whether `porosity_nominal` comes from a closed-form design formula
    /// (true) or from the solid fraction computed from the cell geometry.
    pub porosity_nominal_closed_form: bool,
    pub cell: Option<f64>,
    pub strut_diameter: Option<f64>,
    pub level: Option<f64>,
    pub pore_size: Option<f64>,
    pub d_over_h: Option<f64>,
    pub voxelize_seconds: f64,
    pub warnings: Vec<String>,
}

/// A scene's specimen, built once per run: the lattice, the envelope and
/// its voxel mask, the voxelized implant and its report. Later steps (the
/// implant-compression load case) take the envelope from here rather than
/// building it again.
#[derive(Debug)]
pub struct Specimen {
    pub lattice: Lattice,
    pub envelope: Envelope,
    /// The envelope sampled at voxel centres; `None` for a box, which fills
    /// the grid.
    pub envelope_mask: Option<VoxelGrid>,
    pub vox: Voxelization,
    pub report: VoxelReport,
}

/// Builds the lattice and envelope of a scene and voxelizes the specimen.
pub fn voxelize_specimen(scene: &Scene) -> Result<Specimen, VoxelizeError> {
    let lattice = scene.lattice()?;
    let h = scene.voxel.size;
    let implant = Implant {
        lattice: &lattice,
        envelope: scene.envelope()?,
        features: scene.features(),
    };
    let vox = voxelize(scene.dims(), h, |p| implant.contains(p))?;
    let envelope = implant.envelope;
    let envelope_mask = match &envelope {
        Envelope::Box { .. } => None,
        envelope => Some(crate::voxelize::sample(scene.dims(), h, |p| {
            envelope.contains(p)
        })),
    };
    let envelope_voxels = envelope_mask
        .as_ref()
        .map_or(vox.counts.total, VoxelGrid::solid_count);
    let mut report = voxel_report(scene, &lattice, &vox, envelope_voxels);
    if let Envelope::Mesh {
        degenerate,
        warnings,
        ..
    } = &envelope
    {
        report.warnings.extend(warnings.iter().cloned());
        report.stl_degenerate_triangles = Some(*degenerate);
        if *degenerate > 0 {
            report.warnings.push(format!(
                "{degenerate} degenerate (zero-area) STL triangles were ignored"
            ));
        }
    }
    Ok(Specimen {
        lattice,
        envelope,
        envelope_mask,
        vox,
        report,
    })
}

/// [`voxelize_specimen`] without the envelope: the lattice, the
/// voxelization and its report.
pub fn voxelize_scene(
    scene: &Scene,
) -> Result<(Lattice, Voxelization, VoxelReport), VoxelizeError> {
    let s = voxelize_specimen(scene)?;
    Ok((s.lattice, s.vox, s.report))
}

fn voxel_report(
    scene: &Scene,
    lattice: &Lattice,
    vox: &Voxelization,
    envelope_voxels: usize,
) -> VoxelReport {
    let h = scene.voxel.size;
    let is_solid = matches!(lattice.kind(), crate::lattice::LatticeKind::Solid);
    let strut = lattice.strut_diameter().filter(|_| !is_solid);
    let d_over_h = strut.map(|d| d / h);
    let mut warnings = Vec::new();
    if let Some(r) = d_over_h {
        // A tolerance so that D/h = 6 computed as 5.999… does not warn.
        if r < MIN_D_OVER_H * (1.0 - 1e-9) {
            warnings.push(format!(
                "D/h = {r:.2} < {MIN_D_OVER_H}: voxel struts cannot resolve the diameter D = {:.4} mm at h = {h} mm; \
                 moduli can jump by tens of percent between neighbouring voxel sizes (use voxel.size ≤ {:.4} mm)",
                strut.unwrap(),
                strut.unwrap() / MIN_D_OVER_H
            ));
        }
    }
    if vox.counts.removed > 0 {
        warnings.push(format!(
            "{} solid voxels not face-connected to the largest component were removed",
            vox.counts.removed
        ));
    }
    VoxelReport {
        name: scene.name.clone(),
        lattice: lattice.kind().name(),
        dims: vox.grid.dims,
        voxel_size: h,
        total_voxels: vox.counts.total,
        solid_voxels: vox.counts.solid,
        removed_voxels: vox.counts.removed,
        envelope_voxels,
        stl_degenerate_triangles: None,
        porosity_measured: 1.0 - vox.counts.solid as f64 / envelope_voxels as f64,
        porosity_nominal: lattice.nominal_porosity(),
        porosity_nominal_closed_form: lattice.nominal_is_closed_form(),
        cell: (!is_solid).then(|| lattice.cell()),
        strut_diameter: strut,
        level: lattice.level(),
        pore_size: lattice.pore_size(),
        d_over_h,
        voxelize_seconds: vox.seconds,
        warnings,
    }
}

impl std::fmt::Display for VoxelReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [nx, ny, nz] = self.dims;
        writeln!(f, "scene            {}", self.name)?;
        writeln!(f, "lattice          {}", self.lattice)?;
        if let Some(m) = self.cell {
            writeln!(f, "cell M           {m} mm")?;
        }
        if let Some(d) = self.strut_diameter {
            writeln!(f, "strut D          {d:.5} mm")?;
        }
        if let Some(t) = self.level {
            writeln!(f, "gyroid level t   {t:.5}")?;
        }
        if let Some(hp) = self.pore_size {
            writeln!(f, "pore size H      {hp:.4} mm")?;
        }
        writeln!(f, "voxel h          {} mm", self.voxel_size)?;
        if let Some(r) = self.d_over_h {
            writeln!(f, "D/h              {r:.2}")?;
        }
        writeln!(
            f,
            "grid             {nx} × {ny} × {nz} = {} voxels",
            self.total_voxels
        )?;
        writeln!(f, "solid voxels     {}", self.solid_voxels)?;
        writeln!(f, "removed voxels   {}", self.removed_voxels)?;
        writeln!(
            f,
            "porosity         {:.4} measured, {:.4} nominal ({})",
            self.porosity_measured,
            self.porosity_nominal,
            if self.porosity_nominal_closed_form {
                "design formula"
            } else {
                "computed from the cell geometry"
            }
        )?;
        write!(f, "voxelize time    {:.3} s", self.voxelize_seconds)
    }
}
