//! Uniaxial compression between platens at z = 0 and z = Lz.
//!
//! - δ = 0.001·Lz. Active nodes on z = 0 get u_z = 0, on z = Lz u_z = −δ.
//! - Frictionless platens (the default): the active bottom node nearest
//!   (Lx/2, Ly/2, 0) also gets u_x = u_y = 0 and the one nearest
//!   (Lx, Ly/2, 0) u_y = 0, which removes the rigid-body modes.
//! - Bonded platens: u_x = u_y = 0 on every bottom and top node.
//! - Reported: E_eff = (F / (Lx·Ly)) / (δ / Lz) on the gross section; a
//!   solid block gives E_eff = E exactly. Nominal stress F / (Lx·Ly).
//! - Strength: the apparent yield stress F_y / (Lx·Ly), the Pistoia
//!   failure load F_fail and its stress F_fail / (Lx·Ly); a solid block
//!   gives yield stress = σ_y exactly.
//!
//! The platen constraints are shared with [`super::implant`], whose platens
//! press on the implant's endplates instead of the box faces.

use super::{
    on_face, BcError, Constraints, Faces, Platens, Quantities, StrengthQuantities, X, Y, Z,
};
use crate::strength::StrengthLoads;

/// The applied displacement δ for a specimen of height `lz`, mm.
pub fn delta(lz: f64) -> f64 {
    0.001 * lz
}

/// Compression between the box faces z = 0 and z = Lz.
pub(crate) fn constraints(faces: &Faces, platens: Platens) -> Result<Constraints, BcError> {
    let nz = faces.mesh.dims[2];
    let bottom = on_face(
        faces.on_layer(0).collect(),
        "bottom face z = 0",
        "the lower platen",
    )?;
    let top = on_face(
        faces.on_layer(nz).collect(),
        "top face z = Lz",
        "the upper platen",
    )?;
    platen_constraints(faces, platens, bottom, top)
}

/// u_z = 0 on `bottom`, u_z = −δ on `top` (the loaded nodes), and the
/// in-plane conditions of `platens`. Both sets are non-empty and sorted.
pub(crate) fn platen_constraints(
    faces: &Faces,
    platens: Platens,
    bottom: Vec<usize>,
    top: Vec<usize>,
) -> Result<Constraints, BcError> {
    let [lx, ly, lz] = faces.size;
    let delta = delta(lz);
    let mut fixed = vec![0u8; faces.mesh.len()];
    let mut values = Vec::new();
    for &a in &bottom {
        fixed[a] |= Z;
    }
    for &a in &top {
        fixed[a] |= Z;
        values.push((3 * a + 2, -delta));
    }
    match platens {
        Platens::Bonded => {
            for &a in bottom.iter().chain(&top) {
                fixed[a] |= X | Y;
            }
        }
        Platens::Frictionless => {
            let centre = faces.nearest(&bottom, [lx / 2.0, ly / 2.0, 0.0]).unwrap();
            let edge = faces.nearest(&bottom, [lx, ly / 2.0, 0.0]).unwrap();
            if centre == edge {
                return Err(BcError::RigidBodyNodes {
                    node: faces.mesh.nodes[centre] as usize,
                });
            }
            fixed[centre] |= X | Y;
            fixed[edge] |= Y;
        }
    }
    Ok(Constraints {
        fixed,
        values,
        loaded: top,
        delta,
        contact_width: None,
    })
}

/// E_eff and the nominal stress for reaction `force` at `delta`.
pub fn quantities(force: f64, delta: f64, size: [f64; 3]) -> Quantities {
    let [lx, ly, lz] = size;
    let nominal = force / (lx * ly);
    Quantities {
        e_eff: Some(nominal / (delta / lz)),
        nominal_stress: nominal,
        ..Default::default()
    }
}

/// Yield stress, failure load and failure stress on the gross section
/// Lx·Ly.
pub fn strength(loads: &StrengthLoads, size: [f64; 3]) -> StrengthQuantities {
    let area = size[0] * size[1];
    StrengthQuantities {
        yield_load: loads.yield_load,
        yield_stress: loads.yield_load.map(|f| f / area),
        failure_load: loads.failure_load,
        failure_stress: loads.failure_load.map(|f| f / area),
        ..Default::default()
    }
}
