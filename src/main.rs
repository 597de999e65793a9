//! The `voxfe` command line.

use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use voxfe::report::voxelize_scene;
use voxfe::scene::Scene;
use voxfe::vtk::{ArrayData, VtiWriter};

/// Exit status for bad input (scene, values, files).
const EXIT_BAD_INPUT: u8 = 2;

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
