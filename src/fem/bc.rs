//! Boundary conditions of every load case (`shared/spec/conventions.md`).
//!
//! Compression (δ = 0.001·Lz): active nodes on z = 0 get u_z = 0, on z = Lz
//! u_z = −δ. Frictionless platens: the active bottom node nearest
//! (Lx/2, Ly/2, 0) also gets u_x = u_y = 0 and the one nearest (Lx, Ly/2, 0)
//! u_y = 0 ("nearest" by Euclidean distance, ties by the smallest node id).
//! Bonded platens: u_x = u_y = 0 on every bottom and top node.
//!
//! Three-point bending (bar along x, w = Ly, t = Lz, δ = 0.001·t): active
//! nodes on z = 0 with |x − (Lx/2 ± S/2)| ≤ c/2 get u_z = 0; active nodes on
//! z = Lz with |x − Lx/2| ≤ c/2 get u_z = −δ and u_x = 0, and the one of them
//! nearest (Lx/2, Ly/2, Lz) also u_y = 0.

use crate::fem::load::{LoadCase, Platens};
use crate::fem::mesh::ActiveMesh;

/// Prescribed displacements and the loaded nodes.
#[derive(Debug, Clone)]
pub struct Constraints {
    /// Per active node, bit c set when dof 3n + c is prescribed.
    pub fixed: Vec<u8>,
    /// Prescribed non-zero values `(dof, value)`; other fixed dofs are 0.
    pub values: Vec<(usize, f64)>,
    /// Nodes whose z reactions sum to the reaction force (u_z = −δ).
    pub loaded: Vec<usize>,
    /// Applied displacement δ, mm.
    pub delta: f64,
    /// Three-point bending: x-extent of the loading strip's nodes, mm.
    pub contact_width: Option<f64>,
}

/// Why boundary conditions could not be applied.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BcError {
    #[error("no load path: no active node lies on the {face} ({what}); the solid kept after removing disconnected voxels does not reach it (check lattice.origin, the specimen size, and whether the voxel size resolves the struts: see removed_voxels and D/h)")]
    NoLoadPath {
        face: &'static str,
        what: &'static str,
    },
    #[error("the rigid-body nodes nearest (Lx/2, Ly/2, 0) and (Lx, Ly/2, 0) coincide (node {node}): the bottom face has too few active nodes to hold the specimen")]
    RigidBodyNodes { node: usize },
}

impl Constraints {
    /// Number of prescribed degrees of freedom.
    pub fn fixed_count(&self) -> usize {
        self.fixed.iter().map(|f| f.count_ones() as usize).sum()
    }
}

/// Applies `load` on `mesh`.
pub fn constraints(mesh: &ActiveMesh, load: &LoadCase) -> Result<Constraints, BcError> {
    let [nx, ny, nz] = mesh.dims;
    let h = mesh.h;
    let (lx, ly, lz) = (nx as f64 * h, ny as f64 * h, nz as f64 * h);
    let n = mesh.len();
    let mut fixed = vec![0u8; n];
    let mut values = Vec::new();
    let on_layer = |k: usize| (0..n).filter(move |&a| mesh.coords(a)[2] == k);
    let nearest = |set: &[usize], target: [f64; 3]| -> Option<usize> {
        // Ties: the smallest node id, i.e. the smallest active index.
        set.iter().copied().min_by(|&a, &b| {
            let da = dist2(mesh.position(a), target);
            let db = dist2(mesh.position(b), target);
            da.total_cmp(&db).then(a.cmp(&b))
        })
    };
    const X: u8 = 1;
    const Y: u8 = 2;
    const Z: u8 = 4;
    // The platens: the bottom and top faces, or for an implant the
    // bottommost and topmost active node of every (x, y) column that lies on
    // the envelope's bottom (top) surface.
    let endplates = |load: &LoadCase| -> (Vec<usize>, Vec<usize>) {
        match load {
            LoadCase::ImplantCompression { envelope, .. } => {
                let columns = (nx + 1) * (ny + 1);
                let mut low = vec![usize::MAX; columns];
                let mut high = vec![usize::MAX; columns];
                for a in 0..n {
                    // Active nodes come in grid-id order: z increases last.
                    let col = mesh.nodes[a] as usize % columns;
                    if low[col] == usize::MAX {
                        low[col] = a;
                    }
                    high[col] = a;
                }
                let layer = |a: usize| mesh.coords(a)[2] as u32;
                let mut bottom = Vec::new();
                let mut top = Vec::new();
                for col in 0..columns {
                    let (lo, hi) = (low[col], high[col]);
                    if lo == usize::MAX || lo == hi {
                        continue;
                    }
                    match envelope.as_deref() {
                        Some(env) => {
                            // Within one layer of the surface: a wedged face
                            // steps by one layer between neighbouring columns.
                            if layer(lo) <= env.low[col].saturating_add(1) {
                                bottom.push(lo);
                            }
                            if layer(hi) + 1 >= env.high[col] {
                                top.push(hi);
                            }
                        }
                        None => {
                            bottom.push(lo);
                            top.push(hi);
                        }
                    }
                }
                bottom.sort_unstable();
                top.sort_unstable();
                (bottom, top)
            }
            _ => (on_layer(0).collect(), on_layer(nz).collect()),
        }
    };
    match load {
        &LoadCase::Compression { platens } | &LoadCase::ImplantCompression { platens, .. } => {
            let delta = 0.001 * lz;
            let (bottom, top) = endplates(load);
            let implant = matches!(load, LoadCase::ImplantCompression { .. });
            if bottom.is_empty() {
                return Err(BcError::NoLoadPath {
                    face: if implant {
                        "envelope's bottom surface"
                    } else {
                        "bottom face z = 0"
                    },
                    what: "the lower platen",
                });
            }
            if top.is_empty() {
                return Err(BcError::NoLoadPath {
                    face: if implant {
                        "envelope's top surface"
                    } else {
                        "top face z = Lz"
                    },
                    what: "the upper platen",
                });
            }
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
                    let centre = nearest(&bottom, [lx / 2.0, ly / 2.0, 0.0]).unwrap();
                    let edge = nearest(&bottom, [lx, ly / 2.0, 0.0]).unwrap();
                    if centre == edge {
                        return Err(BcError::RigidBodyNodes {
                            node: mesh.nodes[centre] as usize,
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
        &LoadCase::ThreePointBending { span, contact } => {
            let delta = 0.001 * lz;
            let tol = 1e-9 * h;
            let half = contact / 2.0 + tol;
            let x_of = |a: usize| mesh.position(a)[0];
            let left: Vec<usize> = on_layer(0)
                .filter(|&a| (x_of(a) - (lx / 2.0 - span / 2.0)).abs() <= half)
                .collect();
            let right: Vec<usize> = on_layer(0)
                .filter(|&a| (x_of(a) - (lx / 2.0 + span / 2.0)).abs() <= half)
                .collect();
            let strip: Vec<usize> = on_layer(nz)
                .filter(|&a| (x_of(a) - lx / 2.0).abs() <= half)
                .collect();
            if left.is_empty() {
                return Err(BcError::NoLoadPath {
                    face: "bottom face z = 0 at x = Lx/2 − S/2",
                    what: "the left support",
                });
            }
            if right.is_empty() {
                return Err(BcError::NoLoadPath {
                    face: "bottom face z = 0 at x = Lx/2 + S/2",
                    what: "the right support",
                });
            }
            if strip.is_empty() {
                return Err(BcError::NoLoadPath {
                    face: "top face z = Lz at x = Lx/2",
                    what: "the loading strip",
                });
            }
            for &a in left.iter().chain(&right) {
                fixed[a] |= Z;
            }
            for &a in &strip {
                fixed[a] |= Z | X;
                values.push((3 * a + 2, -delta));
            }
            let mid = nearest(&strip, [lx / 2.0, ly / 2.0, lz]).unwrap();
            fixed[mid] |= Y;
            let xs = strip.iter().map(|&a| x_of(a));
            let width =
                xs.clone().fold(f64::NEG_INFINITY, f64::max) - xs.fold(f64::INFINITY, f64::min);
            Ok(Constraints {
                fixed,
                values,
                loaded: strip,
                delta,
                contact_width: Some(width),
            })
        }
    }
}

fn dist2(a: [f64; 3], b: [f64; 3]) -> f64 {
    (0..3).map(|c| (a[c] - b[c]).powi(2)).sum()
}
