//! The finite-element problem and the CPU reference solver.
//!
//! Data flows one way through these modules:
//!
//! - [`mesh`]: the active nodes of a voxel grid and their occupancy
//!   patterns; [`hex8`]: the element.
//! - [`load`]: the load cases, each with its boundary conditions and its
//!   reported quantities.
//! - [`operator`]: the matrix-free stiffness K given by block rows;
//!   [`constrained`]: the constrained operator P K P + (I − P).
//! - [`precond`]: preconditioners (point Jacobi); [`multigrid`]: the
//!   geometric multigrid V-cycle.
//! - [`cg`]: PCG, the host loop and stop rule of every backend and the f64
//!   recurrence of the CPU.
//! - [`problem`]: a [`Problem`] (mesh, stencils, constraints, right-hand
//!   side) and [`Problem::finish`], which turns any backend's solution into
//!   a [`SolveResult`] ([`result`]).
//! - [`solver`]: one [`solver::LinearSolver`] set up on a system
//!   (operator and constraints) and called once per right-hand side, and
//!   the loaded specimen's solve ([`solver::Loaded`]) on any backend.
//! - [`cpu`]: [`Cpu`], the CPU backend (`crate::gpu::Gpu` is the other),
//!   and [`solve_cpu`], a loaded solve on it.

pub mod cg;
pub mod constrained;
pub mod cpu;
pub mod hex8;
pub mod load;
pub mod mesh;
pub mod multigrid;
pub mod operator;
pub mod options;
pub mod precond;
pub mod problem;
pub mod result;
pub mod solver;
pub mod vector;

pub use cpu::{solve_cpu, Cpu};
pub use options::{Preconditioner, SolverOptions};
pub use problem::Problem;
pub use result::{GpuStats, SolveError, SolveResult, Timing};
pub use vector::ordered_sum;
