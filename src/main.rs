//! The `voxfe` command line: the clap definitions, `main`, and one mapping
//! of errors to exit statuses ([`exit_status`]: 0 success, 2 bad input,
//! 3 not converged, 1 anything else); what each command runs and prints is
//! in [`cli`]. The work is the library's.

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use voxfe::fields::{FieldError, FieldOutput};
use voxfe::implant::stl::ExportError;
use voxfe::pipeline::voxelize::{voxelize_scene, VoxelizeError};
use voxfe::pipeline::{run_scene, RunError};
use voxfe::provenance::Provenance;
use voxfe::scene::{Backend, Scene, SceneError};
use voxfe::study::calibrate::CalibrateOptions;
use voxfe::study::design::RunDesignError;
use voxfe::study::sweep::SweepError;
use voxfe::vtk::VtkError;

mod cli;
use cli::{
    cmd_calibrate, cmd_converge, cmd_design, cmd_export_stl, cmd_homogenize, cmd_merge, cmd_run,
    cmd_sweep, cmd_voxelize,
};

/// Exit status for a failure that is not the input's (a file that cannot be
/// written, a GPU that fails).
const EXIT_FAILURE: u8 = 1;
/// Exit status for bad input (scene, values, files).
const EXIT_BAD_INPUT: u8 = 2;
/// Exit status when a solve did not converge.
const EXIT_NOT_CONVERGED: u8 = 3;

#[derive(Parser)]
#[command(
    name = "voxfe",
    version,
    about = "Voxel finite-element stiffness of 3D-printed lattice implants"
)]
struct Cli {
    /// No progress bars and no per-case or per-solve lines on stderr
    /// (warnings and errors are still printed). Progress bars are hidden
    /// anyway when stderr is not a terminal.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Voxelize a scene and print its summary.
    Voxelize {
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
        /// Override a scene key, e.g. --set lattice.porosity=0.85 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Run the product of scene variations; write results.csv, results.jsonl and summary.md.
    Sweep {
        /// Base scene file (TOML).
        scene: PathBuf,
        /// KEY=a,b,c or KEY=start:stop:count (repeatable; the first varies slowest).
        /// (default: the scene's `[sweep] vary` list)
        #[arg(long, value_name = "KEY=VALUES")]
        vary: Vec<String>,
        /// Output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Run only every N-th case, starting at I (I/N, I from 0).
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Solver backend (overrides solver.backend).
        #[arg(long, value_enum)]
        backend: Option<Backend>,
        /// Override a base-scene key (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Run every case again, when --out holds this sweep (default:
        /// resume, skipping the cases already in results.jsonl).
        #[arg(long)]
        restart: bool,
        /// Write into an --out that holds a different sweep or other files:
        /// voxfe's own outputs there are removed first.
        #[arg(long)]
        force: bool,
    },
    /// Write the envelope of a cylinder scene as a binary STL mesh.
    ExportStl {
        /// Scene file (TOML) with specimen.shape = "cylinder".
        scene: PathBuf,
        /// STL file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Facets around the circumference.
        #[arg(long, default_value_t = 720)]
        segments: usize,
        /// Override a scene key (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Find the strut diameter whose E_eff hits a target modulus (MPa), for
    /// the scene's lattice kind and cell size (compression scenes; on a
    /// periodic scene the target is E_h = 1/S33 of C^H).
    Design {
        scene: PathBuf,
        /// Target effective modulus E_eff, MPa (e.g. 3500 for cancellous bone).
        #[arg(long, value_name = "MPA")]
        target_modulus: f64,
        /// Relative tolerance on E_eff.
        #[arg(long, default_value_t = 0.01)]
        tolerance: f64,
        /// Nominal porosities searched, densest first.
        #[arg(long, value_name = "MIN:MAX", default_value = "0.30:0.95", value_parser = parse_range)]
        porosity_range: (f64, f64),
        /// At most this many solves (at least 1).
        #[arg(long, default_value_t = 24)]
        max_solves: usize,
        /// Solver backend (overrides solver.backend).
        #[arg(long, value_enum)]
        backend: Option<Backend>,
        /// Print the final design as one JSON object (`voxfe run --json` fields plus `solves`).
        #[arg(long)]
        json: bool,
        /// Override a scene key (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Also run `voxfe converge` at the design found and report its
        /// modulus with the error estimate (--levels, --ratio).
        #[arg(long)]
        converged: bool,
        #[command(flatten)]
        study: Study,
    },
    /// Solve a scene at h, h/r, h/r², … and report the observed order, the
    /// Richardson-extrapolated value and the error of the finest solve.
    Converge {
        /// Scene file (TOML).
        scene: PathBuf,
        #[command(flatten)]
        study: Study,
        /// A field of `voxfe run --json` to converge (repeatable; default:
        /// e_eff, e_flex, or stiffness and apparent_modulus, by load case).
        #[arg(long, value_name = "NAME")]
        quantity: Vec<String>,
        /// Solver backend (overrides solver.backend).
        #[arg(long, value_enum)]
        backend: Option<Backend>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Override a scene key (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// Draw the modulus against h as STEM.png and STEM.svg, with the
        /// Richardson value and its error band where the sequence is
        /// asymptotic.
        #[arg(long, value_name = "STEM")]
        plot: Option<PathBuf>,
        /// Run the study twice on the same voxel sizes, voxel.fill =
        /// "binary" then "fraction", and report (and plot) both.
        #[arg(long)]
        compare_fill: bool,
    },
    /// The homogenized 6×6 stiffness C^H of a periodic lattice cell (six
    /// solves with periodic boundary conditions; load.case = "periodic").
    Homogenize {
        /// Scene file (TOML); its lattice, material, voxel and solver keys
        /// are used, its specimen becomes N×N×N whole cells.
        scene: PathBuf,
        /// Cells per axis (default: the scene's size when its load.case is
        /// "periodic", else 1).
        #[arg(long, value_name = "N")]
        cells: Option<usize>,
        /// Write the directional Young's modulus E(d) in the xy, yz and zx
        /// planes as STEM.png and STEM.svg.
        #[arg(long, value_name = "STEM")]
        plot: Option<PathBuf>,
        /// Solver backend (overrides solver.backend).
        #[arg(long, value_enum)]
        backend: Option<Backend>,
        /// Substring of the GPU adapter name (overrides solver.adapter).
        #[arg(long, value_name = "NAME")]
        adapter: Option<String>,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Override a scene key (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// The fraction exponent p (voxel.fraction_exponent) of the scene's
    /// lattice at its voxel size, from periodic cells: the p at which one
    /// cell at h gives the cell's converged E_h (Richardson on φ² cells at
    /// 1.5, 2 and 3 times M/h voxels per cell).
    Calibrate {
        /// Scene file (TOML); its lattice, material, voxel size and solver
        /// keys are used (its specimen is not).
        scene: PathBuf,
        /// Solver backend (overrides solver.backend).
        #[arg(long, value_enum)]
        backend: Option<Backend>,
        /// Relative distance from the reference at which the search stops.
        #[arg(long, default_value_t = CalibrateOptions::default().tolerance)]
        tolerance: f64,
        /// Most cells at h solved by the search.
        #[arg(long, default_value_t = CalibrateOptions::default().max_trials)]
        max_trials: usize,
        /// Print one JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Override a scene key (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
    /// Combine the output directories of sharded sweeps.
    Merge {
        /// Shard output directories.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output directory.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Voxelize and solve one or more scenes, and print the modulus.
    Run {
        /// Scene files (TOML).
        #[arg(required = true)]
        scenes: Vec<PathBuf>,
        /// Solver backend (overrides solver.backend).
        #[arg(long, value_enum)]
        backend: Option<Backend>,
        /// Substring of the GPU adapter name (overrides solver.adapter).
        #[arg(long, value_name = "NAME")]
        adapter: Option<String>,
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
        /// Override a scene key, e.g. --set lattice.porosity=0.85 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// A study of the same scene (`voxfe converge --json` output):
        /// report the estimated discretization error of the modulus at
        /// this voxel size instead of the D/h warning.
        #[arg(long, value_name = "FILE")]
        error_from: Option<PathBuf>,
    },
}

/// `--slice-field`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SliceFieldArg {
    VonMises,
    Ees,
}

/// The levels of a convergence study (`converge`, `design --converged`).
#[derive(clap::Args)]
struct Study {
    /// Number of grids (at least 3), the scene's voxel.size the coarsest.
    #[arg(long, default_value_t = 3)]
    levels: usize,
    /// Refinement ratio r between levels (above 1); each h is the one
    /// nearest to h/rⁱ that divides the specimen.
    #[arg(long, default_value_t = 1.5)]
    ratio: f64,
}

/// `--slice-axis`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum SliceAxis {
    X,
    Y,
    Z,
}

/// `--porosity-range MIN:MAX`.
fn parse_range(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s
        .split_once(':')
        .ok_or_else(|| format!("'{s}': expected MIN:MAX, e.g. 0.30:0.95"))?;
    let num = |v: &str| {
        v.trim()
            .parse::<f64>()
            .map_err(|_| format!("'{v}' is not a number"))
    };
    Ok((num(a)?, num(b)?))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    voxfe::progress::set_quiet(cli.quiet);
    let outcome = match cli.command {
        Command::Voxelize {
            scene,
            json,
            vti,
            image,
            vtu,
            set,
        } => cmd_voxelize(
            &scene,
            json,
            vti.as_deref(),
            image.as_deref(),
            vtu.as_deref(),
            &set,
        ),
        Command::Run {
            scenes,
            backend,
            adapter,
            json,
            vtk,
            slice,
            slice_axis,
            slice_at,
            slice_field,
            vtu,
            inp,
            set,
            error_from,
        } => {
            let fields = FieldOutput {
                field: match slice_field {
                    SliceFieldArg::VonMises => voxfe::fields::SliceField::VonMises,
                    SliceFieldArg::Ees => voxfe::fields::SliceField::Ees,
                },
                vtk,
                slice,
                vtu,
                inp,
                provenance: None,
                axis: match slice_axis {
                    SliceAxis::X => voxfe::plot::Axis::X,
                    SliceAxis::Y => voxfe::plot::Axis::Y,
                    SliceAxis::Z => voxfe::plot::Axis::Z,
                },
                at: slice_at,
            };
            cmd_run(
                &scenes,
                backend,
                adapter,
                json,
                &fields,
                &set,
                error_from.as_deref(),
            )
        }
        Command::Sweep {
            scene,
            vary,
            out,
            shard,
            backend,
            set,
            restart,
            force,
        } => {
            let reuse = if force {
                voxfe::study::sweep::Reuse::Force
            } else if restart {
                voxfe::study::sweep::Reuse::Restart
            } else {
                voxfe::study::sweep::Reuse::Resume
            };
            cmd_sweep(&scene, &vary, &out, shard.as_deref(), backend, &set, reuse)
        }
        Command::Merge { dirs, out } => cmd_merge(&dirs, &out),
        Command::Homogenize {
            scene,
            cells,
            plot,
            backend,
            adapter,
            json,
            set,
        } => cmd_homogenize(&scene, cells, plot.as_deref(), backend, adapter, json, &set),
        Command::Calibrate {
            scene,
            backend,
            tolerance,
            max_trials,
            json,
            set,
        } => {
            let opts = CalibrateOptions {
                tolerance,
                max_trials,
                ..Default::default()
            };
            cmd_calibrate(&scene, backend, &opts, json, &set)
        }
        Command::Design {
            scene,
            target_modulus,
            tolerance,
            porosity_range,
            max_solves,
            backend,
            json,
            set,
            converged,
            study,
        } => {
            let opts = voxfe::study::design::DesignOptions {
                target: target_modulus,
                tolerance,
                porosity_range,
                max_solves,
            };
            let study = converged.then_some((study.levels, study.ratio));
            cmd_design(&scene, &opts, backend, json, &set, study)
        }
        Command::Converge {
            scene,
            study,
            quantity,
            backend,
            json,
            set,
            plot,
            compare_fill,
        } => cmd_converge(
            &scene,
            &study,
            &quantity,
            backend,
            json,
            &set,
            plot.as_deref(),
            compare_fill,
        ),
        Command::ExportStl {
            scene,
            out,
            segments,
            set,
        } => cmd_export_stl(&scene, &out, segments, &set),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            let code = exit_status(&e);
            eprintln!("error: {:#}", anyhow::Error::new(e));
            ExitCode::from(code)
        }
    }
}

/// Every error a command ends with.
#[derive(Debug, thiserror::Error)]
enum CliError {
    #[error(transparent)]
    Scene(#[from] SceneError),
    #[error(transparent)]
    Voxelize(#[from] VoxelizeError),
    #[error(transparent)]
    Vtk(#[from] VtkError),
    #[error(transparent)]
    Image(#[from] voxfe::image::ImageError),
    /// A scene that failed to run, named by its file.
    #[error("scene '{}'", path.display())]
    Run {
        path: PathBuf,
        #[source]
        source: RunError,
    },
    /// A periodic scene that failed to homogenize, named by its file.
    #[error("scene '{}'", path.display())]
    Homogenize {
        path: PathBuf,
        #[source]
        source: voxfe::homogenize::run::HomogenizeRunError,
    },
    /// A calibration that failed, named by its scene file.
    #[error("scene '{}'", path.display())]
    Calibrate {
        path: PathBuf,
        #[source]
        source: voxfe::study::calibrate::CalibrateError,
    },
    #[error(transparent)]
    Field(#[from] FieldError),
    /// The directional-modulus picture of `homogenize --plot`.
    #[error("--plot: {0}")]
    Polar(#[from] voxfe::homogenize::polar::PolarError),
    #[error(transparent)]
    Export(#[from] ExportError),
    /// A sweep's scene, `--vary` or `--shard`, or merge's directories.
    #[error(transparent)]
    SweepInput(SweepError),
    /// Writing a sweep's or a merge's outputs.
    #[error(transparent)]
    SweepOutput(SweepError),
    #[error(transparent)]
    Design(#[from] RunDesignError),
    #[error(transparent)]
    Converge(#[from] voxfe::study::converge::ConvergeError),
    #[error(transparent)]
    ErrorFrom(#[from] voxfe::study::converge::error::ErrorFromError),
}

/// The exit status of each error (README): 2 bad input, 3 a design search
/// whose solves failed or did not converge, 1 anything else. (0 success
/// and 3 for a solve that did not converge are outcomes, not errors.)
fn exit_status(e: &CliError) -> u8 {
    let bad_input = match e {
        CliError::Scene(_) | CliError::Voxelize(_) => true,
        CliError::Vtk(_) => false,
        CliError::Image(e) => e.is_bad_input(),
        CliError::Run { source, .. } => source.is_bad_input(),
        CliError::Homogenize { source, .. } => source.is_bad_input(),
        CliError::Calibrate { source, .. } if !source.is_bad_input() => return EXIT_NOT_CONVERGED,
        CliError::Calibrate { .. } => true,
        CliError::Field(e) => e.is_bad_input(),
        CliError::Polar(_) => false,
        CliError::Export(e) => !matches!(e, ExportError::Write { .. }),
        CliError::SweepInput(_) => true,
        CliError::SweepOutput(e) => e.is_bad_input(),
        CliError::Design(e) if !e.is_bad_input() => return EXIT_NOT_CONVERGED,
        CliError::Design(_) => true,
        CliError::Converge(e) => e.is_bad_input(),
        CliError::ErrorFrom(_) => true,
    };
    if bad_input {
        EXIT_BAD_INPUT
    } else {
        EXIT_FAILURE
    }
}

/// An informational line on stderr, unless `--quiet`.
fn info(line: std::fmt::Arguments) {
    if !voxfe::progress::is_quiet() {
        eprintln!("{line}");
    }
}
