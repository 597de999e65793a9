//! The discrete problem, shared by every backend.
//!
//! A [`Problem`] is built once from a voxel grid, a material and a load
//! case: the active-node mesh, the stencil table of the element stiffness
//! (refused when not finite: [`SolveError::NonFiniteStiffness`]), the
//! boundary conditions and the right-hand side `b = −K·u_D` (u_D: the
//! prescribed displacements). Any backend solves `A w = b` with the
//! constrained operator A ([`Problem::operator`]), and [`Problem::finish`]
//! turns `u = u_D + w` into the reported quantities, in f64 on the host,
//! whatever backend produced w:
//!
//! - reaction F = −Σ (K u)_z over the loaded nodes (F > 0 in compression);
//! - the load case's quantities ([`crate::fem::load`]);
//! - the true relative residual ‖b − A w‖ / ‖b‖;
//! - von Mises stress, SED and EES at every solid voxel centre
//!   ([`crate::strength::VoxelFields`]), the peak von Mises over the
//!   nominal stress and the volume percentiles of the strength estimates
//!   per newton. With sub-voxel fill a voxel's stress is the tissue stress
//!   D·ε of its solid part (not scaled by φ), so a thin partial voxel
//!   reports the stress its material carries.

use crate::fem::cg::PcgStats;
use crate::fem::constrained::Constrained;
use crate::fem::hex8;
use crate::fem::load::{Constraints, LoadCase};
use crate::fem::mesh::ActiveMesh;
use crate::fem::operator::residual;
use crate::fem::operator::{LinearOperator, StencilRows, StencilTable};
use crate::fem::options::Preconditioner;
use crate::fem::result::{SolveError, SolveResult, Timing};
use crate::fem::vector::norm_sq;
use crate::grid::VoxelGrid;
use crate::material::YoungPoisson;
use crate::strength::VoxelFields;

/// The constrained fine operator of a problem.
pub type FineOperator<'p> = Constrained<'p, StencilRows<'p>>;

/// The discrete problem, shared by every backend.
pub struct Problem<'g> {
    pub grid: &'g VoxelGrid,
    pub material: YoungPoisson,
    pub load: LoadCase,
    pub mesh: ActiveMesh,
    pub table: StencilTable,
    pub bc: Constraints,
    /// The element formulation of `table`.
    pub element: hex8::Element,
}

/// The element stiffness of `element` for `material` at voxel size `h`,
/// refused when an entry is not finite
/// ([`SolveError::NonFiniteStiffness`]): no solve starts from it.
pub fn finite_element_stiffness(
    element: hex8::Element,
    material: YoungPoisson,
    h: f64,
) -> Result<hex8::ElementMatrix, SolveError> {
    let ke = hex8::element_stiffness_of(element, material, h);
    if ke.iter().all(|k| k.is_finite()) {
        Ok(ke)
    } else {
        Err(SolveError::NonFiniteStiffness {
            e: material.e,
            nu: material.nu,
            h,
        })
    }
}

impl<'g> Problem<'g> {
    /// Builds the mesh, the stencils and the boundary conditions with the
    /// spec's trilinear hexahedron.
    pub fn new(
        grid: &'g VoxelGrid,
        material: YoungPoisson,
        load: &LoadCase,
    ) -> Result<Problem<'g>, SolveError> {
        Problem::with_element(grid, material, load, hex8::Element::Hex8)
    }

    /// [`Problem::new`] with the element formulation `element`.
    pub fn with_element(
        grid: &'g VoxelGrid,
        material: YoungPoisson,
        load: &LoadCase,
        element: hex8::Element,
    ) -> Result<Problem<'g>, SolveError> {
        let ke = finite_element_stiffness(element, material, grid.h)?;
        let mesh = ActiveMesh::new(grid)?;
        let table = StencilTable::new(&ke);
        let bc = load.constraints(&mesh)?;
        Ok(Problem {
            grid,
            material,
            load: load.clone(),
            mesh,
            table,
            bc,
            element,
        })
    }

    /// The constrained operator A = P K P + (I − P).
    pub fn operator(&self) -> FineOperator<'_> {
        Constrained::new(self.stiffness(), &self.bc.fixed)
    }

    /// The unconstrained stiffness K.
    pub fn stiffness(&self) -> StencilRows<'_> {
        StencilRows::new(&self.mesh, &self.table)
    }

    /// Number of free degrees of freedom.
    pub fn unknowns(&self) -> usize {
        3 * self.mesh.len() - self.bc.fixed_count()
    }

    /// Prescribed displacements u_D (zero on free dofs).
    pub fn prescribed(&self) -> Vec<f64> {
        let mut u = vec![0.0; 3 * self.mesh.len()];
        for &(dof, v) in &self.bc.values {
            u[dof] = v;
        }
        u
    }

    /// b = −K u_D on the free dofs, 0 on the fixed ones.
    pub fn rhs(&self) -> Vec<f64> {
        let ud = self.prescribed();
        let mut b = vec![0.0; ud.len()];
        self.stiffness().apply(&ud, &mut b);
        for (n, &f) in self.bc.fixed.iter().enumerate() {
            for c in 0..3 {
                b[3 * n + c] = if f & (1 << c) != 0 {
                    0.0
                } else {
                    -b[3 * n + c]
                };
            }
        }
        b
    }

    /// Turns the solution w of A w = b into the reported result.
    pub fn finish(
        &self,
        w: Vec<f64>,
        stats: PcgStats,
        tolerance: f64,
        timing: Timing,
        backend: &str,
        adapter: &str,
    ) -> SolveResult {
        let [nx, ny, nz] = self.grid.dims;
        let h = self.grid.h;
        let size = [nx as f64 * h, ny as f64 * h, nz as f64 * h];
        // The true residual, tested as the PCG loop tests it (exactly the
        // spec's ‖r‖ ≤ tol·‖b‖; the loop replaced its recursive residual by
        // this one before it stopped).
        let b = self.rhs();
        let (_, rr) = residual(&self.operator(), &b, &w);
        let bb = norm_sq(&b);
        let relative_residual = if bb > 0.0 { (rr / bb).sqrt() } else { 0.0 };
        let converged = stats.converged && rr <= tolerance * tolerance * bb;
        // Total displacement and reaction.
        let mut u = w;
        for &(dof, v) in &self.bc.values {
            u[dof] = v;
        }
        let mut ku = vec![0.0; u.len()];
        self.stiffness().apply(&u, &mut ku);
        let force: f64 = -self.bc.loaded.iter().map(|&n| ku[3 * n + 2]).sum::<f64>();
        let delta = self.bc.delta;
        let q = self.load.quantities(force, delta, size);
        let fields = VoxelFields::new(self.grid, self.material, &self.mesh, &u);
        let peak = fields.peak_von_mises() as f32 as f64;
        let pct = fields.percentiles(self.grid);
        let to_f32 = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
        let ok = |v: Option<f64>| v.filter(|_| converged);
        SolveResult {
            converged,
            e_eff: ok(q.e_eff),
            e_flex: ok(q.e_flex),
            flexural_stress_per_newton: q.flexural_stress_per_newton,
            reaction_force: ok(Some(force)),
            stiffness: ok(q.stiffness),
            apparent_modulus: ok(q.apparent_modulus),
            peak_von_mises_per_newton: ok(Some(peak / force)),
            delta,
            contact_width: self.bc.contact_width,
            active_nodes: self.mesh.len(),
            unknowns: self.unknowns(),
            iterations: stats.iterations,
            relative_residual,
            tolerance,
            solve_seconds: timing.solve_seconds,
            setup_seconds: timing.setup_seconds,
            iterations_seconds: timing.iterations_seconds,
            gpu: None,
            backend: backend.to_string(),
            adapter: adapter.to_string(),
            peak_von_mises_per_nominal: ok(Some(peak / q.nominal_stress)),
            von_mises_percentile_per_newton: ok(pct.von_mises.map(|s| s / force)),
            ees_percentile_per_newton: ok(pct.ees.map(|e| e / force)),
            preconditioner: Preconditioner::Jacobi,
            element: self.element,
            multigrid_levels: None,
            multigrid_bytes: None,
            von_mises: to_f32(&fields.von_mises),
            sed: to_f32(&fields.sed),
            ees: to_f32(&fields.ees),
            displacement: u,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fem::load::Platens;

    #[test]
    fn no_problem_is_built_from_a_non_finite_element_stiffness() {
        // Entries grow as E·h: 1e10 MPa × 1e300 mm overflows.
        let grid = VoxelGrid::full([1, 1, 1], 1e300);
        let material = YoungPoisson { e: 1e10, nu: 0.3 };
        let load = LoadCase::Compression {
            platens: Platens::Frictionless,
        };
        let Err(e) = Problem::new(&grid, material, &load) else {
            panic!("a problem with an infinite stiffness was built");
        };
        assert!(matches!(e, SolveError::NonFiniteStiffness { .. }), "{e}");
        assert!(e.is_bad_input());
        assert!(e.to_string().contains("not finite"), "{e}");
    }
}
