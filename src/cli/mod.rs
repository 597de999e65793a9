//! The commands of the `voxfe` binary, one module per command: its
//! arguments (one `clap::Args` struct) and its `run`, which loads the scene
//! once, hands it to the library and prints what comes back. The errors
//! ([`CliError`]) and their exit statuses are here; `main.rs` parses and
//! maps.

use std::path::{Path, PathBuf};

use voxfe::fields::FieldError;
use voxfe::implant::stl::ExportError;
use voxfe::pipeline::voxelize::VoxelizeError;
use voxfe::pipeline::RunError;
use voxfe::scene::{Backend, Scene, SceneError};
use voxfe::study::design::RunDesignError;
use voxfe::study::sweep::SweepError;
use voxfe::vtk::VtkError;

pub(crate) mod calibrate;
pub(crate) mod completions;
pub(crate) mod converge;
pub(crate) mod design;
pub(crate) mod export_stl;
pub(crate) mod fit;
pub(crate) mod homogenize;
pub(crate) mod merge;
pub(crate) mod outputs;
pub(crate) mod plastic;
pub(crate) mod references;
pub(crate) mod run;
pub(crate) mod sweep;
pub(crate) mod voxelize;

/// Exit status for a failure that is not the input's (a file that cannot be
/// written, a GPU that fails).
pub(crate) const EXIT_FAILURE: u8 = 1;
/// Exit status for bad input (scene, values, files).
pub(crate) const EXIT_BAD_INPUT: u8 = 2;
/// Exit status when a solve did not converge.
pub(crate) const EXIT_NOT_CONVERGED: u8 = 3;

/// Every error a command ends with.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// An error about the value of a flag, named by the flag.
    #[error("{flag}")]
    Flag {
        flag: &'static str,
        #[source]
        source: Box<CliError>,
    },
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
        source: voxfe::calibration::CalibrationError,
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
    /// A lattice reference (`voxfe references`).
    #[error(transparent)]
    Reference(#[from] voxfe::calibration::CalibrationError),
    /// `voxfe fit`: the tests, their solves, the fits.
    #[error(transparent)]
    Fit(#[from] voxfe::study::as_built::FitError),
    /// `voxfe fit --out`: the plots.
    #[error(transparent)]
    Plot(#[from] voxfe::plot::PlotError),
    /// A file that could not be written.
    #[error("cannot write '{}': {error}", path.display())]
    Write { path: PathBuf, error: String },
}

impl CliError {
    /// `e` about the value of `flag`.
    pub(crate) fn flag(flag: &'static str, e: impl Into<CliError>) -> CliError {
        CliError::Flag {
            flag,
            source: Box::new(e.into()),
        }
    }

    /// The exit status of the error (docs/guide.md, "Exit status"): 2 bad input, 3 a design
    /// search or a calibration whose solves failed or did not converge, 1
    /// anything else. (0 success and 3 for a solve that did not converge
    /// are outcomes, not errors.)
    pub(crate) fn exit_status(&self) -> u8 {
        let bad_input = match self {
            CliError::Flag { source, .. } => return source.exit_status(),
            CliError::Scene(_) | CliError::Voxelize(_) => true,
            CliError::Vtk(_) => false,
            CliError::Image(e) => e.is_bad_input(),
            // A calibration solve that did not converge is a solve that did
            // not converge (exit 3), as the run's own.
            CliError::Run {
                source: voxfe::pipeline::RunError::Calibration(c),
                ..
            }
            | CliError::Homogenize {
                source: voxfe::homogenize::run::HomogenizeRunError::Calibration(c),
                ..
            } if c.is_not_converged() => return EXIT_NOT_CONVERGED,
            CliError::Run { source, .. } => source.is_bad_input(),
            CliError::Homogenize { source, .. } => source.is_bad_input(),
            CliError::Calibrate { source, .. } if !source.is_bad_input() => {
                return EXIT_NOT_CONVERGED
            }
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
            CliError::Reference(e) => e.is_bad_input(),
            CliError::Fit(e) if !e.is_bad_input() => return EXIT_NOT_CONVERGED,
            CliError::Fit(_) => true,
            CliError::Plot(_) | CliError::Write { .. } => false,
        };
        if bad_input {
            EXIT_BAD_INPUT
        } else {
            EXIT_FAILURE
        }
    }
}

/// A library message as the command line says it. The library names a
/// command's argument as the Python front end does, `name=value`
/// (`max_solves=0`, `vary='lattice.porosity=0.7:0.9'`); here it becomes the
/// flag the user typed, `--max-solves 0` (a switch, `force=true`, is
/// `--force`). Only the long flags of `command`
/// and its subcommands are rewritten, and only where the name starts a
/// word: a scene key (`lattice.porosity=0.8`) stays as it is.
pub(crate) fn with_flags(message: &str, command: &clap::Command) -> String {
    let mut names = std::collections::BTreeSet::new();
    let mut stack = vec![command];
    while let Some(c) = stack.pop() {
        names.extend(
            c.get_arguments()
                .filter_map(|a| a.get_long())
                .map(|l| l.replace('-', "_")),
        );
        stack.extend(c.get_subcommands());
    }
    let word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    let mut out = String::with_capacity(message.len() + 16);
    let mut rest = message;
    let mut prev: Option<char> = None;
    while let Some(c) = rest.chars().next() {
        if prev.is_none_or(|p| !word(p)) && c.is_ascii_lowercase() {
            let len = rest
                .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .unwrap_or(rest.len());
            let (name, after) = rest.split_at(len);
            if let Some(value) = after.strip_prefix('=') {
                if names.contains(name) {
                    out.push_str("--");
                    out.push_str(&name.replace('_', "-"));
                    // A switch: `force=true` is `--force`.
                    match value.strip_prefix("true") {
                        Some(after) if !after.starts_with(word) => {
                            rest = after;
                            prev = Some('e');
                        }
                        _ => {
                            out.push(' ');
                            rest = value;
                            prev = Some(' ');
                        }
                    }
                    continue;
                }
            }
            out.push_str(name);
            rest = after;
            prev = name.chars().last();
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
        prev = Some(c);
    }
    out
}

/// A command's `--set` overrides of its scene keys.
#[derive(clap::Args)]
pub(crate) struct Overrides {
    /// Override a scene key, e.g. --set lattice.porosity=0.85 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// Where a command solves: `--backend` and `--adapter` (the scene's
/// `solver.backend` and `solver.adapter` where given).
#[derive(clap::Args)]
pub(crate) struct Device {
    /// Solver backend (overrides solver.backend).
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
    /// Substring of the GPU adapter name (overrides solver.adapter).
    #[arg(long, value_name = "NAME")]
    pub adapter: Option<String>,
}

impl Device {
    /// `scene` solved here.
    pub(crate) fn apply(&self, scene: Scene) -> Scene {
        let scene = match self.backend {
            Some(b) => scene.with_backend(b),
            None => scene,
        };
        match &self.adapter {
            Some(a) => scene.with_adapter(a),
            None => scene,
        }
    }
}

/// The one read of a command's scene: the file at `path` with the `--set`
/// overrides, solved on `device` where the command solves.
pub(crate) fn load_scene(
    path: &Path,
    overrides: &Overrides,
    device: Option<&Device>,
) -> Result<Scene, CliError> {
    let scene = Scene::load(path, &overrides.set)?;
    Ok(match device {
        Some(d) => d.apply(scene),
        None => scene,
    })
}

/// An informational line on stderr, unless `--quiet`.
pub(crate) fn info(line: std::fmt::Arguments) {
    if !voxfe::progress::is_quiet() {
        eprintln!("{line}");
    }
}

/// The levels of a convergence study (`converge`, `design --converged`).
#[derive(clap::Args)]
pub(crate) struct Study {
    /// Number of grids (at least 3), the scene's voxel.size the coarsest.
    #[arg(long, default_value_t = 3)]
    pub levels: usize,
    /// Refinement ratio r between levels (above 1); each h is the one
    /// nearest to h/rⁱ that divides the specimen.
    #[arg(long, default_value_t = 1.5)]
    pub ratio: f64,
}

#[cfg(test)]
mod tests {
    use super::with_flags;

    fn command() -> clap::Command {
        clap::Command::new("voxfe").subcommand(
            clap::Command::new("design")
                .arg(clap::Arg::new("max").long("max-solves"))
                .arg(clap::Arg::new("vary").long("vary")),
        )
    }

    #[test]
    fn arguments_become_the_flags_the_user_typed() {
        let c = command();
        assert_eq!(
            with_flags("max_solves=0: allowed: at least 1", &c),
            "--max-solves 0: allowed: at least 1"
        );
        assert_eq!(
            with_flags("scene 'a.toml': vary='lattice.porosity=0.7' (case 2)", &c),
            "scene 'a.toml': --vary 'lattice.porosity=0.7' (case 2)"
        );
        assert_eq!(
            with_flags("vary=true: or vary=trueish", &c),
            "--vary: or --vary trueish"
        );
    }

    #[test]
    fn scene_keys_and_unknown_names_stay() {
        let c = command();
        for m in [
            "lattice.porosity=0.8: allowed: 0 < porosity < 1",
            "max_solves_x=3 and vary_it=2, key=value",
            "--set voxel.fill=fraction",
            "a.max_solves=2",
        ] {
            assert_eq!(with_flags(m, &c), m);
        }
    }
}
