//! Grids shared by the integration tests.

use std::path::Path;
use voxfe::grid::VoxelGrid;
use voxfe::report::voxelize_scene;
use voxfe::scene::Scene;

/// An RD lattice grid: 2×2×2 cells of M = 1.5 mm at 70 % porosity, voxel size `h`.
pub fn rd_grid(h: f64) -> VoxelGrid {
    let text = r#"
name = "rd"
[lattice]
kind = "rhombic-dodecahedron"
cell = 1.5
porosity = 0.7
[specimen]
shape = "box"
size = [3.0, 3.0, 3.0]
[voxel]
size = 0.15
"#;
    let s = Scene::parse(text, Path::new("rd.toml"), &[format!("voxel.size={h}")]).unwrap();
    voxelize_scene(&s).unwrap().1.grid
}
