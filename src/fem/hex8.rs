//! The 8-node trilinear hexahedron on a cubic voxel of edge `h`.
//!
//! Local node `a = ax + 2·ay + 4·az` sits at the voxel corner
//! `(ax, ay, az)·h`, `ax, ay, az ∈ {0, 1}`, the same offsets the grid's node
//! ids use, so node `a` of voxel `(i, j, k)` is grid node
//! `(i + ax, j + ay, k + az)`. Its natural coordinates are
//! `(ξa, ηa, ζa) = (2ax − 1, 2ay − 1, 2az − 1)` and its shape function
//!
//! ```text
//! Na(ξ, η, ζ) = ⅛ (1 + ξ ξa)(1 + η ηa)(1 + ζ ζa).
//! ```
//!
//! On a cube `∂/∂x = (2/h) ∂/∂ξ` and `det J = (h/2)³`. With the strain–
//! displacement matrix `B` (6×24, Voigt order `εxx, εyy, εzz, γxy, γyz, γzx`,
//! degree of freedom `3a + c` for component `c` of node `a`) and the
//! elasticity matrix `D` of [`crate::material`], the element stiffness is
//!
//! ```text
//! Ke = Σ_g Bᵀ(ξg) D B(ξg) det J,   ξg ∈ {±1/√3}³, weights 1,
//! ```
//!
//! so `Ke` scales as `E·h` and every solid voxel has the same `Ke`.
//!
//! [`Element::Incompatible`] is the same hexahedron enriched with Wilson's
//! incompatible modes (Wilson, Taylor, Doherty & Ghaboussi 1973; Abaqus'
//! C3D8I): nine internal degrees of freedom α, the bubble functions
//! `1 − ξ², 1 − η², 1 − ζ²` for each displacement component, removed by
//! static condensation,
//!
//! ```text
//! Ke = Kuu − Kuα Kαα⁻¹ Kαu,   K·· = Σ_g (·)ᵀ D (·) det J  (2×2×2 Gauss),
//! ```
//!
//! with G the 6×9 strain matrix of the modes. The plain trilinear brick
//! locks in bending: a strut a few voxels across, bent, is much too stiff.
//! The modes reproduce pure bending of a brick exactly; on a cube J is
//! constant, so the element passes the patch test (a uniform strain leaves
//! α = 0: `Σ_g G(ξg) = 0`) and a solid block still gives E exactly. The
//! modes' gradients vanish at ξ = 0, so the voxel-centre strain of both
//! elements is `B(0)·ue`. Every voxel still shares one `Ke`: the stencil
//! table, the GPU kernels and the multigrid take it unchanged.

use crate::material::YoungPoisson;
use nalgebra::{SMatrix, SVector};

/// 24×24 element stiffness matrix.
pub type ElementMatrix = SMatrix<f64, 24, 24>;
/// 6×24 strain–displacement matrix.
pub type BMatrix = SMatrix<f64, 6, 24>;

/// Corner offset `(ax, ay, az)` of local node `a`.
#[inline]
pub const fn corner(a: usize) -> [usize; 3] {
    [a & 1, (a >> 1) & 1, (a >> 2) & 1]
}

/// Gradients of the 8 shape functions with respect to x, y, z at natural
/// coordinates `xi`, on a cube of edge `h`.
pub fn shape_gradients(xi: [f64; 3], h: f64) -> [[f64; 3]; 8] {
    let mut g = [[0.0; 3]; 8];
    for (a, ga) in g.iter_mut().enumerate() {
        let c = corner(a);
        let s = [
            2.0 * c[0] as f64 - 1.0,
            2.0 * c[1] as f64 - 1.0,
            2.0 * c[2] as f64 - 1.0,
        ];
        let f = [1.0 + xi[0] * s[0], 1.0 + xi[1] * s[1], 1.0 + xi[2] * s[2]];
        // dN/dξ = ⅛ sξ (1+ηηa)(1+ζζa), then × 2/h.
        let k = 0.125 * 2.0 / h;
        ga[0] = k * s[0] * f[1] * f[2];
        ga[1] = k * s[1] * f[0] * f[2];
        ga[2] = k * s[2] * f[0] * f[1];
    }
    g
}

/// The strain–displacement matrix B at natural coordinates `xi`.
pub fn strain_displacement(xi: [f64; 3], h: f64) -> BMatrix {
    let g = shape_gradients(xi, h);
    let mut b = BMatrix::zeros();
    for (a, ga) in g.iter().enumerate() {
        let col = 3 * a;
        b[(0, col)] = ga[0];
        b[(1, col + 1)] = ga[1];
        b[(2, col + 2)] = ga[2];
        // γxy = ∂ux/∂y + ∂uy/∂x
        b[(3, col)] = ga[1];
        b[(3, col + 1)] = ga[0];
        // γyz = ∂uy/∂z + ∂uz/∂y
        b[(4, col + 1)] = ga[2];
        b[(4, col + 2)] = ga[1];
        // γzx = ∂uz/∂x + ∂ux/∂z
        b[(5, col)] = ga[2];
        b[(5, col + 2)] = ga[0];
    }
    b
}

/// The element formulation (`solver.element`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Element {
    /// The trilinear hexahedron, 2×2×2 Gauss (the classic voxel-FE
    /// element).
    Hex8,
    /// The trilinear hexahedron with Wilson's incompatible modes, condensed
    /// (the spec's default).
    #[default]
    Incompatible,
}

impl Element {
    /// The name as the scene spells it.
    pub fn name(self) -> &'static str {
        match self {
            Element::Hex8 => "hex8",
            Element::Incompatible => "incompatible",
        }
    }
}

/// 6×9 strain matrix of the incompatible modes.
type GMatrix = SMatrix<f64, 6, 9>;

/// The 2×2×2 Gauss points, weights 1.
fn gauss_points() -> [[f64; 3]; 8] {
    let gp = 1.0 / 3f64.sqrt();
    std::array::from_fn(|g| {
        let c = corner(g);
        [
            gp * (2.0 * c[0] as f64 - 1.0),
            gp * (2.0 * c[1] as f64 - 1.0),
            gp * (2.0 * c[2] as f64 - 1.0),
        ]
    })
}

/// Strains of the incompatible modes at `xi`: mode `k` of component `c` is
/// internal dof `3k + c`, with shape `1 − ξk²`, whose only gradient is
/// `∂/∂xk = −2 ξk · 2/h`.
fn mode_strains(xi: [f64; 3], h: f64) -> GMatrix {
    let mut g = GMatrix::zeros();
    for k in 0..3 {
        let mut grad = [0.0; 3];
        grad[k] = -2.0 * xi[k] * 2.0 / h;
        let col = 3 * k;
        g[(0, col)] = grad[0];
        g[(1, col + 1)] = grad[1];
        g[(2, col + 2)] = grad[2];
        g[(3, col)] = grad[1];
        g[(3, col + 1)] = grad[0];
        g[(4, col + 1)] = grad[2];
        g[(4, col + 2)] = grad[1];
        g[(5, col)] = grad[2];
        g[(5, col + 2)] = grad[0];
    }
    g
}

/// The element stiffness matrix of a solid voxel of edge `h` (2×2×2 Gauss).
pub fn element_stiffness(material: YoungPoisson, h: f64) -> ElementMatrix {
    element_stiffness_of(Element::Hex8, material, h)
}

/// The element stiffness matrix of a solid voxel of edge `h` for `element`.
/// `None` never: a singular Kαα (a non-physical material) gives non-finite
/// entries, which [`crate::fem::Problem::new`] refuses.
pub fn element_stiffness_of(element: Element, material: YoungPoisson, h: f64) -> ElementMatrix {
    let d = material.elasticity_matrix();
    let det_j = (h / 2.0).powi(3);
    let mut ke = ElementMatrix::zeros();
    let mut kua = SMatrix::<f64, 24, 9>::zeros();
    let mut kaa = SMatrix::<f64, 9, 9>::zeros();
    for xi in gauss_points() {
        let b = strain_displacement(xi, h);
        ke += b.transpose() * d * b * det_j;
        if element == Element::Incompatible {
            let g = mode_strains(xi, h);
            kua += b.transpose() * d * g * det_j;
            kaa += g.transpose() * d * g * det_j;
        }
    }
    if element == Element::Incompatible {
        match kaa.try_inverse() {
            Some(inv) => ke -= kua * inv * kua.transpose(),
            None => ke.fill(f64::NAN),
        }
    }
    // Symmetrize away rounding so that Ke is exactly symmetric.
    (ke + ke.transpose()) * 0.5
}

/// Stress (Voigt, MPa) at the voxel centre for element displacements `ue`.
pub fn centre_stress(material: YoungPoisson, h: f64, ue: &SVector<f64, 24>) -> SVector<f64, 6> {
    let b = strain_displacement([0.0; 3], h);
    material.elasticity_matrix() * (b * ue)
}

/// Von Mises equivalent stress of a Voigt stress vector.
pub fn von_mises(s: &SVector<f64, 6>) -> f64 {
    let (sx, sy, sz, txy, tyz, tzx) = (s[0], s[1], s[2], s[3], s[4], s[5]);
    (0.5 * ((sx - sy).powi(2) + (sy - sz).powi(2) + (sz - sx).powi(2))
        + 3.0 * (txy * txy + tyz * tyz + tzx * tzx))
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn stiffness_is_symmetric_and_kills_rigid_translations() {
        let ke = element_stiffness(YoungPoisson::tantalum(), 0.05);
        assert_eq!(ke, ke.transpose());
        for c in 0..3 {
            let mut u = SVector::<f64, 24>::zeros();
            for a in 0..8 {
                u[3 * a + c] = 1.0;
            }
            let f = ke * u;
            assert!(f.amax() < 1e-9 * ke.amax(), "translation {c}: {}", f.amax());
        }
    }

    #[test]
    fn uniform_strain_gives_uniform_stress() {
        let m = YoungPoisson::tantalum();
        let h = 0.1;
        // u = (0, 0, −e z): uniaxial strain εzz = −e.
        let e = 1e-3;
        let mut u = SVector::<f64, 24>::zeros();
        for a in 0..8 {
            u[3 * a + 2] = -e * corner(a)[2] as f64 * h;
        }
        let s = centre_stress(m, h, &u);
        let d = m.elasticity_matrix();
        assert_relative_eq!(s[2], -e * d[(2, 2)], max_relative = 1e-12);
        assert_relative_eq!(s[0], -e * d[(0, 2)], max_relative = 1e-12);
    }

    /// Nodal displacements of the field `f` at the corners of a voxel of
    /// edge `h` centred at the origin.
    fn nodal(h: f64, f: impl Fn([f64; 3]) -> [f64; 3]) -> SVector<f64, 24> {
        let mut u = SVector::<f64, 24>::zeros();
        for a in 0..8 {
            let c = corner(a);
            let x = [0, 1, 2].map(|q| (c[q] as f64 - 0.5) * h);
            let v = f(x);
            for q in 0..3 {
                u[3 * a + q] = v[q];
            }
        }
        u
    }

    #[test]
    fn incompatible_modes_keep_rigid_modes_symmetry_and_uniform_strain() {
        let m = YoungPoisson::tantalum();
        let h = 0.05;
        let k8 = element_stiffness(m, h);
        let ki = element_stiffness_of(Element::Incompatible, m, h);
        assert_eq!(ki, ki.transpose());
        assert_eq!(element_stiffness_of(Element::Hex8, m, h), k8);
        // Rigid translations and rotations carry no force.
        let rigid: [fn([f64; 3]) -> [f64; 3]; 6] = [
            |_| [1.0, 0.0, 0.0],
            |_| [0.0, 1.0, 0.0],
            |_| [0.0, 0.0, 1.0],
            |x| [-x[1], x[0], 0.0],
            |x| [0.0, -x[2], x[1]],
            |x| [x[2], 0.0, -x[0]],
        ];
        for (r, f) in rigid.iter().enumerate() {
            let force = ki * nodal(h, f);
            assert!(force.amax() < 1e-9 * ki.amax(), "rigid mode {r}");
        }
        // Patch test: a uniform strain leaves the modes idle, so both
        // elements give the same nodal forces.
        let u = nodal(h, |x| {
            [1e-3 * x[0] + 2e-4 * x[1], -3e-4 * x[2], 5e-4 * x[0]]
        });
        let (f8, fi) = (k8 * u, ki * u);
        assert!((f8 - fi).amax() < 1e-9 * f8.amax(), "patch test");
    }

    #[test]
    fn incompatible_modes_bend_a_brick_exactly_where_the_trilinear_one_locks() {
        // Pure bending about y, ν = 0: u_x = κ x z, u_z = −κ x²/2 has
        // εxx = κ z and nothing else; its energy in the voxel is
        // ½ E κ² ∫ z² dV = E κ² h⁵ / 24. The nodal u_z is the same at every
        // corner (a translation), so the nodal vector is u_x = κ x z alone.
        let m = YoungPoisson { e: 1000.0, nu: 0.0 };
        let (h, kappa) = (0.2, 0.01);
        let u = nodal(h, |x| [kappa * x[0] * x[2], 0.0, 0.0]);
        let exact = m.e * kappa * kappa * h.powi(5) / 24.0;
        let energy = |k: ElementMatrix| 0.5 * u.dot(&(k * u));
        let inc = energy(element_stiffness_of(Element::Incompatible, m, h));
        let tri = energy(element_stiffness_of(Element::Hex8, m, h));
        assert_relative_eq!(inc, exact, max_relative = 1e-12);
        // The trilinear brick adds the parasitic shear γxz = κ x: locking.
        assert!(tri > 1.5 * exact, "hex8 {tri} vs exact {exact}");
    }
}
