//! `voxfe run`: voxelize a scene, solve it on the chosen backend, report.

use std::sync::Arc;

use crate::fem::load::{EnvelopeColumns, LoadCase, Platens};
use crate::fem::{solve_cpu, Preconditioner, SolveError, SolveResult, SolverOptions};
use crate::gpu::{solve_gpu, AdapterRequest, GpuContext, GpuError};
use crate::report::{voxelize_scene, VoxelReport, VoxelizeError};
use crate::scene::{Backend, ResolvedLoad, Scene, SceneError, Shape};
use serde_json::{Map, Value};

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Voxelize(#[from] VoxelizeError),
    #[error(transparent)]
    Solve(#[from] SolveError),
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

impl RunError {
    /// Whether the failure comes from the input (exit status 2) rather than
    /// from the machine.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            RunError::Voxelize(_)
                | RunError::Solve(SolveError::Bc(_) | SolveError::Mesh(_))
                | RunError::Gpu(GpuError::Solve(SolveError::Bc(_) | SolveError::Mesh(_)))
        )
    }
}

/// A voxelization and its solve.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub voxel: VoxelReport,
    pub solve: SolveResult,
    pub notices: Vec<String>,
    /// The scene's `load.case`.
    pub load_case: &'static str,
    /// Young's modulus of the solid, MPa.
    pub material_e: f64,
    /// The voxel grid that was solved (for field output).
    pub grid: crate::grid::VoxelGrid,
}

impl RunReport {
    /// One flat JSON object: every voxel field and every solve field.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = match serde_json::to_value(&self.voxel).expect("serializes") {
            Value::Object(m) => m,
            _ => unreachable!("a struct serializes to an object"),
        };
        if let Value::Object(s) = serde_json::to_value(&self.solve).expect("serializes") {
            m.extend(s);
        }
        m.insert("load_case".into(), self.load_case.into());
        m.insert("material_e".into(), self.material_e.into());
        m
    }
}

/// The fem load case of a scene. Implant compression samples the envelope
/// for its endplate surfaces (an STL envelope is read again).
pub fn load_case(scene: &Scene) -> Result<LoadCase, SceneError> {
    Ok(match scene.resolved_load() {
        ResolvedLoad::Compression { bonded } => LoadCase::Compression {
            platens: if bonded {
                Platens::Bonded
            } else {
                Platens::Frictionless
            },
        },
        ResolvedLoad::ThreePointBending { span, contact } => {
            LoadCase::ThreePointBending { span, contact }
        }
        ResolvedLoad::ImplantCompression { bonded } => {
            let sp = &scene.specimen;
            let [lx, ly, lz] = scene.box_size();
            let (footprint_area, height) = match sp.shape {
                Shape::Cylinder => {
                    let d = sp.diameter.unwrap_or(lx);
                    (std::f64::consts::PI * d * d / 4.0, sp.height.unwrap_or(lz))
                }
                Shape::Box | Shape::Stl => (lx * ly, lz),
            };
            LoadCase::ImplantCompression {
                platens: if bonded {
                    Platens::Bonded
                } else {
                    Platens::Frictionless
                },
                footprint_area,
                height,
                envelope: Some(Arc::new(envelope_columns(scene)?)),
            }
        }
    })
}

/// The envelope's bottom and top surfaces per node column.
fn envelope_columns(scene: &Scene) -> Result<EnvelopeColumns, SceneError> {
    let envelope = scene.envelope()?;
    let mask = crate::voxelize::sample(scene.dims(), scene.voxel.size, |p| envelope.contains(p));
    Ok(EnvelopeColumns::from_mask(&mask))
}

/// The GPU solve. A multigrid hierarchy that does not fit the adapter's
/// storage bindings is solved with Jacobi instead (vectors split into
/// chunks), with a notice.
pub fn solve_on_gpu(
    ctx: &GpuContext,
    grid: &crate::grid::VoxelGrid,
    material: crate::material::YoungPoisson,
    load: &LoadCase,
    opts: &SolverOptions,
    notices: &mut Vec<String>,
) -> Result<SolveResult, GpuError> {
    match solve_gpu(ctx, grid, material, load, opts) {
        Err(e @ GpuError::TooLarge { .. }) if opts.preconditioner == Preconditioner::Multigrid => {
            notices.push(format!(
                "multigrid does not fit on {}: {e}; solving with solver.preconditioner = \"jacobi\"",
                ctx.adapter_name()
            ));
            let jacobi = SolverOptions {
                preconditioner: Preconditioner::Jacobi,
                ..*opts
            };
            solve_gpu(ctx, grid, material, load, &jacobi)
        }
        r => r,
    }
}

/// Voxelizes and solves `scene` on `backend`.
pub fn run_scene(scene: &Scene, backend: Backend) -> Result<RunReport, RunError> {
    let (_, vox, voxel) = voxelize_scene(scene)?;
    let material = scene.material().expect("validated");
    let load = load_case(scene).map_err(VoxelizeError::from)?;
    let opts = SolverOptions {
        tolerance: scene.solver.tolerance,
        max_iterations: scene.solver.max_iterations as usize,
        check_every: scene.solver.check_every as usize,
        preconditioner: scene.solver.preconditioner,
    };
    let mut notices = Vec::new();
    let request = AdapterRequest {
        name: scene.solver.adapter.clone(),
        ..Default::default()
    };
    let solve = match backend {
        Backend::Cpu => solve_cpu(&vox.grid, material, &load, &opts)?,
        Backend::Gpu => {
            let ctx = GpuContext::new(&request)?;
            solve_on_gpu(&ctx, &vox.grid, material, &load, &opts, &mut notices)?
        }
        Backend::Auto => match GpuContext::new(&request) {
            Err(e) => {
                notices.push(format!("no GPU: {e}; solving on the CPU"));
                solve_cpu(&vox.grid, material, &load, &opts)?
            }
            // A software adapter (lavapipe, llvmpipe) runs the kernels on
            // the CPU, several times slower than the CPU solver itself.
            Ok(ctx) if ctx.is_software() => {
                notices.push(format!(
                    "only a software GPU adapter ({}) was found; the CPU solver is faster (use --backend gpu to run on it)",
                    ctx.adapter_name()
                ));
                solve_cpu(&vox.grid, material, &load, &opts)?
            }
            Ok(ctx) => match solve_on_gpu(&ctx, &vox.grid, material, &load, &opts, &mut notices) {
                Ok(r) => r,
                Err(GpuError::Solve(e @ (SolveError::Bc(_) | SolveError::Mesh(_)))) => {
                    return Err(e.into())
                }
                Err(e) => {
                    notices.push(format!(
                        "the GPU solve on {} failed: {e}; solving again on the CPU",
                        ctx.adapter_name()
                    ));
                    solve_cpu(&vox.grid, material, &load, &opts)?
                }
            },
        },
    };
    let load_case = match scene.resolved_load() {
        ResolvedLoad::Compression { .. } => "compression",
        ResolvedLoad::ThreePointBending { .. } => "three-point-bending",
        ResolvedLoad::ImplantCompression { .. } => "implant-compression",
    };
    Ok(RunReport {
        load_case,
        material_e: material.e,
        voxel,
        solve,
        notices,
        grid: vox.grid,
    })
}

/// Why field output could not be written.
#[derive(Debug, thiserror::Error)]
pub enum FieldError {
    #[error(transparent)]
    Vtk(#[from] crate::vtk::VtkError),
    #[error(transparent)]
    Plot(#[from] crate::plot::PlotError),
    #[error(transparent)]
    Mesh(#[from] crate::fem::mesh::MeshError),
    #[error("--slice-at {at} mm: allowed: 0 ≤ at < {length} mm along {axis}")]
    SliceOutside { at: f64, length: f64, axis: char },
}

/// The voxel layer of a slice normal to `axis` at `at` mm (default: the
/// mid-plane) through a grid of `dims` voxels of edge `h`.
pub fn slice_layer(
    dims: [usize; 3],
    h: f64,
    axis: crate::plot::Axis,
    at: Option<f64>,
) -> Result<usize, FieldError> {
    let c = axis as usize;
    let length = dims[c] as f64 * h;
    let at = at.unwrap_or(length / 2.0);
    if !(at >= 0.0 && at < length) {
        return Err(FieldError::SliceOutside {
            at,
            length,
            axis: ['x', 'y', 'z'][c],
        });
    }
    Ok(((at / h).floor() as usize).min(dims[c] - 1))
}

impl RunReport {
    /// Writes the solid mask (cells), the nodal displacement u in mm
    /// (points; 0 at inactive nodes) and the voxel-centre von Mises stress
    /// in MPa (cells) as VTK ImageData that ParaView opens.
    pub fn write_vti(&self, path: &std::path::Path) -> Result<(), FieldError> {
        use crate::vtk::{ArrayData, VtiWriter};
        let g = &self.grid;
        let mut u = vec![0.0f32; 3 * g.node_count()];
        // The displacement is numbered as the solver's mesh numbers its nodes.
        let mesh = crate::fem::mesh::ActiveMesh::new(g)?;
        for (n, &id) in mesh.nodes.iter().enumerate() {
            for c in 0..3 {
                u[3 * id as usize + c] = self.solve.displacement[3 * n + c] as f32;
            }
        }
        VtiWriter::new(g.dims, g.h)
            .cell_array("solid", 1, ArrayData::U8(g.solid.clone()))?
            .cell_array("von_mises", 1, ArrayData::F32(self.solve.von_mises.clone()))?
            .point_array("displacement", 3, ArrayData::F32(u))?
            .write(path)?;
        Ok(())
    }

    /// Writes a PNG of the von Mises stress on the plane normal to `axis`
    /// at `at` mm (default: the mid-plane).
    pub fn write_stress_slice(
        &self,
        path: &std::path::Path,
        axis: crate::plot::Axis,
        at: Option<f64>,
    ) -> Result<(), FieldError> {
        let g = &self.grid;
        let layer = slice_layer(g.dims, g.h, axis, at)?;
        crate::plot::slice_png(
            path,
            g,
            &self.solve.von_mises,
            axis,
            layer,
            "von Mises stress (MPa)",
        )?;
        Ok(())
    }
}

impl std::fmt::Display for RunReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{}", self.voxel)?;
        let s = &self.solve;
        writeln!(f, "backend          {} ({})", s.backend, s.adapter)?;
        writeln!(f, "active nodes     {}", s.active_nodes)?;
        writeln!(f, "unknowns         {}", s.unknowns)?;
        match (&s.multigrid_levels, s.multigrid_bytes) {
            (Some(levels), Some(bytes)) => writeln!(
                f,
                "preconditioner   multigrid ({} levels, hierarchy {:.1} MB)",
                levels.len(),
                bytes as f64 / 1e6
            )?,
            _ => writeln!(f, "preconditioner   jacobi")?,
        }
        writeln!(f, "iterations       {}", s.iterations)?;
        writeln!(
            f,
            "rel. residual    {:.3e} (tolerance {:.1e})",
            s.relative_residual, s.tolerance
        )?;
        writeln!(f, "solve time       {:.3} s", s.solve_seconds)?;
        if !s.converged {
            return write!(
                f,
                "NOT CONVERGED    relative residual {:.3e} after {} iterations, above the tolerance {:.1e}: no modulus is reported",
                s.relative_residual, s.iterations, s.tolerance
            );
        }
        writeln!(f, "delta            {:.6} mm", s.delta)?;
        if let Some(c) = s.contact_width {
            writeln!(f, "contact width    {c:.4} mm (loading strip as used)")?;
        }
        writeln!(
            f,
            "reaction force   {:.6} N",
            s.reaction_force.unwrap_or(f64::NAN)
        )?;
        if let Some(k) = s.stiffness {
            writeln!(f, "stiffness k      {k:.2} N/mm")?;
            writeln!(
                f,
                "apparent E       {:.2} MPa (k·H/A)",
                s.apparent_modulus.unwrap_or(f64::NAN)
            )?;
        }
        if let Some(e) = s.e_eff {
            writeln!(f, "E_eff            {e:.2} MPa")?;
        }
        if let Some(e) = s.e_flex {
            writeln!(f, "E_f              {e:.2} MPa")?;
            writeln!(
                f,
                "σ_f per newton   {:.6e} MPa/N",
                s.flexural_stress_per_newton.unwrap_or(f64::NAN)
            )?;
        }
        if let Some(k) = s.peak_von_mises_per_nominal {
            write!(f, "peak von Mises   {k:.3} × the nominal stress")?;
        }
        Ok(())
    }
}
