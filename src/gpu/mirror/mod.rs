//! CPU mirrors of the WGSL kernels, one file per shader as in `shaders/`
//! (`shaders/apply_k.wgsl` ↔ `mirror/apply_k.rs`, a shared WGSL file ↔ a
//! file of the same name): the same names, inputs and loop shapes, in f32
//! (the reliable-update kernels in f64 or double-single, `plastic_update`
//! in f64), so each kernel can be checked against its mirror on random
//! input (`tests/gpu.rs`, `tests/gpu_galerkin.rs`, `tests/gpu_mg_split.rs`,
//! `tests/gpu_reliable.rs`, `tests/gpu_plastic.rs`). A "workgroup" here is a plain loop over its
//! invocations; tree reductions add in the same order.
//!
//! The mirrors read the ABI (uniform structs, scalar slots, workgroup
//! sizes, `NO_NODE`) from [`super::abi`], as the host does; nothing here
//! is used by the host's solver.
// Index loops are kept on purpose: they read like the shaders' loops.
#![allow(clippy::needless_range_loop)]

pub mod apply_k;
pub mod dot_partial;
pub mod jacobi_diag;
pub mod mg_apply;
pub mod mg_coarse;
pub mod mg_galerkin_diag;
pub mod mg_galerkin_fine;
mod mg_galerkin_row;
pub mod mg_galerkin_stencil;
pub mod mg_smooth;
pub mod mg_transfer;
pub mod plastic_brick;
pub mod plastic_tangent;
pub mod plastic_update;
pub mod reduce_alpha;
pub mod reduce_beta;
pub mod reliable_body;
mod reliable_ds;
mod reliable_f64;
pub mod update_p;
pub mod update_pz;
pub mod update_xr;
mod workgroup;

pub use apply_k::{apply_k, FillBindings};
pub use dot_partial::{dot_pair, dot_partial};
pub use jacobi_diag::jacobi_diag;
pub use mg_apply::mg_apply;
pub use mg_coarse::mg_coarse_solve;
pub use mg_galerkin_diag::{mg_fine_inverse_diagonal, mg_stencil_inverse_diagonal};
pub use mg_galerkin_fine::mg_galerkin_fine;
pub use mg_galerkin_stencil::mg_galerkin_stencil;
pub use mg_smooth::{mg_chebyshev, mg_residual};
pub use mg_transfer::{mg_prolong, mg_restrict};
pub use plastic_tangent::{tangent_brick, tangent_gather, TangentBindings};
pub use plastic_update::{plastic_force, plastic_update, UpdateBindings};
pub use reduce_alpha::reduce_alpha;
pub use reduce_beta::{reduce_beta, reduce_start};
pub use reliable_body::Hi;
pub use update_p::update_p;
pub use update_pz::update_pz;
pub use update_xr::update_xr;
