//! [`GpuError`]: every way the GPU path fails (no adapter, no device, a
//! buffer over a limit, out of memory, a shader that does not compile, a
//! device error, a solve error), each variant with the numbers that explain it.

use crate::fem::cg::PcgError;
use crate::fem::SolveError;

/// GPU failures, each with the numbers that explain it.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error("no GPU adapter{}: found {found}", .requested.as_ref().map(|n| format!(" matching --adapter '{n}'")).unwrap_or_default())]
    NoAdapter {
        requested: Option<String>,
        found: String,
    },
    #[error("the adapter '{adapter}' refused a device: {message}")]
    RequestDevice { adapter: String, message: String },
    #[error(
        "buffer '{name}' needs {bytes} bytes, over the adapter's limit of {limit} bytes ({what})"
    )]
    TooLarge {
        name: &'static str,
        bytes: u64,
        limit: u64,
        what: &'static str,
    },
    #[error("out of GPU memory allocating {bytes} bytes: {message}")]
    OutOfMemory { bytes: u64, message: String },
    #[error("shader '{name}' failed to compile: {message}")]
    ShaderCompile { name: String, message: String },
    #[error("the GPU device failed: {0}")]
    Device(String),
    #[error(transparent)]
    Solve(#[from] SolveError),
}

impl From<GpuError> for PcgError {
    fn from(e: GpuError) -> PcgError {
        PcgError::Backend(e.to_string())
    }
}
