//! What a scene is, asked once: a specimen under a load case, or a periodic
//! cell that is homogenized (`load.case = "periodic"`). Every step that
//! differs between the two (voxelization, load case, solve, report) asks
//! [`SceneKind::of`].

use crate::scene::Scene;

/// A scene's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SceneKind {
    /// A specimen under a load case: one solve, its moduli and strength.
    Loaded,
    /// A periodic lattice cell: six solves and its homogenized stiffness
    /// C^H.
    Periodic,
}

impl SceneKind {
    /// The kind of `scene`.
    pub fn of(scene: &Scene) -> SceneKind {
        if scene.load_case().is_periodic() {
            SceneKind::Periodic
        } else {
            SceneKind::Loaded
        }
    }

    /// Whether `scene` is a periodic cell.
    pub fn is_periodic(scene: &Scene) -> bool {
        SceneKind::of(scene) == SceneKind::Periodic
    }
}
