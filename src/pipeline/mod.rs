//! A scene's evaluation, one way: its kind ([`kind::SceneKind`], asked
//! once) → voxels ([`voxelize`]) → load case ([`load`]) → the one
//! [`solver::Solver`] on the scene's backend → a [`RunReport`] (a loaded
//! specimen) or a [`crate::homogenize::run::HomogenizeReport`] (a periodic
//! cell): [`evaluate`].

pub mod kind;
pub mod load;
pub mod solver;
pub mod voxelize;

pub use kind::SceneKind;

use crate::calibration::{Accuracy, CalibrationError};
use crate::fem::load::LoadCase;
use crate::fem::solver::Loaded;
use crate::fem::{SolveError, SolveResult};
use crate::gpu::GpuError;
use crate::grid::VoxelGrid;
use crate::homogenize::run::{homogenize_with, HomogenizeReport, HomogenizeRunError};
use crate::material::YoungPoisson;
use crate::provenance::Provenance;
use crate::report::RunReport;
use crate::report::VoxelReport;
use crate::scene::Scene;
use crate::strength::StrengthParams;
use solver::{Solver, SolverError};
use voxelize::{voxelize_resolved, Specimen, VoxelizeError};

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Voxelize(#[from] VoxelizeError),
    #[error(transparent)]
    Solve(#[from] SolveError),
    #[error(transparent)]
    Gpu(#[from] GpuError),
    #[error(transparent)]
    Calibration(#[from] CalibrationError),
}

impl RunError {
    /// Whether the failure comes from the input (exit status 2) rather than
    /// from the machine.
    pub fn is_bad_input(&self) -> bool {
        match self {
            RunError::Voxelize(_) => true,
            RunError::Solve(e) | RunError::Gpu(GpuError::Solve(e)) => e.is_bad_input(),
            RunError::Gpu(GpuError::BadBackendEnv { .. } | GpuError::BadBindingEnv { .. }) => true,
            RunError::Gpu(_) => false,
            RunError::Calibration(e) => e.is_bad_input(),
        }
    }
}

impl From<SolverError> for RunError {
    fn from(e: SolverError) -> RunError {
        match e {
            SolverError::Solve(e) => RunError::Solve(e),
            SolverError::Gpu(e) => RunError::Gpu(e),
        }
    }
}

/// What a scene evaluates to: a loaded specimen's run or a periodic cell's
/// homogenization.
#[derive(Debug, Clone)]
pub enum Evaluation {
    Loaded(Box<RunReport>),
    Periodic(Box<HomogenizeReport>),
}

impl Evaluation {
    /// The evaluation as one JSON object: a loaded run's record
    /// ([`RunReport::to_json`]) or a cell's report
    /// ([`HomogenizeReport::to_json`]).
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        match self {
            Evaluation::Loaded(r) => r.to_json(),
            Evaluation::Periodic(r) => match r.to_json() {
                serde_json::Value::Object(m) => m,
                _ => unreachable!("a struct serializes to an object"),
            },
        }
    }

    /// The fallbacks the solver took, in order.
    pub fn notices(&self) -> &[String] {
        match self {
            Evaluation::Loaded(r) => &r.notices,
            Evaluation::Periodic(r) => &r.notices,
        }
    }
}

impl std::fmt::Display for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Evaluation::Loaded(r) => r.fmt(f),
            Evaluation::Periodic(r) => r.fmt(f),
        }
    }
}

/// Why a scene could not be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    #[error(transparent)]
    Loaded(#[from] RunError),
    #[error(transparent)]
    Periodic(#[from] HomogenizeRunError),
}

impl EvaluateError {
    /// Whether the input is at fault (exit status 2).
    pub fn is_bad_input(&self) -> bool {
        match self {
            EvaluateError::Loaded(e) => e.is_bad_input(),
            EvaluateError::Periodic(e) => e.is_bad_input(),
        }
    }
}

/// Evaluates `scene` with its own `[solver]` settings (backend and adapter
/// included): a loaded specimen is voxelized and solved once, a periodic
/// cell voxelized and homogenized (six solves on the one solver).
pub fn evaluate(scene: &Scene) -> Result<Evaluation, EvaluateError> {
    let solver = Solver::new(&scene.solver);
    Ok(match SceneKind::of(scene) {
        SceneKind::Loaded => Evaluation::Loaded(Box::new(run_with(scene, solver)?)),
        SceneKind::Periodic => Evaluation::Periodic(Box::new(homogenize_with(scene, solver)?)),
    })
}

/// Voxelizes and solves the loaded `scene` with its own `[solver]`
/// settings (backend and adapter included): [`evaluate`] of a loaded
/// specimen.
pub fn run(scene: &Scene) -> Result<RunReport, RunError> {
    run_with(scene, Solver::new(&scene.solver))
}

/// Voxelizes `scene` and solves it with `solver`.
pub(crate) fn run_with(scene: &Scene, mut solver: Solver) -> Result<RunReport, RunError> {
    let prepared = prepare(scene)?;
    let solve = prepared.solve_with(&mut solver)?;
    let mut report = prepared.into_report(solve, solver.into_notices());
    add_as_built(scene, &mut report)?;
    Ok(report)
}

/// With the scene's `[as_built]` model ([`Scene::as_built_model`]), the
/// as-built E_eff of a converged run: the model applied to its E_eff at
/// its relative density (`strut-offset`: E_eff of the same scene with the
/// strut D + δ, a second solve on the scene's backend), its band widened
/// by the fit's leave-one-out error; a notice when the porosity lies
/// outside the tested range. With a fit whose tests gave yield strengths
/// ([`Scene::as_built_yield_model`]), the as-built yield strength too: the
/// yield model applied to the run's first-yield stress in the same way (a
/// strut offset of its own is one more solve, unless it is the modulus
/// model's). Nothing without the section or a modulus.
pub fn add_as_built(scene: &Scene, report: &mut RunReport) -> Result<(), RunError> {
    use crate::study::as_built::model::ModelKind;
    let model = match scene.as_built_model().map_err(VoxelizeError::from)? {
        Some(m) => m,
        None => return Ok(()),
    };
    let yield_model = scene.as_built_yield_model().map_err(VoxelizeError::from)?;
    let Some(e) = report.solve.e_eff else {
        return Ok(());
    };
    let phi = report.voxel.porosity_nominal;
    // The strut D + δ solved once per offset δ.
    let mut shifted: Vec<(f64, Shifted)> = Vec::new();
    let mut solve_offset = |delta: f64| -> Result<Option<Shifted>, RunError> {
        if let Some(&(_, s)) = shifted.iter().find(|s| s.0 == delta) {
            return Ok(Some(s));
        }
        let Some(d) = report.voxel.strut_diameter else {
            return Ok(None);
        };
        let scene = scene
            .without_as_built()
            .with_setting("lattice.strut", d + delta)
            .map_err(VoxelizeError::from)?;
        let r = run_with(&scene, Solver::new(&scene.solver))?;
        let s = Shifted {
            e_eff: r.solve.e_eff,
            yield_stress: r.strength.yield_stress,
        };
        shifted.push((delta, s));
        Ok(Some(s))
    };
    let offset = if model.model == ModelKind::StrutOffset {
        match solve_offset(model.strut_offset)? {
            Some(s) => s.e_eff,
            None => return Ok(()),
        }
    } else {
        None
    };
    let value = model.apply(e, 1.0 - phi, offset);
    if !value.is_finite() {
        return Ok(());
    }
    let far = model.extrapolation(phi);
    if let Some((end, dist)) = far {
        report.notices.push(format!(
            "as built: porosity {phi:.4} lies {dist:.4} outside the tested porosities (nearest tested {end:.4}): E_eff as built is an extrapolation of the fit"
        ));
    }
    let mut fields = crate::report::AsBuiltFields {
        e_eff_as_built: Some(value),
        e_eff_as_built_error_estimate: Some(model.band(report.accuracy.error_estimate)),
        as_built_model: Some(model.describe()),
        as_built_extrapolation: far.map(|f| f.1),
        ..Default::default()
    };
    if let (Some(ym), Some(y)) = (yield_model, report.strength.yield_stress) {
        let offset = if ym.model == ModelKind::StrutOffset {
            solve_offset(ym.strut_offset)?.and_then(|s| s.yield_stress)
        } else {
            None
        };
        let value = ym.apply(y, 1.0 - phi, offset);
        if value.is_finite() {
            fields.yield_stress_as_built = Some(value);
            fields.yield_stress_as_built_error_estimate = Some(ym.band(None));
            fields.as_built_yield_model = Some(format!(
                "{}, on the first-yield stress of the linear solve (an elastic proxy)",
                ym.describe()
            ));
        }
    }
    report.as_built = fields;
    Ok(())
}

/// E_eff and the first-yield stress of a scene solved with its strut
/// D + δ ([`add_as_built`]).
#[derive(Debug, Clone, Copy)]
struct Shifted {
    e_eff: Option<f64>,
    yield_stress: Option<f64>,
}

/// A scene voxelized, with its load case and material: everything a solve
/// needs, and the voxelization's report.
pub struct Prepared {
    pub voxel: VoxelReport,
    pub grid: VoxelGrid,
    pub load: LoadCase,
    pub material: YoungPoisson,
    /// The material strength of the strength estimates.
    pub strength: StrengthParams,
    /// The exponent as resolved and the error band of the result
    /// ([`crate::calibration::resolve`]).
    pub accuracy: Accuracy,
    /// The calibration's warnings and fallbacks.
    pub notices: Vec<String>,
    /// What produced the run: the scene as given (its exponent as written,
    /// not as resolved), the version, the start time.
    pub provenance: Provenance,
}

/// The steps of [`run`] before the solve: the exponent resolved
/// (`"auto"` calibrated), the voxels, the load case. The envelope is built
/// once (by the voxelize step) and dropped here, before the solve.
pub fn prepare(scene: &Scene) -> Result<Prepared, RunError> {
    let provenance = Provenance::of_scene(scene);
    let resolved = crate::calibration::resolve(scene)?;
    let scene = resolved.scene.as_ref();
    let specimen = voxelize_resolved(&resolved)?;
    let material = scene.material().map_err(VoxelizeError::from)?;
    let strength = scene.strength().map_err(VoxelizeError::from)?;
    let load = load::specimen_load_case(scene, &specimen).map_err(VoxelizeError::from)?;
    let Specimen {
        vox, report: voxel, ..
    } = specimen;
    Ok(Prepared {
        voxel,
        grid: vox.grid,
        load,
        material,
        strength,
        accuracy: resolved.accuracy,
        notices: resolved.notices,
        provenance,
    })
}

impl Prepared {
    /// Solves with the scene's `[solver]` settings (backend included);
    /// fallbacks push a notice onto `notices`.
    pub fn solve(&self, scene: &Scene, notices: &mut Vec<String>) -> Result<SolveResult, RunError> {
        let mut solver = Solver::new(&scene.solver);
        let solved = self.solve_with(&mut solver);
        notices.extend(solver.into_notices());
        solved
    }

    /// Solves with `solver` (its notices keep the fallbacks).
    pub fn solve_with(&self, solver: &mut Solver) -> Result<SolveResult, RunError> {
        Ok(solver.solve(&Loaded {
            grid: &self.grid,
            material: self.material,
            load: &self.load,
        })?)
    }

    /// The run report of `solve`, with the load case's strength estimates
    /// (none unless the solve converged).
    pub fn into_report(self, solve: SolveResult, solver_notices: Vec<String>) -> RunReport {
        let mut notices = self.notices;
        notices.extend(solver_notices);
        if let (LoadCase::ThreePointBending { contact, .. }, Some(used)) =
            (&self.load, solve.contact_width)
        {
            let h = self.grid.h;
            if used < h * (1.0 - 1e-9) {
                notices.push(format!(
                    "load.contact = {contact} mm at voxel.size = {h} mm holds one column of nodes: the strips are line contacts (width used {used} mm), which indent the bar more; choose voxel.size so that c/2 is a whole number of voxels (e.g. {})",
                    contact / 2.0
                ));
            }
        }
        let loads = self.strength.loads(
            solve.von_mises_percentile_per_newton,
            solve.ees_percentile_per_newton,
        );
        RunReport {
            provenance: self.provenance.with_backend(&solve.backend, &solve.adapter),
            strength: self.load.strength(&loads, self.grid.size()),
            strength_params: self.strength,
            load_case: self.load.name(),
            material_e: self.material.e,
            material: self.material,
            load: self.load,
            voxel: self.voxel,
            solve,
            notices,
            grid: self.grid,
            accuracy: self.accuracy,
            as_built: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scene::Backend;

    fn scene(file: &str, set: &[&str]) -> Scene {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        let mut scene = Scene::load(&path, &set).unwrap();
        scene.solver.backend = Backend::Cpu;
        scene
    }

    /// A loaded scene evaluates to its run, a periodic one to its six
    /// solves on the same solver, each on the scene's own backend.
    #[test]
    fn evaluate_classifies_the_scene_and_takes_its_backend() {
        let loaded = scene(
            "scenes/rd-compression.toml",
            &["specimen.size=[3.0, 3.0, 3.0]", "voxel.size=0.1"],
        );
        assert_eq!(SceneKind::of(&loaded), SceneKind::Loaded);
        let Evaluation::Loaded(run) = evaluate(&loaded).unwrap() else {
            panic!("a loaded specimen")
        };
        assert_eq!(run.solve.backend, "cpu");
        let direct = super::run(&loaded).unwrap();
        assert_eq!(run.solve.iterations, direct.solve.iterations);
        assert_eq!(run.solve.e_eff, direct.solve.e_eff);

        let periodic = scene("scenes/ta-lattice-homogenized.toml", &["voxel.size=0.075"]);
        assert_eq!(SceneKind::of(&periodic), SceneKind::Periodic);
        let Evaluation::Periodic(cell) = evaluate(&periodic).unwrap() else {
            panic!("a periodic cell")
        };
        assert_eq!(cell.result.backend, "cpu");
        assert_eq!(cell.result.columns.len(), 6);
        assert!(cell.result.converged && cell.derived.is_some());
        assert!(Evaluation::Periodic(cell)
            .to_json()
            .contains_key("voigt_order"));
    }
}
