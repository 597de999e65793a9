//! [`GpuError`]: every way the GPU path fails (no adapter, a bad
//! `WGPU_BACKEND`, no device, a buffer over a limit, out of memory, a
//! shader that does not compile, a device error, a solve error), each
//! variant with the numbers that explain it.

use crate::fem::cg::PcgError;
use crate::fem::SolveError;

/// GPU failures, each with the numbers that explain it.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// No adapter with compute shaders among the requested backends, or
    /// none whose name holds `--adapter NAME`.
    #[error("no GPU adapter{}: found {found}", .requested.as_ref().map(|n| format!(" matching solver.adapter = '{n}'")).unwrap_or_default())]
    NoAdapter {
        /// The requested name (`--adapter` or `WGPU_ADAPTER_NAME`).
        requested: Option<String>,
        /// Every adapter found: name, backend and kind.
        found: String,
    },
    /// `WGPU_BACKEND` names a backend that is not one (wgpu itself would
    /// ignore it and find no adapter).
    #[error("WGPU_BACKEND = '{value}': '{unknown}' is not a backend; allowed: a comma-separated list of vulkan, metal, dx12, gl (or unset: all of them)")]
    BadBackendEnv {
        /// The variable's whole value.
        value: String,
        /// The first name in it that is not a backend.
        unknown: String,
    },
    /// `VOXFE_MAX_STORAGE_BINDING` is not a byte count of at least 4.
    #[error("VOXFE_MAX_STORAGE_BINDING = '{value}': not a byte count; allowed: an integer of at least 4 (bytes per storage binding; unset: the adapter's limit)")]
    BadBindingEnv { value: String },
    /// The chosen adapter refused a device with its own limits.
    #[error("the adapter '{adapter}' refused a device: {message}")]
    RequestDevice { adapter: String, message: String },
    /// A buffer (or a binding of one) is larger than an adapter limit,
    /// checked before anything is allocated.
    #[error(
        "buffer '{name}' needs {bytes} bytes, over the adapter's limit of {limit} bytes ({what})"
    )]
    TooLarge {
        /// The buffer, e.g. "apply_k neighbour window".
        name: &'static str,
        bytes: u64,
        limit: u64,
        /// The limit (e.g. `max_storage_buffer_binding_size`) and what to do.
        what: &'static str,
    },
    /// wgpu reported `OutOfMemory`: in the error scope around the
    /// allocation of a problem's buffers (`bytes`: all of them), or among
    /// the device's uncaptured errors (`bytes`: 0, not known).
    #[error("out of GPU memory allocating {bytes} bytes: {message}")]
    OutOfMemory { bytes: u64, message: String },
    /// A kernel's pipeline failed validation (`name`: file::entry point).
    #[error("shader '{name}' failed to compile: {message}")]
    ShaderCompile { name: String, message: String },
    /// The adapter lacks a feature a solve needs.
    #[error("the adapter '{adapter}' cannot run this: {what}")]
    Unsupported {
        adapter: String,
        /// What needs the feature, naming it.
        what: &'static str,
    },
    /// Any other device error (validation, internal, a failed buffer map).
    #[error("the GPU device failed: {0}")]
    Device(String),
    /// The problem could not be set up (mesh, constraints) or CG broke down.
    #[error(transparent)]
    Solve(#[from] SolveError),
}

impl From<PcgError> for GpuError {
    fn from(e: PcgError) -> GpuError {
        GpuError::Solve(SolveError::Pcg(e))
    }
}
