//! Periodic homogenization (spec, "Periodic homogenization"): the 6×6
//! stiffness C^H of a lattice cell from six solves with periodic
//! fluctuations, and what is derived from it.
//!
//! - [`tensor`]: the homogenized stiffness [`tensor::Stiffness`] (Voigt
//!   order 11, 22, 33, 23, 13, 12, engineering shear strains, MPa), its
//!   compliance, engineering constants, symmetry and cubic anisotropy,
//!   and the [`tensor::Homogenized`] summary a run reports.
//! - [`directional`]: the directional Young's modulus E(d), its extremes
//!   over the sphere and its cuts in the coordinate planes.
//! - [`polar`]: the picture of those cuts (PNG and SVG).
//! - [`solve`]: the periodic cell problem ([`solve::PeriodicProblem`]), its
//!   six solves on the CPU or the GPU and C^H ([`solve::Homogenization`]).
//! - [`run`]: a periodic scene (`load.case = "periodic"`) voxelized and
//!   homogenized on a backend ([`run::HomogenizeReport`]).
//! - [`crate::calibration`] uses it: the fraction exponent of a lattice at
//!   a voxel size, from periodic cells (`voxfe calibrate`).

pub mod directional;
pub mod polar;
pub mod run;
pub mod solve;
pub mod tensor;
mod text;
