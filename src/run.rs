//! Compatibility re-exports of the old `crate::run` paths, for code that
//! still names them (sweep, design, tests/gpu.rs, benches/solver.rs). The
//! pipeline lives in [`crate::pipeline`], the report in [`crate::report`],
//! the field writers in [`crate::fields`]. The lead removes this at merge.

pub use crate::fields::{slice_layer, FieldError};
pub use crate::pipeline::backend::solve_on_gpu;
pub use crate::pipeline::load::load_case;
pub use crate::pipeline::{run_scene, RunError};
pub use crate::report::RunReport;
