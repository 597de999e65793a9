// The brick kinematics of the plastic kernels, shared by
// plastic_update.wgsl (Real = f64) and plastic_tangent.wgsl (Real = f32):
// the strains of the 2×2×2 Gauss points from the element displacements,
// the mean-dilatation shift (B̄) of strains or stresses, and w·Σ_g B_gᵀσ_g.
// The including file defines `Real` and `grad(g, a, i)`, ∇N_a at Gauss
// point g (src/plastic/elements.rs `Bricks`, term for term).
// CPU mirror: src/gpu/mirror/plastic_brick.rs.

// Engineering strains of the 8 points, 6 each: (εxx, εyy, εzz, γxy, γyz, γzx).
fn brick_strains(ue: array<Real, 24>) -> array<Real, 48> {
    var eps: array<Real, 48>;
    for (var g = 0u; g < 8u; g = g + 1u) {
        var s: array<Real, 6>;
        for (var a = 0u; a < 8u; a = a + 1u) {
            let g0 = grad(g, a, 0u);
            let g1 = grad(g, a, 1u);
            let g2 = grad(g, a, 2u);
            let u0 = ue[3u * a];
            let u1 = ue[3u * a + 1u];
            let u2 = ue[3u * a + 2u];
            s[0] = s[0] + g0 * u0;
            s[1] = s[1] + g1 * u1;
            s[2] = s[2] + g2 * u2;
            s[3] = s[3] + (g1 * u0 + g0 * u1);
            s[4] = s[4] + (g2 * u1 + g1 * u2);
            s[5] = s[5] + (g2 * u0 + g0 * u2);
        }
        for (var i = 0u; i < 6u; i = i + 1u) {
            eps[6u * g + i] = s[i];
        }
    }
    return eps;
}

// B̄: each point's volumetric part (trace / 3 on the normal components)
// replaced by the mean over the 8 points, for strains and stresses alike.
fn mean_dilatation(values: array<Real, 48>) -> array<Real, 48> {
    var v = values;
    var mean = Real(0.0);
    for (var g = 0u; g < 8u; g = g + 1u) {
        mean = mean + (v[6u * g] + v[6u * g + 1u] + v[6u * g + 2u]);
    }
    mean = mean / Real(8.0);
    for (var g = 0u; g < 8u; g = g + 1u) {
        let shift = (mean - (v[6u * g] + v[6u * g + 1u] + v[6u * g + 2u])) / Real(3.0);
        for (var i = 0u; i < 3u; i = i + 1u) {
            v[6u * g + i] = v[6u * g + i] + shift;
        }
    }
    return v;
}

// w·Σ_g B_gᵀ σ_g: the brick's 24 nodal values of the points' stresses.
fn brick_forces(stress: array<Real, 48>, w: Real) -> array<Real, 24> {
    var fe: array<Real, 24>;
    for (var g = 0u; g < 8u; g = g + 1u) {
        let s0 = stress[6u * g];
        let s1 = stress[6u * g + 1u];
        let s2 = stress[6u * g + 2u];
        let s3 = stress[6u * g + 3u];
        let s4 = stress[6u * g + 4u];
        let s5 = stress[6u * g + 5u];
        for (var a = 0u; a < 8u; a = a + 1u) {
            let g0 = grad(g, a, 0u);
            let g1 = grad(g, a, 1u);
            let g2 = grad(g, a, 2u);
            fe[3u * a] = fe[3u * a] + w * (s0 * g0 + s3 * g1 + s5 * g2);
            fe[3u * a + 1u] = fe[3u * a + 1u] + w * (s3 * g0 + s1 * g1 + s4 * g2);
            fe[3u * a + 2u] = fe[3u * a + 2u] + w * (s5 * g0 + s4 * g1 + s2 * g2);
        }
    }
    return fe;
}
