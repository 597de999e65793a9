//! Three-point bending of a bar along x: length Lx, width w = Ly, height
//! t = Lz, span S, contact strip width c.
//!
//! - δ = 0.001·t. Supports: active nodes on z = 0 with
//!   |x − (Lx/2 ± S/2)| ≤ c/2 get u_z = 0. Load: active nodes on z = Lz with
//!   |x − Lx/2| ≤ c/2 get u_z = −δ and u_x = 0, and the one of them nearest
//!   (Lx/2, Ly/2, Lz) also u_y = 0.
//! - The strips are sets of nodes, so their real width moves in steps of h:
//!   the x-extent of the loading strip actually used is reported.
//! - Reported: E_f = F·S³ / (4·w·t³·δ) and σ_f per newton = 3·S / (2·w·t²).
//!   Nominal stress σ_f at load F.
//! - Strength: the flexural strength σ_f at the first-yield load,
//!   3·F_y·S / (2·w·t²), and the Pistoia failure load with its σ_f.

use super::{on_face, BcError, Constraints, Faces, Quantities, StrengthQuantities, X, Y, Z};
use crate::strength::StrengthLoads;

/// Default span S as a fraction of the bar length Lx.
pub const DEFAULT_SPAN_FRACTION: f64 = 0.75;
/// Default contact strip width c, mm.
pub const DEFAULT_CONTACT: f64 = 1.0;

/// Supports and loading strip of a bar with span `span` and strips of
/// width `contact`.
pub(crate) fn constraints(faces: &Faces, span: f64, contact: f64) -> Result<Constraints, BcError> {
    let mesh = faces.mesh;
    let nz = mesh.dims[2];
    let [lx, ly, lz] = faces.size;
    let delta = super::compression::delta(lz);
    let tol = 1e-9 * mesh.h;
    let half = contact / 2.0 + tol;
    let x_of = |a: usize| mesh.position(a)[0];
    let left = on_face(
        faces
            .on_layer(0)
            .filter(|&a| (x_of(a) - (lx / 2.0 - span / 2.0)).abs() <= half)
            .collect(),
        "bottom face z = 0 at x = Lx/2 − S/2",
        "the left support",
    )?;
    let right = on_face(
        faces
            .on_layer(0)
            .filter(|&a| (x_of(a) - (lx / 2.0 + span / 2.0)).abs() <= half)
            .collect(),
        "bottom face z = 0 at x = Lx/2 + S/2",
        "the right support",
    )?;
    let strip = on_face(
        faces
            .on_layer(nz)
            .filter(|&a| (x_of(a) - lx / 2.0).abs() <= half)
            .collect(),
        "top face z = Lz at x = Lx/2",
        "the loading strip",
    )?;
    let mut fixed = vec![0u8; mesh.len()];
    let mut values = Vec::new();
    for &a in left.iter().chain(&right) {
        fixed[a] |= Z;
    }
    for &a in &strip {
        fixed[a] |= Z | X;
        values.push((3 * a + 2, -delta));
    }
    let mid = faces.nearest(&strip, [lx / 2.0, ly / 2.0, lz]).unwrap();
    fixed[mid] |= Y;
    let xs = strip.iter().map(|&a| x_of(a));
    let width = xs.clone().fold(f64::NEG_INFINITY, f64::max) - xs.fold(f64::INFINITY, f64::min);
    Ok(Constraints {
        fixed,
        values,
        loaded: strip,
        delta,
        contact_width: Some(width),
    })
}

/// E_f, σ_f per newton and the nominal stress σ_f for reaction `force`.
pub fn quantities(force: f64, delta: f64, size: [f64; 3], span: f64) -> Quantities {
    let (w, t) = (size[1], size[2]);
    let per_n = flexural_stress_per_newton(size, span);
    Quantities {
        e_flex: Some(force * span.powi(3) / (4.0 * w * t.powi(3) * delta)),
        flexural_stress_per_newton: Some(per_n),
        nominal_stress: per_n * force,
        ..Default::default()
    }
}

/// σ_f per newton of load, 3·S / (2·w·t²), MPa/N.
fn flexural_stress_per_newton(size: [f64; 3], span: f64) -> f64 {
    let (w, t) = (size[1], size[2]);
    3.0 * span / (2.0 * w * t * t)
}

/// The flexural strength σ_f(F_y), the failure load and σ_f(F_fail).
pub fn strength(loads: &StrengthLoads, size: [f64; 3], span: f64) -> StrengthQuantities {
    let per_n = flexural_stress_per_newton(size, span);
    StrengthQuantities {
        yield_load: loads.yield_load,
        flexural_strength: loads.yield_load.map(|f| f * per_n),
        failure_load: loads.failure_load,
        failure_stress: loads.failure_load.map(|f| f * per_n),
        ..Default::default()
    }
}
