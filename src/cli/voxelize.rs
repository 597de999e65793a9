//! `voxfe voxelize`: a scene voxelized, its summary printed (text or one
//! JSON object with the provenance), and the grid written as files.

use std::path::PathBuf;

use super::{load_scene, CliError};
use voxfe::fields::FieldError;
use voxfe::pipeline::voxelize::voxelize_scene;
use voxfe::provenance::Provenance;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Scene file (TOML).
    scene: PathBuf,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Write the solid mask as VTK ImageData (.vti) for ParaView.
    #[arg(long, value_name = "FILE")]
    vti: Option<PathBuf>,
    /// Write the voxel grid as a uint8 grey image (255·φ; 0/255 for
    /// binary fill) with its voxel size: .nrrd (gzip NRRD) or .tif
    /// (multi-page TIFF), readable as specimen.shape = "image".
    #[arg(long, value_name = "FILE")]
    image: Option<PathBuf>,
    /// Write the solid voxels as a hexahedral mesh (VTK UnstructuredGrid,
    /// .vtu) for meshio, ParaView and FE pre-processors.
    #[arg(long, value_name = "FILE")]
    vtu: Option<PathBuf>,
    #[command(flatten)]
    overrides: super::Overrides,
}

pub(crate) fn run(a: Args) -> Result<u8, CliError> {
    let scene = load_scene(&a.scene, &a.overrides, None)?;
    super::outputs::Outputs::default()
        .file("--vti", a.vti.as_deref(), &[])
        .file("--image", a.image.as_deref(), &["nrrd", "tif", "tiff"])
        .file("--vtu", a.vtu.as_deref(), &[])
        .check(&super::outputs::scene_inputs(&scene))?;
    let provenance = Provenance::of_scene(&scene);
    let (_, vox, report) = voxelize_scene(&scene)?;
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(file) = &a.vti {
        voxfe::vtk::write_solid_mask(&vox.grid, Some(&provenance), file)?;
    }
    if let Some(file) = &a.vtu {
        voxfe::export::vtu::write_mesh(&vox.grid, Some(&provenance), file)
            .map_err(FieldError::from)?;
    }
    if let Some(file) = &a.image {
        voxfe::image::write(&vox.grid, file, &voxfe::image::written_by(&scene.name))?;
    }
    if a.json {
        println!("{}", provenance.add_to(&report));
    } else {
        println!("{report}");
    }
    for file in [&a.vti, &a.image, &a.vtu].into_iter().flatten() {
        super::info(format_args!("wrote {}", file.display()));
    }
    Ok(0)
}
