//! `voxfe plastic`: one scene's elastoplastic (J2) curve, on the CPU or a
//! GPU (`--backend`, the scene's `solver.backend`): the
//! stress–strain curve (text, `--json`, `--csv`, `--plot`), σ_0.2, the
//! first maximum, the plastic-strain field (`--vtk`, `--vtu`) and the model as an
//! Abaqus deck (`--inp`), each output
//! path checked before the curve is computed. An increment that does not
//! converge after its cut-backs ends the curve: what was computed is printed and written, and the exit
//! status is 3.

use std::path::PathBuf;

use super::{info, load_scene, CliError, EXIT_BAD_INPUT, EXIT_FAILURE, EXIT_NOT_CONVERGED};
use voxfe::plastic::run::run as run_plastic;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Scene file (TOML); its [plastic] table sets the final strain
    /// (default 0.02), the increments (default 20; past σ_0.2 steps grow
    /// up to `growth` = 4 of them) and Newton's tolerance (default 1e-4),
    /// [material] the yield strength and the hardening modulus.
    scene: PathBuf,
    /// Print one JSON object (with provenance) instead of text.
    #[arg(long)]
    json: bool,
    /// Write the stress–strain curve as CSV.
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Write the curve with σ_0.2 and the elastic line marked, as FILE.png
    /// and FILE.svg.
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Write the equivalent plastic strain per voxel at the last step as
    /// VTK ImageData (.vti) for ParaView.
    #[arg(long, value_name = "FILE")]
    vtk: Option<PathBuf>,
    /// Write the solid voxels as a VTK UnstructuredGrid (.vtu, for meshio
    /// and ParaView) with the displacement and the equivalent plastic
    /// strain at the last converged step.
    #[arg(long, value_name = "FILE")]
    vtu: Option<PathBuf>,
    /// Write the run's model as an Abaqus input deck (.inp) for CalculiX or
    /// Abaqus: J2 as *PLASTIC, a step of the run's increments to its final
    /// strain, the C3D8 brick (CalculiX's is the plain brick: --set
    /// plastic.mean_dilatation=false solves the same model).
    #[arg(long, value_name = "FILE")]
    inp: Option<PathBuf>,
    #[command(flatten)]
    overrides: super::Overrides,
    #[command(flatten)]
    device: super::Device,
}

pub(crate) fn run(a: Args) -> Result<u8, CliError> {
    let scene = load_scene(&a.scene, &a.overrides, Some(&a.device))?;
    // Every output checked before the curve, which takes long.
    super::outputs::Outputs::default()
        .file("--csv", a.csv.as_deref(), &[])
        .file("--vtk", a.vtk.as_deref(), &[])
        .file("--vtu", a.vtu.as_deref(), &[])
        .stem("--plot", a.plot.as_deref(), &["png", "svg"])
        .file("--inp", a.inp.as_deref(), &[])
        .check(&super::outputs::scene_inputs(&scene))?;
    let report = match run_plastic(&scene) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: scene '{}': {e}", a.scene.display());
            return Ok(if e.is_bad_input() {
                EXIT_BAD_INPUT
            } else {
                EXIT_FAILURE
            });
        }
    };
    for w in report.voxel.warnings.iter().chain(&report.notices) {
        eprintln!("warning: {w}");
    }
    if a.json {
        println!("{}", serde_json::Value::Object(report.to_json()));
    } else {
        println!("{report}");
    }
    let mut code = 0;
    if let Some(why) = &report.failure {
        eprintln!("error: scene '{}': {why}", a.scene.display());
        code = EXIT_NOT_CONVERGED;
    }
    if let Some(csv) = &a.csv {
        if let Err(e) = report.write_csv(csv) {
            eprintln!("error: cannot write '{}': {e}", csv.display());
            return Ok(EXIT_FAILURE);
        }
        info(format_args!("wrote {}", csv.display()));
    }
    if let Some(vti) = &a.vtk {
        if let Err(e) = report.write_vti(vti) {
            eprintln!("error: {e}");
            return Ok(EXIT_FAILURE);
        }
        info(format_args!("wrote {}", vti.display()));
    }
    if let Some(vtu) = &a.vtu {
        if let Err(e) = report.write_vtu(vtu) {
            eprintln!("error: --vtu '{}': {e}", vtu.display());
            return Ok(EXIT_FAILURE);
        }
        info(format_args!("wrote {}", vtu.display()));
    }
    if let Some(inp) = &a.inp {
        if let Err(e) = report.write_inp(inp) {
            eprintln!("error: --inp '{}': {e}", inp.display());
            return Ok(EXIT_FAILURE);
        }
        info(format_args!("wrote {}", inp.display()));
    }
    if let Some(stem) = &a.plot {
        match voxfe::plastic::plot::write(&report, stem) {
            Ok(files) => {
                for f in files {
                    info(format_args!("wrote {}", f.display()));
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(EXIT_FAILURE);
            }
        }
    }
    Ok(code)
}
