//! The commands of the `voxfe` binary, one module per group: what each
//! runs through the library, what it prints and its exit status. The clap
//! definitions, `main` and the error-to-exit-status mapping stay in
//! `main.rs`.

use super::*;

mod calibrate;
mod homogenize;
mod run;
mod study;
mod sweep;

pub(crate) use calibrate::cmd_calibrate;
pub(crate) use homogenize::{cmd_homogenize, homogenize_one};
pub(crate) use run::{cmd_export_stl, cmd_run, cmd_voxelize};
pub(crate) use study::{cmd_converge, cmd_design};
pub(crate) use sweep::{cmd_merge, cmd_sweep};
