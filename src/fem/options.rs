//! Solver settings, one set for every backend (`[solver]` in a scene).

pub use crate::fem::hex8::Element;

/// The CG preconditioner (`solver.preconditioner`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preconditioner {
    /// Point Jacobi, D⁻¹ (both backends).
    Jacobi,
    /// One geometric multigrid V-cycle ([`crate::fem::multigrid`]; both
    /// backends), the default.
    #[default]
    Multigrid,
}

/// How to solve: stop rule, iteration limit, preconditioner.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SolverOptions {
    /// Stop when ‖r‖ ≤ tolerance·‖b‖.
    pub tolerance: f64,
    /// A solve that reaches this many iterations is not converged.
    pub max_iterations: usize,
    /// GPU: read ‖r‖ back every this many iterations (a backend may check
    /// more often: the CPU every iteration, the GPU multigrid at least every
    /// `crate::gpu::MULTIGRID_CHECK_EVERY`).
    pub check_every: usize,
    pub preconditioner: Preconditioner,
    /// The element formulation of the stiffness ([`Element`]).
    pub element: Element,
}

impl Default for SolverOptions {
    fn default() -> Self {
        SolverOptions {
            tolerance: 1e-6,
            max_iterations: 20000,
            check_every: 25,
            preconditioner: Preconditioner::Multigrid,
            element: Element::Hex8,
        }
    }
}
