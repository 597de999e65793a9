//! J2 (von Mises) plasticity, small strain, linear isotropic hardening:
//! the stress update by radial return and its consistent tangent at one
//! integration point (Simo & Hughes 1998, box 3.2; de Souza Neto, Perić &
//! Owen 2008, box 7.4).
//!
//! Voigt order as [`crate::fem::hex8`]: strain `(εxx, εyy, εzz, γxy, γyz,
//! γzx)` with engineering shears, stress `(σxx, σyy, σzz, τxy, τyz, τzx)`.
//! With the bulk modulus K, the shear modulus G, yield strength σ_y and
//! hardening modulus H (the slope of the yield stress over the equivalent
//! plastic strain ᾱ):
//!
//! ```text
//! εe = ε − εp_n,  s* = 2G dev εe,  q* = √(3/2)|s*|,
//! f = q* − (σ_y + H ᾱ_n)
//! f ≤ 0:  σ = K tr εe I + s*,                     tangent D (elastic)
//! f > 0:  Δγ = f / (3G + H),  N = s*/|s*|,
//!         s = (1 − 3GΔγ/q*) s*,  εp = εp_n + √(3/2) Δγ N,  ᾱ = ᾱ_n + Δγ,
//!         C = K I⊗I + 2G(1 − 3GΔγ/q*) I_dev + 6G²(Δγ/q* − 1/(3G+H)) N⊗N.
//! ```
//!
//! In uniaxial stress this is the bilinear curve: slope E to σ_y, then
//! E·H/(E + H). Plastic flow is isochoric (tr εp = 0).

use crate::material::{LameParameters, YoungPoisson};

/// A Voigt 6-vector.
pub type Voigt = [f64; 6];

/// The J2 material: elasticity, yield strength σ_y and linear isotropic
/// hardening H (MPa; 0 is perfectly plastic).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct J2 {
    pub elastic: YoungPoisson,
    /// Initial yield strength σ_y, MPa.
    pub yield_strength: f64,
    /// Hardening modulus H = dσ_y/dᾱ, MPa.
    pub hardening: f64,
}

/// The plastic state of one integration point: plastic strain εp (Voigt,
/// engineering shears) and the equivalent plastic strain ᾱ.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct State {
    pub plastic_strain: Voigt,
    pub alpha: f64,
}

/// The consistent tangent at one point in compact form:
/// `C dε = K tr(dε) m + a dev(dε) + b N (N·dε)`, `dev(dε)` taken
/// stress-like (shears halved), `N` the unit flow direction (stress-like
/// Voigt). Elastic points have `a = 2G`, `b = 0`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tangent {
    pub a: f64,
    pub b: f64,
    pub n: Voigt,
}

/// A [`Tangent`] as the CPU's tangent apply stores it, in f32: 32 B a
/// point where f64 took 64. Every PCG iteration of a Newton step reads all
/// of them, and reading them was most of the apply's time (the apply of the
/// shipped scene's 208 488 bricks: 41 → 33 ms). The device stores the same
/// (`shaders/plastic_tangent.wgsl`). The rounding (6·10⁻⁸ of each value)
/// leaves the operator symmetric and is far inside a Newton step's PCG
/// tolerance (η = 0.1); the forces and the residual stay f64.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PackedTangent {
    a: f32,
    b: f32,
    n: [f32; 6],
}

impl From<Tangent> for PackedTangent {
    fn from(t: Tangent) -> PackedTangent {
        PackedTangent {
            a: t.a as f32,
            b: t.b as f32,
            n: t.n.map(|v| v as f32),
        }
    }
}

impl PackedTangent {
    /// a, b and N as stored.
    #[inline(always)]
    pub fn parts(&self) -> (f32, f32, [f32; 6]) {
        (self.a, self.b, self.n)
    }

    /// The tangent in f64.
    #[inline(always)]
    pub fn unpack(&self) -> Tangent {
        Tangent {
            a: self.a as f64,
            b: self.b as f64,
            n: self.n.map(|v| v as f64),
        }
    }
}

/// The result of a stress update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Update {
    pub stress: Voigt,
    pub state: State,
    pub tangent: Tangent,
    /// Whether the point is yielding in this step.
    pub plastic: bool,
}

impl J2 {
    /// Bulk and shear modulus K, G.
    #[inline(always)]
    pub fn moduli(&self) -> (f64, f64) {
        let l = LameParameters::from(self.elastic);
        (l.lambda + 2.0 * l.mu / 3.0, l.mu)
    }

    /// The elastic tangent (a = 2G, b = 0).
    pub fn elastic_tangent(&self) -> Tangent {
        let (_, g) = self.moduli();
        Tangent {
            a: 2.0 * g,
            b: 0.0,
            n: [0.0; 6],
        }
    }

    /// Radial return from the converged state `old` for the total strain
    /// `strain`.
    #[inline(always)]
    pub fn update(&self, strain: &Voigt, old: &State) -> Update {
        let (k, g) = self.moduli();
        let mut ee = [0.0; 6];
        for i in 0..6 {
            ee[i] = strain[i] - old.plastic_strain[i];
        }
        let tr = ee[0] + ee[1] + ee[2];
        // Trial deviatoric stress, stress-like Voigt.
        let mut s = [0.0; 6];
        for i in 0..3 {
            s[i] = 2.0 * g * (ee[i] - tr / 3.0);
            s[i + 3] = g * ee[i + 3];
        }
        let norm = norm(&s);
        let q = (1.5f64).sqrt() * norm;
        let f = q - (self.yield_strength + self.hardening * old.alpha);
        let p = k * tr;
        if f <= 0.0 || norm == 0.0 {
            let mut stress = s;
            for v in stress.iter_mut().take(3) {
                *v += p;
            }
            return Update {
                stress,
                state: *old,
                tangent: self.elastic_tangent(),
                plastic: false,
            };
        }
        let dgamma = f / (3.0 * g + self.hardening);
        let n = s.map(|v| v / norm);
        let shrink = 1.0 - 3.0 * g * dgamma / q;
        let mut stress = s.map(|v| shrink * v);
        for v in stress.iter_mut().take(3) {
            *v += p;
        }
        let mut state = *old;
        let flow = (1.5f64).sqrt() * dgamma;
        for (i, (ep, ni)) in state.plastic_strain.iter_mut().zip(n).enumerate() {
            // Engineering shears: twice the tensor component.
            let eng = if i < 3 { 1.0 } else { 2.0 };
            *ep += flow * eng * ni;
        }
        state.alpha += dgamma;
        Update {
            stress,
            state,
            tangent: Tangent {
                a: 2.0 * g * shrink,
                b: 6.0 * g * g * (dgamma / q - 1.0 / (3.0 * g + self.hardening)),
                n,
            },
            plastic: true,
        }
    }
}

/// The tensor norm of a stress-like Voigt deviator: √(Σ s_ii² + 2 Σ s_ij²).
#[inline(always)]
fn norm(s: &Voigt) -> f64 {
    (s[0] * s[0] + s[1] * s[1] + s[2] * s[2] + 2.0 * (s[3] * s[3] + s[4] * s[4] + s[5] * s[5]))
        .sqrt()
}

impl Tangent {
    /// dσ = C dε (dε engineering Voigt), with bulk modulus `k`.
    #[inline(always)]
    pub fn apply(&self, k: f64, de: &Voigt) -> Voigt {
        let tr = de[0] + de[1] + de[2];
        let nd = self.n[0] * de[0]
            + self.n[1] * de[1]
            + self.n[2] * de[2]
            + self.n[3] * de[3]
            + self.n[4] * de[4]
            + self.n[5] * de[5];
        let mut out = [0.0; 6];
        for i in 0..3 {
            out[i] = k * tr + self.a * (de[i] - tr / 3.0) + self.b * self.n[i] * nd;
            out[i + 3] = 0.5 * self.a * de[i + 3] + self.b * self.n[i + 3] * nd;
        }
        out
    }
}

/// Von Mises equivalent stress of a Voigt stress.
pub fn von_mises(s: &Voigt) -> f64 {
    let m = (s[0] + s[1] + s[2]) / 3.0;
    let d = [s[0] - m, s[1] - m, s[2] - m, s[3], s[4], s[5]];
    (1.5f64).sqrt() * norm(&d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steel(h: f64) -> J2 {
        J2 {
            elastic: YoungPoisson {
                e: 200_000.0,
                nu: 0.3,
            },
            yield_strength: 250.0,
            hardening: h,
        }
    }

    /// Uniaxial stress by a strain path: σxx = σzz... = 0 except zz, found
    /// by Newton on the lateral strains with the consistent tangent.
    fn uniaxial(m: &J2, ezz: f64, old: &State) -> Update {
        let (k, _) = m.moduli();
        let mut e = [0.0, 0.0, ezz, 0.0, 0.0, 0.0];
        for _ in 0..30 {
            let u = m.update(&e, old);
            if u.stress[0].abs().max(u.stress[1].abs()) < 1e-10 * m.yield_strength {
                return u;
            }
            // 2×2 lateral tangent, symmetric in x and y: solve for a common
            // lateral strain increment.
            let c = |i: usize, j: usize| {
                let mut d = [0.0; 6];
                d[j] = 1.0;
                u.tangent.apply(k, &d)[i]
            };
            let (cxx, cxy) = (c(0, 0), c(0, 1));
            let dl = -u.stress[0] / (cxx + cxy);
            e[0] += dl;
            e[1] += dl;
        }
        panic!("uniaxial stress did not converge at ezz = {ezz}");
    }

    #[test]
    fn radial_return_follows_the_bilinear_uniaxial_curve_exactly() {
        for h in [0.0, 5_000.0] {
            let m = steel(h);
            let e = m.elastic.e;
            let ey = m.yield_strength / e;
            let mut state = State::default();
            for step in 1..=40 {
                let ezz = -(step as f64) * 0.25 * ey;
                let u = uniaxial(&m, ezz, &state);
                state = u.state;
                let strain = -ezz;
                let want = if strain <= ey {
                    e * strain
                } else {
                    m.yield_strength + e * h / (e + h) * (strain - ey)
                };
                let got = -u.stress[2];
                assert!(
                    (got - want).abs() <= 1e-9 * want,
                    "H {h}, ε {strain}: σ {got} vs {want}"
                );
                // The yield surface holds the stress once plastic.
                if strain > ey * (1.0 + 1e-9) {
                    let vm = von_mises(&u.stress);
                    let surface = m.yield_strength + h * state.alpha;
                    assert!((vm - surface).abs() <= 1e-9 * surface);
                }
            }
            // Plastic flow is isochoric.
            let p = state.plastic_strain;
            assert!((p[0] + p[1] + p[2]).abs() < 1e-14);
        }
    }

    /// The tangent is the derivative of the stress update: central finite
    /// differences of `update` along every strain component, at an elastic
    /// point and at plastic ones with and without hardening.
    #[test]
    fn consistent_tangent_matches_finite_differences_of_the_update() {
        let old = State {
            plastic_strain: [1e-4, -3e-4, 2e-4, 5e-5, -1e-4, 2e-5],
            alpha: 3e-4,
        };
        let strain = [1.5e-3, -2.2e-3, 4e-4, 1.1e-3, -6e-4, 9e-4];
        for (h, scale, plastic) in [(0.0, 1.0, true), (3_000.0, 1.0, true), (0.0, 0.05, false)] {
            let m = steel(h);
            let (k, _) = m.moduli();
            let e = strain.map(|v| v * scale);
            let u = m.update(&e, &old);
            assert_eq!(u.plastic, plastic);
            let step = 1e-9;
            for j in 0..6 {
                let (mut ep, mut em) = (e, e);
                ep[j] += step;
                em[j] -= step;
                let (sp, sm) = (m.update(&ep, &old).stress, m.update(&em, &old).stress);
                let mut d = [0.0; 6];
                d[j] = 1.0;
                let c = u.tangent.apply(k, &d);
                for i in 0..6 {
                    let fd = (sp[i] - sm[i]) / (2.0 * step);
                    assert!(
                        (fd - c[i]).abs() <= 1e-5 * m.elastic.e,
                        "H {h} scale {scale}: C[{i}][{j}] = {} vs FD {fd}",
                        c[i]
                    );
                }
            }
        }
    }

    #[test]
    fn the_tangent_is_symmetric_and_perfect_plasticity_has_no_stiffness_along_the_flow() {
        let m = steel(0.0);
        let (k, _) = m.moduli();
        let u = m.update(&[3e-3, -1e-3, -2e-3, 1e-3, 0.0, 5e-4], &State::default());
        assert!(u.plastic);
        // Engineering-strain direction of the flow: N with doubled shears.
        let n = u.tangent.n;
        let dn = [n[0], n[1], n[2], 2.0 * n[3], 2.0 * n[4], 2.0 * n[5]];
        let cn = u.tangent.apply(k, &dn);
        assert!(cn.iter().all(|v| v.abs() < 1e-9 * m.elastic.e), "{cn:?}");
        for i in 0..6 {
            for j in 0..6 {
                let mut di = [0.0; 6];
                let mut dj = [0.0; 6];
                di[i] = 1.0;
                dj[j] = 1.0;
                let (cij, cji) = (u.tangent.apply(k, &dj)[i], u.tangent.apply(k, &di)[j]);
                assert!((cij - cji).abs() < 1e-9 * m.elastic.e);
            }
        }
    }
}
