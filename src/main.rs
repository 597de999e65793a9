//! The `voxfe` command line: the clap definitions, what each command prints,
//! and one mapping of errors to exit statuses ([`exit_status`]: 0 success,
//! 2 bad input, 3 not converged, 1 anything else). The work is the
//! library's.

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use voxfe::design::RunDesignError;
use voxfe::fields::{FieldError, FieldOutput};
use voxfe::implant::stl::ExportError;
use voxfe::pipeline::voxelize::{voxelize_scene, VoxelizeError};
use voxfe::pipeline::{run_scene, RunError};
use voxfe::provenance::Provenance;
use voxfe::scene::{Backend, Scene, SceneError};
use voxfe::sweep::SweepError;
use voxfe::vtk::VtkError;

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
    /// the scene's lattice kind and cell size (compression scenes).
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
            cmd_run(&scenes, backend, adapter, json, &fields, &set)
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
                voxfe::sweep::Reuse::Force
            } else if restart {
                voxfe::sweep::Reuse::Restart
            } else {
                voxfe::sweep::Reuse::Resume
            };
            cmd_sweep(&scene, &vary, &out, shard.as_deref(), backend, &set, reuse)
        }
        Command::Merge { dirs, out } => cmd_merge(&dirs, &out),
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
            let opts = voxfe::design::DesignOptions {
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
        } => cmd_converge(&scene, &study, &quantity, backend, json, &set),
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
    #[error(transparent)]
    Field(#[from] FieldError),
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
    Converge(#[from] voxfe::converge::ConvergeError),
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
        CliError::Field(e) => e.is_bad_input(),
        CliError::Export(e) => !matches!(e, ExportError::Write { .. }),
        CliError::SweepInput(_) => true,
        CliError::SweepOutput(e) => e.is_bad_input(),
        CliError::Design(e) if !e.is_bad_input() => return EXIT_NOT_CONVERGED,
        CliError::Design(_) => true,
        CliError::Converge(e) => e.is_bad_input(),
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

fn cmd_voxelize(
    path: &Path,
    json: bool,
    vti: Option<&Path>,
    image: Option<&Path>,
    vtu: Option<&Path>,
    set: &[String],
) -> Result<ExitCode, CliError> {
    let scene = Scene::load(path, set)?;
    if let Some(file) = vtu {
        voxfe::fields::check_writable("--vtu", file)?;
    }
    let provenance = Provenance::of_scene(path, &scene, set);
    let (_, vox, report) = voxelize_scene(&scene)?;
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(file) = vti {
        voxfe::vtk::write_solid_mask(&vox.grid, Some(&provenance), file)?;
    }
    if let Some(file) = vtu {
        voxfe::export::vtu::write_mesh(&vox.grid, Some(&provenance), file)
            .map_err(FieldError::from)?;
    }
    if let Some(file) = image {
        let what = format!(
            "voxfe {} voxelize: scene '{}', grey = 255*phi",
            env!("CARGO_PKG_VERSION"),
            scene.name
        );
        voxfe::image::write(&vox.grid, file, &what)?;
    }
    if json {
        let Ok(serde_json::Value::Object(mut m)) = serde_json::to_value(&report) else {
            unreachable!("a struct serializes to an object")
        };
        m.insert("provenance".into(), provenance.to_json());
        println!("{}", serde_json::Value::Object(m));
    } else {
        println!("{report}");
        for file in [vti, image, vtu].into_iter().flatten() {
            println!("wrote            {}", file.display());
        }
    }
    Ok(ExitCode::SUCCESS)
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
fn cmd_run(
    paths: &[PathBuf],
    backend: Option<Backend>,
    adapter: Option<String>,
    json: bool,
    fields: &FieldOutput,
    set: &[String],
) -> Result<ExitCode, CliError> {
    fields.check_scene_count(paths.len())?;
    if paths.len() == 1 {
        return run_one(&paths[0], backend, adapter, json, fields, set, false).map(ExitCode::from);
    }
    let mut worst = 0u8;
    for path in paths {
        let code = match run_one(path, backend, adapter.clone(), json, fields, set, true) {
            Ok(code) => code,
            Err(e) => {
                let code = exit_status(&e);
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
    Ok(ExitCode::from(worst))
}

/// Runs one scene of `voxfe run`: prints its result, then writes its field
/// files (a field file that cannot be written is an error after the result,
/// which is already on stdout). Returns the exit status.
fn run_one(
    path: &Path,
    backend: Option<Backend>,
    adapter: Option<String>,
    json: bool,
    fields: &FieldOutput,
    set: &[String],
    several: bool,
) -> Result<u8, CliError> {
    let mut scene = Scene::load(path, set)?;
    if let Some(a) = adapter {
        scene.solver.adapter = Some(a);
    }
    fields.check(&scene)?;
    let backend = backend.unwrap_or(scene.solver.backend);
    let provenance = Provenance::of_scene(path, &scene, set);
    let report = run_scene(&scene, backend).map_err(|source| CliError::Run {
        path: path.to_path_buf(),
        source,
    })?;
    let provenance = provenance.with_backend(&report.solve.backend, &report.solve.adapter);
    for w in report.voxel.warnings.iter().chain(&report.notices) {
        eprintln!("warning: {w}");
    }
    if json {
        let mut m = report.to_json();
        m.insert("provenance".into(), provenance.to_json());
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
        provenance: Some(provenance),
        ..fields.clone()
    };
    fields.write(&report, |file| {
        info(format_args!("wrote {}", file.display()))
    })?;
    Ok(code)
}

/// Checks the sweep and its `--out` before the first solve, then runs the
/// cases not already done there, appending each row as it finishes;
/// `sweep.json`, the results, plots and `summary.md` are rewritten at the
/// end from all rows.
fn cmd_sweep(
    path: &Path,
    vary: &[String],
    out: &Path,
    shard: Option<&str>,
    backend: Option<Backend>,
    set: &[String],
    reuse: voxfe::sweep::Reuse,
) -> Result<ExitCode, CliError> {
    let plan = voxfe::sweep::plan(path, vary, set, shard, backend).map_err(CliError::SweepInput)?;
    let (prepared, mut writer) =
        voxfe::sweep::prepare_out(out, &plan.manifest, reuse).map_err(CliError::SweepInput)?;
    for note in &prepared.notes {
        eprintln!("note: {note}");
    }
    let done: Vec<usize> = prepared.done.iter().map(|r| r.case).collect();
    if !done.is_empty() {
        eprintln!(
            "resuming: {} of {} cases already in {} are skipped (--restart runs them again)",
            done.len(),
            plan.cases.len(),
            out.join("results.jsonl").display()
        );
    }
    let on_case = |case: &voxfe::sweep::Case,
                   total: usize,
                   outcome: &voxfe::sweep::CaseOutcome|
     -> Result<(), SweepError> {
        let row = &outcome.row;
        let name = format!(
            "case {}/{} [{}]",
            case.index + 1,
            total,
            case.set_args().join(" ")
        );
        for w in &outcome.warnings {
            eprintln!("warning: {name}: {w}");
        }
        match &row.error {
            // A failed case is an error of its own: printed even under -q.
            Some(e) => eprintln!("error: {name}: {e}"),
            None => info(format_args!("{name}: ok")),
        }
        writer.append(row)
    };
    let new = plan.run(&done, on_case).map_err(CliError::SweepOutput)?;
    let mut rows = prepared.done;
    rows.extend(new);
    rows.sort_by_key(|r| r.case);
    voxfe::sweep::write_outputs(out, &plan.manifest, &rows).map_err(CliError::SweepOutput)?;
    let failed = rows.iter().filter(|r| !r.is_ok()).count();
    let earlier = if done.is_empty() {
        String::new()
    } else {
        format!(" ({} from an earlier run)", done.len())
    };
    println!(
        "{} cases run{earlier}, {failed} failed; results in {}",
        rows.len(),
        out.display()
    );
    Ok(if failed > 0 {
        ExitCode::from(EXIT_NOT_CONVERGED)
    } else {
        ExitCode::SUCCESS
    })
}

fn cmd_design(
    path: &Path,
    opts: &voxfe::design::DesignOptions,
    backend: Option<Backend>,
    json: bool,
    set: &[String],
    study: Option<(usize, f64)>,
) -> Result<ExitCode, CliError> {
    if let Some((levels, ratio)) = study {
        voxfe::design::check_study(path, set, levels, ratio)?;
    }
    let on_solve = |n: usize, phi: f64, report: &voxfe::report::RunReport, e: f64| {
        info(format_args!(
            "solve {n}: porosity {phi:.5} (D = {:.4} mm) -> E_eff = {e:.1} MPa",
            report.voxel.strut_diameter.unwrap_or(f64::NAN)
        ))
    };
    let (design, report) = voxfe::design::run(path, set, opts, backend, on_solve)?;
    let solves = design.probes.len();
    let mut m = report.to_json();
    m.insert("target_modulus".into(), opts.target.into());
    m.insert("solves".into(), solves.into());
    // The design's own scene: the base scene with its porosity found.
    let mut design_set = set.to_vec();
    design_set.push(format!("lattice.porosity={}", design.porosity));
    if let Some(p) = scene_provenance(path, &design_set) {
        let p = p.with_backend(&report.solve.backend, &report.solve.adapter);
        m.insert("provenance".into(), p.to_json());
    }
    if !json {
        let v = &report.voxel;
        println!(
            "target E_eff      {:.1} MPa (within {} %)",
            opts.target,
            100.0 * opts.tolerance
        );
        println!(
            "reached E_eff     {:.1} MPa ({:+.2} %) at h = {} mm",
            design.e_eff,
            100.0 * (design.e_eff / opts.target - 1.0),
            v.voxel_size
        );
        if let Some(d) = v.strut_diameter {
            println!("strut diameter D  {d:.4} mm");
        }
        if let Some(t) = v.level {
            println!("gyroid level      {t:.4}");
        }
        println!(
            "porosity          {:.4} measured, {:.4} nominal",
            v.porosity_measured, v.porosity_nominal
        );
        if let Some(p) = v.pore_size {
            println!("pore size         {p:.4} mm");
        }
        println!("solves            {solves}");
    }
    let Some(study) = study else {
        if json {
            println!("{}", serde_json::Value::Object(m));
        }
        return Ok(ExitCode::SUCCESS);
    };
    let conv = voxfe::design::converged(path, set, design.porosity, study, backend, on_level)?;
    if json {
        let mut c = serde_json::Map::new();
        c.insert("design".into(), m.into());
        print_study(&conv, true, Some(c));
    } else {
        println!("\nconvergence study at the design (E_eff):");
        print_study(&conv, false, None);
    }
    Ok(study_exit(&conv))
}

/// `voxfe converge`: the study, printed; exit status 3 when a level did
/// not converge.
fn cmd_converge(
    path: &Path,
    study: &Study,
    quantities: &[String],
    backend: Option<Backend>,
    json: bool,
    set: &[String],
) -> Result<ExitCode, CliError> {
    let report = voxfe::converge::run(
        path,
        set,
        study.levels,
        study.ratio,
        quantities,
        backend,
        on_level,
    )?;
    let extra = scene_provenance(path, set).map(|p| {
        let mut m = serde_json::Map::new();
        m.insert("provenance".into(), p.to_json());
        m
    });
    print_study(&report, json, extra);
    Ok(study_exit(&report))
}

/// The provenance of the scene at `path` with the overrides `set` (already
/// loaded once by the command, so it loads again).
fn scene_provenance(path: &Path, set: &[String]) -> Option<Provenance> {
    let scene = Scene::load(path, set).ok()?;
    Some(Provenance::of_scene(path, &scene, set))
}

/// Prints a level of a study as it finishes, with its warnings.
fn on_level(i: usize, r: &voxfe::report::RunReport) {
    for w in r.voxel.warnings.iter().chain(&r.notices) {
        eprintln!("warning: level {i}: {w}");
    }
    info(format_args!(
        "level {i}: h = {} mm, {} unknowns, {} iterations, {:.1} s",
        r.voxel.voxel_size, r.solve.unknowns, r.solve.iterations, r.solve.solve_seconds
    ));
}

/// Prints a study as text or as JSON (`extra`: fields added first).
fn print_study(
    report: &voxfe::converge::ConvergeReport,
    json: bool,
    extra: Option<serde_json::Map<String, serde_json::Value>>,
) {
    if json {
        let mut m = extra.unwrap_or_default();
        m.extend(report.to_json());
        println!("{}", serde_json::Value::Object(m));
    } else {
        print!("{report}");
    }
}

/// 0, or 3 (with an error line) when a level of the study did not converge.
fn study_exit(report: &voxfe::converge::ConvergeReport) -> ExitCode {
    if report.converged {
        return ExitCode::SUCCESS;
    }
    let l = report.levels.last().expect("a level was solved");
    eprintln!(
        "error: level {} (h = {} mm) did not converge: relative residual {:.3e} after {} iterations; no estimate",
        report.levels.len(),
        l.voxel_size,
        l.relative_residual,
        l.iterations
    );
    ExitCode::from(EXIT_NOT_CONVERGED)
}

fn cmd_merge(dirs: &[PathBuf], out: &Path) -> Result<ExitCode, CliError> {
    for w in voxfe::sweep::merge_warnings(dirs) {
        eprintln!("warning: {w}");
    }
    let (manifest, rows) = voxfe::sweep::merge(dirs).map_err(CliError::SweepInput)?;
    voxfe::sweep::write_outputs(out, &manifest, &rows).map_err(CliError::SweepOutput)?;
    println!(
        "merged {} cases from {} directories into {}",
        rows.len(),
        dirs.len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn cmd_export_stl(
    path: &Path,
    out: &Path,
    segments: usize,
    set: &[String],
) -> Result<ExitCode, CliError> {
    let scene = Scene::load(path, set)?;
    let triangles =
        voxfe::implant::stl::export_cylinder(&scene.cylinder_envelope()?, out, segments)?;
    println!("wrote {triangles} triangles to {}", out.display());
    Ok(ExitCode::SUCCESS)
}
