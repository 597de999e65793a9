//! What a solve reports ([`SolveResult`]) and why a solve could not be
//! carried out ([`SolveError`]).

use crate::fem::cg::PcgError;
use crate::fem::load::BcError;
use crate::fem::mesh::MeshError;
use crate::fem::multigrid::MultigridError;
use crate::fem::options::Preconditioner;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a solve could not be carried out (a solve that does not converge is
/// a [`SolveResult`] with `converged: false`, not an error).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SolveError {
    #[error(transparent)]
    Mesh(#[from] MeshError),
    #[error(transparent)]
    Bc(#[from] BcError),
    #[error(transparent)]
    Pcg(#[from] PcgError),
    #[error(transparent)]
    Multigrid(#[from] MultigridError),
    /// The element stiffness of the material at the voxel size has a NaN or
    /// infinite entry: no solve starts from it.
    #[error("the element stiffness for E = {e} MPa, nu = {nu} and voxel size h = {h} mm is not finite (material.E, material.nu, voxel.size)")]
    NonFiniteStiffness { e: f64, nu: f64, h: f64 },
}

impl SolveError {
    /// Whether the failure comes from the input (the grid or the load
    /// case) rather than from the solver.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            SolveError::Mesh(_) | SolveError::Bc(_) | SolveError::NonFiniteStiffness { .. }
        )
    }
}

/// Wall times of a solve, s: its set-up, its iterations, and the whole
/// (set-up, iterations and reading the solution back).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Timing {
    pub setup_seconds: f64,
    pub iterations_seconds: f64,
    pub solve_seconds: f64,
}

/// What a solve reports. Moduli are `None` unless the solve converged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SolveResult {
    pub converged: bool,
    /// Compression: effective modulus, MPa.
    pub e_eff: Option<f64>,
    /// Three-point bending: flexural modulus, MPa.
    pub e_flex: Option<f64>,
    /// Three-point bending: σ_f per newton of load, MPa/N.
    pub flexural_stress_per_newton: Option<f64>,
    /// Reaction force F, N (None unless converged).
    pub reaction_force: Option<f64>,
    /// Implant compression: axial stiffness k = F/δ, N/mm.
    pub stiffness: Option<f64>,
    /// Implant compression: apparent modulus k·H/A, MPa.
    pub apparent_modulus: Option<f64>,
    /// Peak voxel-centre von Mises stress per newton of load, MPa/N.
    pub peak_von_mises_per_newton: Option<f64>,
    /// Applied displacement δ, mm.
    #[serde(deserialize_with = "nan_if_null")]
    pub delta: f64,
    /// Three-point bending: x-extent of the loading strip actually used, mm.
    pub contact_width: Option<f64>,
    pub active_nodes: usize,
    pub unknowns: usize,
    pub iterations: usize,
    /// True residual ‖b − A w‖ / ‖b‖ at the end.
    #[serde(deserialize_with = "nan_if_null")]
    pub relative_residual: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub tolerance: f64,
    #[serde(deserialize_with = "nan_if_null")]
    pub solve_seconds: f64,
    /// Of `solve_seconds`: the set-up (mesh, constraints, right-hand side,
    /// preconditioner, and on the GPU the uploads), s. Absent from
    /// results written before the timing breakdown.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub setup_seconds: f64,
    /// Of `solve_seconds`: the PCG iterations, s.
    #[serde(default = "nan", deserialize_with = "nan_if_null")]
    pub iterations_seconds: f64,
    /// GPU only: the device's figures ([`GpuStats`]); its five columns
    /// are `null` on the CPU.
    #[serde(
        flatten,
        serialize_with = "GpuStats::serialize_columns",
        deserialize_with = "GpuStats::deserialize_columns"
    )]
    pub gpu: Option<GpuStats>,
    pub backend: String,
    pub adapter: String,
    /// Peak voxel-centre von Mises stress over the nominal applied stress.
    pub peak_von_mises_per_nominal: Option<f64>,
    /// The von Mises stress at the yield volume percentile
    /// ([`crate::strength::YIELD_PERCENTILE`]) per newton of load, MPa/N.
    pub von_mises_percentile_per_newton: Option<f64>,
    /// The effective strain EES at the critical volume
    /// ([`crate::strength::CRITICAL_VOLUME_PERCENT`]) per newton, 1/N.
    pub ees_percentile_per_newton: Option<f64>,
    /// The CG preconditioner.
    pub preconditioner: Preconditioner,
    /// The element formulation (absent from results written before the
    /// element choice: hex8).
    #[serde(default)]
    pub element: crate::fem::hex8::Element,
    /// Multigrid: active nodes per level, finest first.
    pub multigrid_levels: Option<Vec<usize>>,
    /// Multigrid: bytes of the hierarchy (coarse operators, smoothers,
    /// coarsest factor).
    pub multigrid_bytes: Option<usize>,
    /// Von Mises stress at every voxel centre (0 for void), MPa, voxel-id order.
    #[serde(skip)]
    pub von_mises: Vec<f32>,
    /// Strain energy density at every voxel centre (0 for void), MPa.
    #[serde(skip)]
    pub sed: Vec<f32>,
    /// Effective strain √(2·SED/E) at every voxel centre (0 for void).
    #[serde(skip)]
    pub ees: Vec<f32>,
    /// Nodal displacements u (3 per active node), mm.
    #[serde(skip)]
    pub displacement: Vec<f64>,
}

fn nan() -> f64 {
    f64::NAN
}

/// JSON has no NaN or infinity: serde_json writes them as `null`, read
/// back here as NaN.
pub fn nan_if_null<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// What only a GPU solve has: the device's memory and where its reliable
/// updates ran. In a result (`voxfe run --json`, sweep rows) its five
/// columns sit between `iterations_seconds` and `backend`, `null` on the
/// CPU.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GpuStats {
    /// Bytes allocated on the device (vectors, mesh, stencils and the
    /// multigrid hierarchy).
    pub device_bytes: u64,
    /// Where the reliable updates ran: "device-f64", "device-ds"
    /// (double-single) or "host" (the fallback).
    pub reliable_updates: Option<String>,
    /// Why the reliable updates fell back to the host (the error that
    /// building the device path gave); `None` when they ran on the device.
    pub reliable_fallback: Option<String>,
    /// How many reliable updates the solve made.
    pub reliable_update_count: usize,
    /// Wall time of the reliable updates, s (of `iterations_seconds`).
    pub reliable_update_seconds: f64,
}

/// The columns of [`GpuStats`], each `null` where there is none.
#[derive(Default, Serialize, Deserialize)]
struct GpuColumns {
    #[serde(default)]
    device_bytes: Option<u64>,
    #[serde(default)]
    reliable_updates: Option<String>,
    #[serde(default)]
    reliable_fallback: Option<String>,
    #[serde(default)]
    reliable_update_count: Option<usize>,
    #[serde(default)]
    reliable_update_seconds: Option<f64>,
}

impl GpuStats {
    fn serialize_columns<S: Serializer>(g: &Option<GpuStats>, s: S) -> Result<S::Ok, S::Error> {
        let c = g.clone().map_or_else(GpuColumns::default, |g| GpuColumns {
            device_bytes: Some(g.device_bytes),
            reliable_updates: g.reliable_updates,
            reliable_fallback: g.reliable_fallback,
            reliable_update_count: Some(g.reliable_update_count),
            reliable_update_seconds: Some(g.reliable_update_seconds),
        });
        c.serialize(s)
    }

    /// A GPU solve's columns (`device_bytes` given), else `None`.
    fn deserialize_columns<'de, D: Deserializer<'de>>(d: D) -> Result<Option<GpuStats>, D::Error> {
        let c = GpuColumns::deserialize(d)?;
        Ok(c.device_bytes.map(|device_bytes| GpuStats {
            device_bytes,
            reliable_updates: c.reliable_updates,
            reliable_fallback: c.reliable_fallback,
            reliable_update_count: c.reliable_update_count.unwrap_or(0),
            reliable_update_seconds: c.reliable_update_seconds.unwrap_or(f64::NAN),
        }))
    }
}
