//! A scene's elastoplastic run (`voxfe plastic`): the scene voxelized as
//! `voxfe run` does it ([`crate::pipeline::prepare`], with
//! `solver.element = "hex8"`, so that an `"auto"` fraction exponent is
//! calibrated for the element the plastic solve uses), the J2 material from
//! `[material]` (`yield_strength`, `hardening`), the loading from
//! `[plastic]`, and the report: the curve, σ_0.2, the first maximum, what
//! the solve cost, and the provenance.

use std::fmt;
use std::io::Write;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::fem::hex8::Element;
use crate::pipeline::solver::{Solver, SolverError};
use crate::pipeline::{prepare, RunError};
use crate::plastic::curve::{first_maximum, limit, offset_yield, Offset, PLATEAU_SLOPE};
use crate::plastic::engine::EngineError;
use crate::plastic::material::J2;
use crate::plastic::solve::{solve_on, PlasticOptions, PlasticSolution, PlasticSolveError};
use crate::plastic::spec::{check_hardening, PlasticInputError};
use crate::provenance::Provenance;
use crate::scene::{Scene, SceneError, Setting};

/// Why a plastic run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlasticRunError {
    #[error(transparent)]
    Input(#[from] PlasticInputError),
    #[error(transparent)]
    Scene(#[from] SceneError),
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Solve(PlasticSolveError),
    /// `solver.backend = "gpu"` without a usable adapter, or a bad
    /// `WGPU_BACKEND`.
    #[error(transparent)]
    Gpu(crate::gpu::GpuError),
}

impl PlasticRunError {
    /// Whether the input is at fault (exit status 2).
    pub fn is_bad_input(&self) -> bool {
        match self {
            PlasticRunError::Input(_) | PlasticRunError::Scene(_) => true,
            PlasticRunError::Run(e) => e.is_bad_input(),
            PlasticRunError::Solve(PlasticSolveError::Setup(e)) => e.is_bad_input(),
            PlasticRunError::Solve(_) => false,
            PlasticRunError::Gpu(e) => SolverError::is_bad_gpu_input(e),
        }
    }
}

/// The report of a plastic run.
#[derive(Debug, Clone)]
pub struct PlasticReport {
    pub name: String,
    pub load_case: &'static str,
    pub material: J2,
    /// `[plastic]` as resolved.
    pub strain: f64,
    pub increments: usize,
    pub growth: usize,
    pub mean_dilatation: bool,
    /// Voxel counts and fill of the specimen.
    pub voxel: crate::report::VoxelReport,
    pub solution: PlasticSolution,
    /// σ_0.2 where the curve reached it.
    pub offset: Option<Offset>,
    /// First maximum (strain, stress), if the curve fell after it.
    pub first_maximum: Option<(f64, f64)>,
    /// The limit (strain, stress) of a curve that levelled off
    /// ([`crate::plastic::curve::limit`]).
    pub limit: Option<(f64, f64)>,
    /// Why the curve ends early: the step that did not converge.
    pub failure: Option<String>,
    /// The calibration's and the backend's warnings and fallbacks.
    pub notices: Vec<String>,
    /// The grid and load case solved, for the field file and the deck.
    pub grid: crate::grid::VoxelGrid,
    pub load: crate::fem::load::LoadCase,
    pub provenance: Provenance,
}

/// Runs `scene`'s elastoplastic solve on its `solver.backend` (under
/// `auto`, a hardware GPU with f64 in shaders, else the CPU; see
/// [`crate::pipeline::solver`]). An increment that does
/// not converge after its cut-backs ends the curve: the report is returned
/// with [`PlasticReport::failure`] set.
pub fn run(scene: &Scene) -> Result<PlasticReport, PlasticRunError> {
    let spec = scene.plastic.unwrap_or_default();
    spec.check()?;
    let scene = scene.with_settings(&[Setting::new("solver.element", Element::Hex8.name())])?;
    let prepared = prepare(&scene)?;
    let hardening = scene.material.hardening.unwrap_or(0.0);
    check_hardening(hardening, prepared.material.e)?;
    let Some(yield_strength) = prepared.strength.yield_strength else {
        return Err(PlasticInputError {
            key: "material.yield_strength",
            value: "(none)".into(),
            allowed: "required by voxfe plastic for a material given by E and nu: the yield strength in MPa".into(),
        }
        .into());
    };
    let material = J2 {
        elastic: prepared.material,
        yield_strength,
        hardening,
    };
    let opts = PlasticOptions {
        strain: spec.strain,
        increments: spec.increments,
        max_iterations: scene.solver.max_iterations as usize,
        preconditioner: scene.solver.preconditioner,
        mean_dilatation: spec.mean_dilatation,
        growth: spec.growth,
        newton_tolerance: spec.tolerance,
        tangent_hierarchy: spec.tangent_multigrid,
        ..PlasticOptions::default()
    };
    // The backend of `[solver]`: a hardware GPU under "auto"; a GPU
    // solve that fails for the device's reason (too large for its
    // bindings, no f64 in shaders, a device error) is run again on the
    // CPU under "auto", with a notice.
    let mut solver = Solver::new(&scene.solver);
    let device = solver.device().map_err(PlasticRunError::Gpu)?;
    let on = |device| solve_on(&prepared.grid, material, &prepared.load, &opts, device);
    let solved = match &device {
        None => on(None),
        Some(ctx) => match on(Some(ctx)) {
            Err(PlasticSolveError::Engine(EngineError::Gpu(e)))
                if scene.solver.backend == crate::scene::Backend::Auto
                    && !SolverError::is_bad_gpu_input(&e) =>
            {
                solver.notice(format!(
                    "the plastic solve on {} failed: {e}; solving again on the CPU",
                    ctx.adapter_name()
                ));
                on(None)
            }
            r => r,
        },
    };
    let (solution, failure) = match solved {
        Ok(s) => (s, None),
        Err(e @ PlasticSolveError::NotConverged { .. }) => {
            let msg = e.to_string();
            let PlasticSolveError::NotConverged { curve, .. } = e else {
                unreachable!()
            };
            (*curve, Some(msg))
        }
        Err(e) => return Err(PlasticRunError::Solve(e)),
    };
    let curve: Vec<(f64, f64)> = solution
        .points
        .iter()
        .map(|p| (p.strain, p.stress))
        .collect();
    let provenance = prepared
        .provenance
        .clone()
        .with_backend(solution.backend, &solution.adapter);
    let mut notices = prepared.notices.clone();
    notices.extend(solver.into_notices());
    Ok(PlasticReport {
        name: scene.name.clone(),
        load_case: prepared.load.name(),
        material,
        strain: spec.strain,
        increments: spec.increments,
        growth: spec.growth,
        mean_dilatation: spec.mean_dilatation,
        offset: offset_yield(&curve, solution.elastic_modulus),
        first_maximum: first_maximum(&curve),
        limit: limit(&curve, solution.elastic_modulus),
        voxel: prepared.voxel,
        grid: prepared.grid,
        load: prepared.load,
        solution,
        failure,
        notices,
        provenance,
    })
}

impl PlasticReport {
    /// Newton steps per increment, mean over the converged steps.
    pub fn newton_per_increment(&self) -> f64 {
        let p = &self.solution.points;
        p.iter().map(|p| p.newton).sum::<usize>() as f64 / p.len().max(1) as f64
    }

    /// The field of the last converged step as VTK ImageData (.vti): per
    /// voxel the solid mask and the equivalent plastic strain ᾱ (mean of
    /// its 8 Gauss points), with the provenance as field data.
    pub fn write_vti(&self, path: &Path) -> Result<(), crate::vtk::VtkError> {
        use crate::vtk::{ArrayData, VtiWriter};
        let alpha = self
            .solution
            .voxel_plastic_strain
            .iter()
            .map(|&a| a as f32)
            .collect();
        VtiWriter::new(self.voxel.dims, self.voxel.voxel_size)
            .provenance(&self.provenance)
            .field_data("converged", self.failure.is_none() as i32)
            .cell_array("solid", 1, ArrayData::U8(self.grid.solid.clone()))?
            .cell_array("equivalent_plastic_strain", 1, ArrayData::F32(alpha))?
            .write(path)
    }

    /// The solid voxels as a `.vtu` of hexahedra (meshio, ParaView): the
    /// displacement at the last converged step and the equivalent plastic
    /// strain per voxel ([`crate::export::vtu::write_plastic`]).
    pub fn write_vtu(&self, path: &Path) -> Result<(), crate::export::ExportError> {
        crate::export::vtu::write_plastic(
            &self.grid,
            &self.solution.displacement,
            &self.solution.voxel_plastic_strain,
            self.failure.is_none(),
            Some(&self.provenance),
            path,
        )
    }

    /// The run's model as an Abaqus input deck (.inp) for CalculiX or
    /// Abaqus: the grid, the load case's constraints scaled to the final
    /// strain, `*PLASTIC` and a step of the run's increments
    /// ([`crate::export::inp::PlasticDeck`]). The brick is C3D8; with
    /// `plastic.mean_dilatation` (B̄, the default) a `**` line says that
    /// CalculiX's C3D8 is the plain brick (tests/calculix.rs compares it
    /// with `mean_dilatation = false` increment by increment).
    pub fn write_inp(&self, path: &Path) -> Result<(), crate::export::ExportError> {
        use crate::export::inp::{write_model, DeckModel, PlasticDeck};
        let model = DeckModel {
            name: &self.name,
            load_case: self.load_case,
            grid: &self.grid,
            load: &self.load,
            material: self.material.elastic,
            element: Element::Hex8,
            plastic: Some(PlasticDeck {
                yield_strength: self.material.yield_strength,
                hardening: self.material.hardening,
                strain: self.strain,
                increments: self.increments,
            }),
            note: self.mean_dilatation.then_some(
                "voxfe solved the mean-dilatation brick (B-bar, plastic.mean_dilatation = true); CalculiX's C3D8 is the plain brick (voxfe: plastic.mean_dilatation = false)",
            ),
        };
        write_model(&model, Some(&self.provenance), path)
    }

    /// The stress–strain curve as CSV, one row per converged step.
    pub fn write_csv(&self, path: &Path) -> std::io::Result<()> {
        let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
        writeln!(
            f,
            "step,strain,stress_mpa,delta_mm,force_n,newton,cg_iterations,residual,plastic_points"
        )?;
        for (i, p) in self.solution.points.iter().enumerate() {
            writeln!(
                f,
                "{},{:e},{:e},{:e},{:e},{},{},{:e},{}",
                i + 1,
                p.strain,
                p.stress,
                p.delta,
                p.force,
                p.newton,
                p.cg_iterations,
                p.residual,
                p.plastic_points
            )?;
        }
        f.flush()
    }

    /// `voxfe plastic --json`: the result's fields, then `provenance`.
    pub fn to_json(&self) -> Map<String, Value> {
        let s = &self.solution;
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_string(), v);
        };
        put("name", json!(self.name));
        put("load_case", json!(self.load_case));
        put("element", json!(self.element()));
        put("converged", json!(self.failure.is_none()));
        put("failure", json!(self.failure));
        put("material_e", json!(self.material.elastic.e));
        put("material_nu", json!(self.material.elastic.nu));
        put("yield_strength", json!(self.material.yield_strength));
        put("hardening", json!(self.material.hardening));
        put("strain", json!(self.strain));
        put("increments", json!(self.increments));
        put("growth", json!(self.growth));
        put("newton_tolerance", json!(self.solution.newton_tolerance));
        put("elastic_modulus", json!(s.elastic_modulus));
        put("yield_stress_offset", json!(self.offset.map(|o| o.stress)));
        put("yield_strain_offset", json!(self.offset.map(|o| o.strain)));
        put(
            "first_maximum_stress",
            json!(self.first_maximum.map(|p| p.1)),
        );
        put(
            "first_maximum_strain",
            json!(self.first_maximum.map(|p| p.0)),
        );
        // The limit's force: the curve's point at the limit strain.
        let at_limit = self
            .limit
            .and_then(|(e, _)| s.points.iter().find(|p| p.strain == e));
        put("limit_stress", json!(self.limit.map(|p| p.1)));
        put("limit_strain", json!(self.limit.map(|p| p.0)));
        put("limit_load", json!(at_limit.map(|p| p.force)));
        put("final_stress", json!(s.points.last().map(|p| p.stress)));
        put("steps", json!(s.points.len()));
        put("cutbacks", json!(s.cutbacks));
        put("cutback_cg_iterations", json!(s.cutback_cg_iterations));
        put("newton_per_increment", json!(self.newton_per_increment()));
        put(
            "cg_iterations",
            json!(s.points.iter().map(|p| p.cg_iterations).sum::<usize>()),
        );
        put("elastic_cg_iterations", json!(s.elastic_iterations));
        put("preconditioner", json!(s.preconditioner));
        put("solid_voxels", json!(s.bricks));
        put("active_nodes", json!(s.active_nodes));
        put("unknowns", json!(s.unknowns));
        put("state_bytes", json!(s.state_bytes));
        put(
            "state_bytes_per_active_node",
            json!(s.state_bytes as f64 / s.active_nodes.max(1) as f64),
        );
        put("setup_seconds", json!(s.setup_seconds));
        put("tangent_hierarchies", json!(s.rebuilds));
        put("tangent_hierarchy_seconds", json!(s.rebuild_seconds));
        put("tangent_hierarchy_bytes", json!(s.hierarchy_bytes));
        put("solve_seconds", json!(s.solve_seconds));
        put("backend", json!(s.backend));
        put("adapter", json!(s.adapter));
        put("device_bytes", json!(s.device_bytes));
        put("notices", json!(self.notices));
        put(
            "voxel",
            serde_json::to_value(&self.voxel).unwrap_or(Value::Null),
        );
        put("curve", json!(s.points));
        m.insert("provenance".into(), self.provenance.to_json());
        m
    }
}

impl fmt::Display for PlasticReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = &self.solution;
        let m = &self.material;
        writeln!(
            f,
            "scene            {} ({}, elastoplastic J2, hex8 2×2×2)",
            self.name, self.load_case
        )?;
        writeln!(
            f,
            "material         E = {} MPa, ν = {}, σ_y = {} MPa, H = {} MPa",
            m.elastic.e, m.elastic.nu, m.yield_strength, m.hardening
        )?;
        writeln!(
            f,
            "voxels           {} solid ({} active nodes, {} unknowns), h = {} mm",
            s.bricks, s.active_nodes, s.unknowns, self.voxel.voxel_size
        )?;
        writeln!(
            f,
            "elastic modulus  {:.1} MPa (the curve's initial slope)",
            s.elastic_modulus
        )?;
        match self.offset {
            Some(o) => writeln!(
                f,
                "σ_0.2            {:.2} MPa at strain {:.5} (ISO 13314 offset 0.002)",
                o.stress, o.strain
            )?,
            None => writeln!(
                f,
                "σ_0.2            not reached by strain {:.4}",
                self.last_strain()
            )?,
        }
        match self.first_maximum {
            Some((e, st)) => writeln!(f, "first maximum    {st:.2} MPa at strain {e:.5}")?,
            None => writeln!(
                f,
                "first maximum    none up to strain {:.4} (the curve does not fall)",
                self.last_strain()
            )?,
        }
        let what = if self.load_case == "three-point-bending" {
            "flexural strength σ_f"
        } else {
            "stress"
        };
        match self.limit {
            Some((e, st)) => {
                let force = s.points.iter().find(|p| p.strain == e).map_or(f64::NAN, |p| p.force);
                writeln!(
                    f,
                    "limit load       {force:.2} N ({what} {st:.2} MPa) at strain {e:.5}: the curve levelled off"
                )?
            }
            None => writeln!(
                f,
                "limit load       not reached by strain {:.4}: the last step still rises at {} % of the elastic slope or more",
                self.last_strain(),
                PLATEAU_SLOPE * 100.0
            )?,
        }
        writeln!(
            f,
            "solve            {} steps ({} cut-backs{}), {:.2} Newton steps per increment (to ‖R‖ ≤ {:.0e}·‖f_int‖), {} PCG iterations ({}), {:.2} s",
            s.points.len(),
            s.cutbacks,
            if s.cutbacks > 0 {
                format!(", whose abandoned attempts took {} more PCG iterations", s.cutback_cg_iterations)
            } else {
                String::new()
            },
            self.newton_per_increment(),
            s.newton_tolerance,
            s.points.iter().map(|p| p.cg_iterations).sum::<usize>(),
            match (s.preconditioner, s.rebuilds) {
                (crate::fem::Preconditioner::Multigrid, 0) => "elastic multigrid".to_string(),
                (crate::fem::Preconditioner::Multigrid, n) => format!(
                    "multigrid on the tangent, {n} builds in {:.2} s",
                    s.rebuild_seconds
                ),
                (crate::fem::Preconditioner::Jacobi, _) => "Jacobi".to_string(),
            },
            s.solve_seconds
        )?;
        writeln!(f, "backend          {} ({})", s.backend, s.adapter)?;
        write!(
            f,
            "memory           {} MB of plastic state ({:.0} bytes per active node)",
            s.state_bytes / 1_000_000,
            s.state_bytes as f64 / s.active_nodes.max(1) as f64
        )?;
        if s.hierarchy_bytes > 0 {
            write!(
                f,
                ", {} MB of tangent hierarchy ({:.0} bytes per active node)",
                s.hierarchy_bytes / 1_000_000,
                s.hierarchy_bytes as f64 / s.active_nodes.max(1) as f64
            )?;
        }
        if let Some(bytes) = s.device_bytes {
            write!(
                f,
                " on the device, {} MB there with the PCG and its hierarchy ({:.0} bytes per active node)",
                bytes / 1_000_000,
                bytes as f64 / s.active_nodes.max(1) as f64
            )?;
        }
        if let Some(why) = &self.failure {
            write!(f, "\nnot converged    {why}")?;
        }
        Ok(())
    }
}

impl PlasticReport {
    /// The element's name: `hex8-bbar` (mean dilatation) or `hex8`.
    pub fn element(&self) -> &'static str {
        if self.mean_dilatation {
            "hex8-bbar"
        } else {
            Element::Hex8.name()
        }
    }

    fn last_strain(&self) -> f64 {
        self.solution.points.last().map_or(0.0, |p| p.strain)
    }
}
