//! Elastoplastic (J2) compression and bending of a voxel specimen
//! (`shared/spec/conventions.md`, "Elastoplastic compression (J2)").
//!
//! - [`material`]: the J2 stress update (radial return, linear isotropic
//!   hardening) and its consistent tangent at one point;
//! - [`elements`]: the solid voxels as hex8 bricks with 2×2×2 Gauss points,
//!   internal forces and the tangent's action, matrix-free, and the rule for
//!   partial voxels;
//! - [`engine`]: where the stress update and the PCG on the tangent run,
//!   the CPU or a GPU;
//! - [`solve`]: displacement-controlled increments, Newton per increment,
//!   PCG on the tangent preconditioned by the elastic multigrid, cut-backs;
//! - [`curve`]: σ_0.2 (ISO 13314 offset) and the first maximum of a curve;
//! - [`spec`]: the scene's `[plastic]` table;
//! - [`run`]: a scene's plastic run and its report (text, JSON, CSV);
//!   [`plot`]: its stress–strain plot.

pub mod curve;
pub mod elements;
pub mod engine;
pub mod material;
pub mod plot;
pub mod run;
pub mod solve;
pub mod spec;
