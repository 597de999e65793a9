//! Finite-element pieces shared by the CPU and GPU solvers.
pub mod hex8;
