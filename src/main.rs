//! The `voxfe` command line.

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use voxfe::report::voxelize_scene;
use voxfe::run::run_scene;
use voxfe::scene::{Backend, Scene};
use voxfe::vtk::{ArrayData, VtiWriter};

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
        /// Override a scene key, e.g. --set lattice.porosity=0.85 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
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
        /// Override a scene key, e.g. --set lattice.porosity=0.85 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Voxelize {
            scene,
            json,
            vti,
            set,
        } => cmd_voxelize(&scene, json, vti.as_deref(), &set),
        Command::Run {
            scenes,
            backend,
            adapter,
            json,
            set,
        } => cmd_run(&scenes, backend, adapter, json, &set),
    };
    match outcome {
        Ok(code) => code,
        Err((code, e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(code)
        }
    }
}

type CmdResult = Result<ExitCode, (u8, anyhow::Error)>;

fn bad_input(e: impl Into<anyhow::Error>) -> (u8, anyhow::Error) {
    (EXIT_BAD_INPUT, e.into())
}

fn cmd_voxelize(path: &Path, json: bool, vti: Option<&Path>, set: &[String]) -> CmdResult {
    let scene = Scene::load(path, set).map_err(bad_input)?;
    let (_, vox, report) = voxelize_scene(&scene).map_err(bad_input)?;
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if let Some(file) = vti {
        VtiWriter::new(vox.grid.dims, vox.grid.h)
            .cell_array("solid", 1, ArrayData::U8(vox.grid.solid.clone()))
            .and_then(|w| w.write(file))
            .map_err(|e| (1, e.into()))?;
    }
    if json {
        println!(
            "{}",
            serde_json::to_string(&report).expect("report serializes")
        );
    } else {
        println!("{report}");
        if let Some(file) = vti {
            println!("wrote            {}", file.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_run(
    paths: &[PathBuf],
    backend: Option<Backend>,
    adapter: Option<String>,
    json: bool,
    set: &[String],
) -> CmdResult {
    let mut worst = ExitCode::SUCCESS;
    for path in paths {
        let mut scene = Scene::load(path, set).map_err(bad_input)?;
        if let Some(a) = &adapter {
            scene.solver.adapter = Some(a.clone());
        }
        let backend = backend.unwrap_or(scene.solver.backend);
        let report = run_scene(&scene, backend).map_err(|e| {
            let code = if e.is_bad_input() { EXIT_BAD_INPUT } else { 1 };
            (
                code,
                anyhow::Error::new(e).context(format!("scene '{}'", path.display())),
            )
        })?;
        for w in report.voxel.warnings.iter().chain(&report.notices) {
            eprintln!("warning: {w}");
        }
        if json {
            println!("{}", serde_json::Value::Object(report.to_json()));
        } else {
            if paths.len() > 1 {
                println!();
            }
            println!("{report}");
        }
        if !report.solve.converged {
            eprintln!(
                "error: scene '{}' did not converge: relative residual {:.3e} after {} iterations (tolerance {:.1e})",
                path.display(),
                report.solve.relative_residual,
                report.solve.iterations,
                report.solve.tolerance
            );
            worst = ExitCode::from(EXIT_NOT_CONVERGED);
        }
    }
    Ok(worst)
}
