//! The `voxfe` command line: parses the arguments, runs the command
//! ([`cli`], one module per command) and maps its error to the exit status
//! ([`cli::CliError::exit_status`]: 0 success, 2 bad input, 3 not
//! converged, 1 anything else). The work is the library's.

use clap::{CommandFactory, Parser, Subcommand};
use std::process::ExitCode;

mod cli;

#[derive(Parser)]
#[command(
    name = "voxfe",
    version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("VOXFE_VERSION_COMMIT"), ")"),
    about = "Voxel finite-element stiffness of 3D-printed lattice implants"
)]
struct Cli {
    /// No progress bars and no per-case or per-solve lines on stderr
    /// (warnings and errors are still printed). Progress bars are hidden
    /// anyway when stderr is not a terminal.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Neither read nor write the calibration cache (the lattice references
    /// and exponents of `voxel.fraction_exponent = "auto"`): compute them
    /// afresh. The cache is a per-user folder (~/.cache/voxfe on Linux);
    /// VOXFE_CACHE_DIR moves it, VOXFE_NO_CACHE=1 bypasses it too.
    #[arg(long, global = true)]
    no_cache: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Voxelize a scene and print its summary.
    Voxelize(cli::voxelize::Args),
    /// Run the product of scene variations; write results.csv, results.jsonl and summary.md.
    Sweep(cli::sweep::Args),
    /// Write the envelope of a cylinder scene as a binary STL mesh.
    ExportStl(cli::export_stl::Args),
    /// Find the strut diameter whose E_eff hits a target modulus (MPa), for
    /// the scene's lattice kind and cell size (compression scenes; on a
    /// periodic scene the target is E_h = 1/S33 of C^H).
    Design(cli::design::Args),
    /// Solve a scene at h, h/r, h/r², … and report the observed order, the
    /// Richardson-extrapolated value and the error of the finest solve.
    Converge(cli::converge::Args),
    /// The homogenized 6×6 stiffness C^H of a periodic lattice cell (six
    /// solves with periodic boundary conditions; load.case = "periodic").
    Homogenize(cli::homogenize::Args),
    /// Show what voxel.fraction_exponent = "auto" does for the scene: the
    /// lattice's reference (shipped, cached or computed), the search at h,
    /// the calibrated p, its error band, and the --set line that pins p.
    Calibrate(cli::calibrate::Args),
    /// Fit a knockdown of the simulated to the measured modulus (and yield)
    /// of tested specimens (--tests FILE.csv): the as-built calibration.
    Fit(cli::fit::Args),
    /// Combine the output directories of sharded sweeps.
    Merge(cli::merge::Args),
    /// Voxelize and solve one or more scenes, and print the modulus.
    Run(cli::run::Args),
    /// Elastoplastic (J2) curve of a scene on the CPU or a GPU:
    /// stress–strain curve, offset yield strength σ_0.2 and first maximum.
    Plastic(cli::plastic::Args),
    /// The reference modulus of a lattice's periodic cell at each porosity
    /// (what benches/references.sh tabulates).
    #[command(hide = true)]
    References(cli::references::Args),
    /// Print the shell completion script for SHELL, e.g. `voxfe completions
    /// bash > ~/.local/share/bash-completion/completions/voxfe`.
    Completions(cli::completions::Args),
    /// Print the man page (roff), e.g. `voxfe man > voxfe.1`.
    Man,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    voxfe::progress::set_quiet(cli.quiet);
    if cli.no_cache {
        voxfe::calibration::use_cache(voxfe::calibration::cache::Cache::bypassed());
    }
    let outcome = match cli.command {
        Command::Voxelize(a) => cli::voxelize::run(a),
        Command::Run(a) => cli::run::run(a),
        Command::Plastic(a) => cli::plastic::run(a),
        Command::Sweep(a) => cli::sweep::run(a),
        Command::Merge(a) => cli::merge::run(a),
        Command::Homogenize(a) => cli::homogenize::run(a),
        Command::Calibrate(a) => cli::calibrate::run(a),
        Command::Design(a) => cli::design::run(a),
        Command::Converge(a) => cli::converge::run(a),
        Command::Fit(a) => cli::fit::run(a),
        Command::ExportStl(a) => cli::export_stl::run(a),
        Command::References(a) => cli::references::run(a),
        Command::Completions(a) => cli::completions::run(a, Cli::command()),
        Command::Man => cli::completions::man(Cli::command()),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let code = e.exit_status();
            let message = format!("{:#}", anyhow::Error::new(e));
            eprintln!("error: {}", cli::with_flags(&message, &Cli::command()));
            ExitCode::from(code)
        }
    }
}
