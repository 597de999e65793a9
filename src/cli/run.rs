//! `voxfe run`: one scene or several, each loaded once, solved, reported
//! and its field files written; the exit status is the worst of the
//! scenes'.

use std::path::{Path, PathBuf};

use super::{info, load_scene, CliError, EXIT_BAD_INPUT, EXIT_NOT_CONVERGED};
use voxfe::fields::{FieldOutput, SliceField};
use voxfe::pipeline;
use voxfe::study::converge::error::StudyFile;

#[derive(clap::Args)]
pub(crate) struct Args {
    /// Scene files (TOML).
    #[arg(required = true)]
    scenes: Vec<PathBuf>,
    #[command(flatten)]
    device: super::Device,
    /// Print one JSON object per scene instead of text.
    #[arg(long)]
    json: bool,
    /// Write the solid mask, nodal displacement and voxel von Mises
    /// stress as VTK ImageData (.vti) for ParaView (one scene only).
    #[arg(long, value_name = "FILE")]
    vtk: Option<PathBuf>,
    /// Write a PNG of the von Mises stress on a slice (one scene only).
    #[arg(long, value_name = "FILE")]
    slice: Option<PathBuf>,
    /// Axis normal to the slice.
    #[arg(long, value_enum, default_value = "y", requires = "slice")]
    slice_axis: SliceAxis,
    /// Position of the slice along its axis, mm (default: the mid-plane).
    #[arg(long, value_name = "MM", requires = "slice")]
    slice_at: Option<f64>,
    /// What the slice shows: the von Mises stress (MPa) or the
    /// effective strain EES = √(2·SED/E).
    #[arg(long, value_enum, default_value = "von-mises", requires = "slice")]
    slice_field: SliceFieldArg,
    /// Write the solid voxels as a hexahedral mesh (VTK UnstructuredGrid,
    /// .vtu) with nodal displacement and voxel stress, strain and von
    /// Mises stress, for meshio, ParaView and FE codes (one scene only).
    #[arg(long, value_name = "FILE")]
    vtu: Option<PathBuf>,
    /// Write an Abaqus input deck (.inp) of the same mesh with the
    /// material, the load case's boundary conditions and a static step
    /// (one scene only).
    #[arg(long, value_name = "FILE")]
    inp: Option<PathBuf>,
    #[command(flatten)]
    overrides: super::Overrides,
    /// A study of the same scene (`voxfe converge --json` output):
    /// report the estimated discretization error of the modulus at
    /// this voxel size instead of the D/h warning.
    #[arg(long, value_name = "FILE")]
    error_from: Option<PathBuf>,
}

/// `--slice-field`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SliceFieldArg {
    VonMises,
    Ees,
}

/// `--slice-axis`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SliceAxis {
    X,
    Y,
    Z,
}

/// How bad an exit status is, to report the worst of several scenes: a
/// failure (1) over bad input (2) over a solve that did not converge (3)
/// over success (0).
fn severity(code: u8) -> u8 {
    match code {
        0 => 0,
        EXIT_NOT_CONVERGED => 1,
        EXIT_BAD_INPUT => 2,
        _ => 3,
    }
}

/// Runs each scene in turn and reports each; a scene that fails is
/// reported as an error naming its file and the next one still runs. The
/// exit status is the worst of the scenes' ([`severity`]).
pub(crate) fn run(a: Args) -> Result<u8, CliError> {
    let fields = FieldOutput {
        field: match a.slice_field {
            SliceFieldArg::VonMises => SliceField::VonMises,
            SliceFieldArg::Ees => SliceField::Ees,
        },
        vtk: a.vtk.clone(),
        slice: a.slice.clone(),
        vtu: a.vtu.clone(),
        inp: a.inp.clone(),
        provenance: None,
        axis: match a.slice_axis {
            SliceAxis::X => voxfe::plot::Axis::X,
            SliceAxis::Y => voxfe::plot::Axis::Y,
            SliceAxis::Z => voxfe::plot::Axis::Z,
        },
        at: a.slice_at,
    };
    fields.check_scene_count(a.scenes.len())?;
    let several = a.scenes.len() > 1;
    if !several {
        return run_one(&a.scenes[0], &a, &fields, false);
    }
    let mut worst = 0u8;
    for path in &a.scenes {
        let code = match run_one(path, &a, &fields, true) {
            Ok(code) => code,
            Err(e) => {
                let code = e.exit_status();
                let text = format!("{:#}", anyhow::Error::new(e));
                let named = path.display().to_string();
                if text.contains(&named) {
                    eprintln!("error: {text}");
                } else {
                    eprintln!("error: scene '{named}': {text}");
                }
                code
            }
        };
        if severity(code) > severity(worst) {
            worst = code;
        }
    }
    Ok(worst)
}

/// Runs one scene of `voxfe run`: prints its result (with its error band,
/// or the discretization error from `--error-from`'s study in its place,
/// the study checked to be of this scene before the solve; JSON also
/// `discretization_error`), then writes its field files (a field
/// file that cannot be written is an error after the result, which is
/// already on stdout). Returns the exit status.
fn run_one(path: &Path, a: &Args, fields: &FieldOutput, several: bool) -> Result<u8, CliError> {
    let scene = load_scene(path, &a.overrides, Some(&a.device))?;
    if scene.load_case().is_periodic() {
        fields.check_periodic()?;
        if let Some(f) = &a.error_from {
            // Refused (a periodic scene has no study), not ignored.
            StudyFile::load(f, &scene)?;
        }
        return super::homogenize::homogenize_one(&scene, a.json, several, None);
    }
    let mut inputs = super::outputs::scene_inputs(&scene);
    inputs.extend(a.error_from.clone());
    super::outputs::Outputs::default()
        .file("--vtk", a.vtk.as_deref(), &[])
        .file("--slice", a.slice.as_deref(), &["png"])
        .file("--vtu", a.vtu.as_deref(), &[])
        .file("--inp", a.inp.as_deref(), &[])
        .check(&inputs)?;
    fields.check(&scene)?;
    let study = match &a.error_from {
        Some(f) => Some(StudyFile::load(f, &scene)?),
        None => None,
    };
    let mut report = pipeline::run(&scene).map_err(|source| CliError::Run {
        path: path.to_path_buf(),
        source,
    })?;
    let discretization = match &study {
        Some(s) => Some(s.apply(&scene, &mut report)?),
        None => None,
    };
    if let Some(d) = discretization.as_ref().filter(|d| d.relative.is_none()) {
        eprintln!("warning: {}", d.statement);
    }
    for w in report.voxel.warnings.iter().chain(&report.notices) {
        eprintln!("warning: {w}");
    }
    if a.json {
        let mut m = report.to_json();
        if let Some(d) = &discretization {
            // Before the provenance, which stays last.
            let at = m.len() - 1;
            m.shift_insert(
                at,
                "discretization_error".into(),
                serde_json::to_value(d).expect("serializes"),
            );
        }
        println!("{}", serde_json::Value::Object(m));
    } else {
        if several {
            println!();
        }
        println!("{report}");
    }
    let mut code = 0;
    if !report.solve.converged {
        eprintln!(
            "error: scene '{}' did not converge: relative residual {:.3e} after {} iterations (tolerance {:.1e})",
            path.display(),
            report.solve.relative_residual,
            report.solve.iterations,
            report.solve.tolerance
        );
        code = EXIT_NOT_CONVERGED;
    }
    // Whatever goes wrong writing the fields, the result is out already.
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    let fields = FieldOutput {
        provenance: Some(report.provenance.clone()),
        ..fields.clone()
    };
    fields.write(&report, |file| {
        info(format_args!("wrote {}", file.display()))
    })?;
    Ok(code)
}
