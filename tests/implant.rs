//! Implant envelopes, features and STL import; a run builds the envelope
//! once.

use std::path::Path;
use voxfe::implant::stl::{box_mesh, cylinder_mesh, write_binary, Mesh, StlError};
use voxfe::implant::Envelope;
use voxfe::pipeline::voxelize::voxelize_scene;
use voxfe::scene::{Scene, SceneError};
use voxfe::voxelize::sample;

/// Voxels where two masks differ, skipping those whose centre lies within
/// `band` of the surface (`dist` gives the distance of a point to it).
fn differences(
    a: &[u8],
    b: &[u8],
    dims: [usize; 3],
    h: f64,
    band: f64,
    dist: impl Fn([f64; 3]) -> f64,
) -> usize {
    let mut n = 0;
    for k in 0..dims[2] {
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                let v = i + dims[0] * (j + dims[1] * k);
                let p = [
                    (i as f64 + 0.5) * h,
                    (j as f64 + 0.5) * h,
                    (k as f64 + 0.5) * h,
                ];
                if a[v] != b[v] && dist(p) > band {
                    n += 1;
                }
            }
        }
    }
    n
}

#[test]
fn box_as_stl_matches_the_analytic_box() {
    let h = 0.1;
    let dims = [40, 36, 30];
    // Aligned with voxel faces: the face diagonals run through voxel centres.
    // Unaligned: faces between centres at arbitrary offsets.
    for (lo, hi) in [
        ([0.0, 0.0, 0.0], [3.0, 3.0, 2.0]),
        ([0.13, 0.27, 0.05], [3.33, 3.41, 2.47]),
    ] {
        let mesh = Mesh::from_triangles(box_mesh(lo, hi), "box").unwrap();
        let stl = mesh.voxelize(dims, h);
        let inside = |p: [f64; 3]| (0..3).all(|c| p[c] >= lo[c] && p[c] <= hi[c]);
        let analytic = sample(dims, h, inside).solid;
        let dist = |p: [f64; 3]| {
            (0..3)
                .map(|c| (p[c] - lo[c]).abs().min((p[c] - hi[c]).abs()))
                .fold(f64::INFINITY, f64::min)
        };
        assert!(analytic.contains(&1));
        assert_eq!(
            differences(&stl, &analytic, dims, h, 1e-9 * h, dist),
            0,
            "box {lo:?}–{hi:?}"
        );
    }
}

#[test]
fn cylinder_as_stl_matches_the_analytic_cylinder() {
    let h = 0.1;
    let (r, height, segments) = (1.5, 2.0, 720);
    let dims = [30, 30, 22];
    let mesh =
        Mesh::from_triangles(cylinder_mesh([r, r, 0.0], r, height, segments), "cyl").unwrap();
    let stl = mesh.voxelize(dims, h);
    let envelope = Envelope::Cylinder {
        diameter: 2.0 * r,
        height,
        wedge_deg: 0.0,
    };
    let analytic = sample(dims, h, |p| envelope.contains(p)).solid;
    // The facets lie inside the true circle by at most the sagitta.
    let sagitta = r * (1.0 - (std::f64::consts::PI / segments as f64).cos());
    let dist = |p: [f64; 3]| {
        let radial = (r - ((p[0] - r).powi(2) + (p[1] - r).powi(2)).sqrt()).abs();
        radial.min(p[2].abs()).min((p[2] - height).abs())
    };
    assert!(analytic.iter().filter(|&&v| v == 1).count() > 10_000);
    assert_eq!(
        differences(&stl, &analytic, dims, h, sagitta + 1e-9 * h, dist),
        0
    );
}

#[test]
fn bad_stl_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    // Open: a box with one face missing.
    let mut open = box_mesh([0.0; 3], [1.0; 3]);
    open.truncate(10);
    let p = dir.path().join("open.stl");
    write_binary(&p, &open).unwrap();
    let e = Mesh::read(&p).unwrap_err();
    assert!(matches!(e, StlError::Open { open_edges: 4, .. }), "{e}");
    assert!(e.to_string().contains("4 edges"), "{e}");
    // Not an STL file.
    let p = dir.path().join("notes.stl");
    std::fs::write(&p, "hello, this is not a mesh").unwrap();
    let e = Mesh::read(&p).unwrap_err();
    assert!(matches!(e, StlError::NotStl { .. }), "{e}");
    // Zero triangles, binary and ASCII.
    let p = dir.path().join("empty.stl");
    write_binary(&p, &[]).unwrap();
    assert!(matches!(
        Mesh::read(&p).unwrap_err(),
        StlError::Empty { .. }
    ));
    let p = dir.path().join("empty_ascii.stl");
    std::fs::write(&p, "solid nothing\nendsolid nothing\n").unwrap();
    let e = Mesh::read(&p).unwrap_err();
    assert!(e.to_string().contains("no triangles"), "{e}");
}

#[test]
fn degenerate_triangles_are_ignored_and_counted() {
    let mut t = box_mesh([0.0; 3], [1.0; 3]);
    t.push([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.7, 0.5, 0.5]]);
    t.push([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]);
    let m = Mesh::from_triangles(t, "box").unwrap();
    assert_eq!(m.degenerate, 2);
    assert_eq!(m.triangles.len(), 12);
}

#[test]
fn ascii_and_binary_stl_read_alike() {
    let dir = tempfile::tempdir().unwrap();
    let tris = box_mesh([0.0; 3], [1.0, 2.0, 0.5]);
    let bin = dir.path().join("b.stl");
    write_binary(&bin, &tris).unwrap();
    let mut ascii = String::from("solid box\n");
    for t in &tris {
        ascii.push_str("facet normal 0 0 0\nouter loop\n");
        for v in t {
            ascii.push_str(&format!("vertex {} {} {}\n", v[0], v[1], v[2]));
        }
        ascii.push_str("endloop\nendfacet\n");
    }
    ascii.push_str("endsolid box\n");
    let asc = dir.path().join("a.stl");
    std::fs::write(&asc, ascii).unwrap();
    assert_eq!(Mesh::read(&bin).unwrap(), Mesh::read(&asc).unwrap());
}

const IMPLANT: &str = r#"
name = "vbr"
[lattice]
kind = "rhombic-dodecahedron"
cell = 3.0
porosity = 0.8
[specimen]
shape = "cylinder"
diameter = 15.0
height = 25.0
wedge = 3.0
end_plates = 0.5
[[specimen.holes]]
position = [7.5, 0.0, 12.5]
direction = [0.0, 0.8660254037844386, 0.5]
diameter = 3.5
[voxel]
size = 0.125
"#;

fn implant(set: &[&str]) -> Result<Scene, SceneError> {
    let set: Vec<String> = set.iter().map(|s| s.to_string()).collect();
    Scene::parse(IMPLANT, Path::new("vbr.toml"), &set)
}

#[test]
fn wedged_cylinder_implant_with_plates_and_hole() {
    // Binary fill: a voxel is solid when its centre is (the checks below
    // name voxels by their centres).
    let s = implant(&["voxel.fill=binary"]).unwrap();
    // Grid box: Ø × Ø × (H + R tan 3°) rounded up to whole voxels.
    let zmax: f64 = 25.0 + 7.5 * 3f64.to_radians().tan();
    assert_eq!(s.dims(), [120, 120, (zmax / 0.125).ceil() as usize]);
    let (_, vox, r) = voxelize_scene(&s).unwrap();
    let g = &vox.grid;
    // The end plates are solid wherever the envelope is: the bottom layer at the axis column.
    let (ci, cj) = (60, 60);
    assert!(g.is_solid(ci, cj, 0) && g.is_solid(ci, cj, 3));
    // Top at the axis: z_top ≈ 25.003 → voxel 199 (centre 24.9375) solid, voxel 200 (25.0625) not.
    assert!(g.is_solid(ci, cj, 199));
    assert!(!g.is_solid(ci, cj, 200));
    // The wedge: the top rises by 2 R tan 3° ≈ 0.79 mm ≈ 6 voxels across y.
    let top = |j: usize| {
        (0..g.dims[2])
            .rev()
            .find(|&k| g.is_solid(60, j, k))
            .unwrap()
    };
    assert!(
        top(115) >= top(4) + 5,
        "wedge top {} vs {}",
        top(115),
        top(4)
    );
    assert_eq!(
        r.removed_voxels * 100 / r.solid_voxels,
        0,
        "a connected implant: {r:?}"
    );
    // Nothing outside the circle.
    assert!(!g.is_solid(0, 0, 50));
    // The screw hole: on its axis inside the implant, no solid.
    for t in [4.0, 6.0, 8.0] {
        let p = [7.5, 0.8660254037844386 * t, 12.5 + 0.5 * t];
        let [i, j, k] = p.map(|c| (c / 0.125) as usize);
        assert!(!g.is_solid(i, j, k), "hole axis at t = {t}");
    }
    assert!(
        r.porosity_measured > 0.5 && r.porosity_measured < 0.85,
        "{}",
        r.porosity_measured
    );
    assert!(r.envelope_voxels < r.total_voxels);
}

#[test]
fn implant_keys_are_checked() {
    let e = implant(&["specimen.size=[15.0, 15.0, 25.0]"])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("specimen.size") && e.contains("\"box\" or \"stl\""),
        "{e}"
    );
    let e = implant(&["specimen.diameter=15.1"])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("specimen.diameter") && e.contains("whole number"),
        "{e}"
    );
    let e = implant(&["specimen.wedge=50"]).unwrap_err().to_string();
    assert!(e.contains("specimen.wedge = 50"), "{e}");
    let e = implant(&[
        "specimen.holes=[{position=[0.0,0.0,0.0], direction=[0.0,0.0,0.0], diameter=1.0}]",
    ])
    .unwrap_err()
    .to_string();
    assert!(e.contains("specimen.holes.direction"), "{e}");
}

#[test]
fn stl_envelope_in_a_scene_matches_the_box_envelope() {
    let dir = tempfile::tempdir().unwrap();
    // A unit-scale box, scaled ×3 and moved to [0.3, 0.3, 0] – [3.3, 3.3, 3].
    // Plus one zero-area triangle, which is ignored and counted.
    let mut cube = box_mesh([0.0; 3], [1.0; 3]);
    cube.push([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5], [0.6, 0.5, 0.5]]);
    write_binary(&dir.path().join("cube.stl"), &cube).unwrap();
    let scene = r#"
name = "stl"
[lattice]
kind = "rhombic-dodecahedron"
cell = 1.5
strut = 0.3
origin = [0.3, 0.3, 0.0]
[specimen]
shape = "stl"
path = "cube.stl"
scale = 3.0
translate = [0.3, 0.3, 0.0]
size = [3.6, 3.6, 3.0]
[voxel]
size = 0.1
fill = "binary"
"#;
    let path = dir.path().join("stl.toml");
    std::fs::write(&path, scene).unwrap();
    let s = Scene::load(&path, &[]).unwrap();
    let (lattice, vox, report) = voxelize_scene(&s).unwrap();
    assert_eq!(report.stl_degenerate_triangles, Some(1));
    assert!(
        report.warnings.iter().any(|w| w.contains("1 degenerate")),
        "{:?}",
        report.warnings
    );
    // The same lattice clipped by hand to [0.3, 3.3]² × [0, 3] (binary, as
    // the scene).
    let by_hand = voxfe::voxelize::voxelize(s.dims(), 0.1, |p| {
        p[0] >= 0.3 && p[0] <= 3.3 && p[1] >= 0.3 && p[1] <= 3.3 && lattice.contains(p)
    })
    .unwrap();
    assert_eq!(vox.grid, by_hand.grid);
    // A mesh outside the grid box is an error naming specimen.size.
    let e = Scene::load(&path, &["specimen.translate=[1.0, 0.0, 0.0]".into()]).unwrap();
    let e = voxelize_scene(&e).unwrap_err().to_string();
    assert!(
        e.contains("specimen.size") && e.contains("inside the grid box"),
        "{e}"
    );
}

const SOLID_CYLINDER: &str = r#"
name = "solid-cylinder"
[lattice]
kind = "solid"
[specimen]
shape = "cylinder"
diameter = 6.0
height = 4.0
[voxel]
size = 0.25
[load]
case = "implant-compression"
[solver]
backend = "cpu"
tolerance = 1e-8
"#;

#[test]
fn solid_cylinder_implant_has_the_apparent_modulus_of_its_material() {
    let analytic_area = std::f64::consts::PI * 9.0;
    for fill in ["binary", "fraction"] {
        let set = [format!("voxel.fill={fill}")];
        let s = Scene::parse(SOLID_CYLINDER, Path::new("cyl.toml"), &set).unwrap();
        let r = voxfe::pipeline::run(&s.clone().with_backend(voxfe::scene::Backend::Cpu)).unwrap();
        assert!(r.solve.converged);
        assert_eq!(r.load_case, "implant-compression");
        // k·H/A with the analytic footprint: E up to the voxelized area.
        // Binary: the voxel disc covers a slightly different area than π R².
        // Fraction (p = 1, no lattice): each column of voxels carries φ·Kₑ
        // with one φ along z, so the strain is nearly uniform and the area
        // is about Σφ·h³/H (1e-5 off: measured), within the sub-sampling
        // error of π R².
        let solid = (1.0 - r.voxel.porosity_measured) * r.voxel.envelope_voxels as f64;
        let voxel_area = solid * 0.25f64.powi(3) / 4.0;
        let expected = 186_000.0 * voxel_area / analytic_area;
        let e = r.solve.apparent_modulus.unwrap();
        let tol = if fill == "binary" { 1e-6 } else { 1e-4 };
        assert!(
            (e / expected - 1.0).abs() < tol,
            "{fill}: apparent modulus {e}, expected {expected}"
        );
        let k = r.solve.stiffness.unwrap();
        assert!((k * 4.0 / analytic_area - e).abs() < 1e-9 * e);
        if fill == "fraction" {
            assert!((e / 186_000.0 - 1.0).abs() < 1e-3, "{fill}: {e}");
        }
    }
}

#[test]
fn lattice_implant_stiffness_agrees_on_gpu_and_cpu() {
    let Some(ctx) = voxfe::gpu::context_or_skip(
        &Default::default(),
        "lattice_implant_stiffness_agrees_on_gpu_and_cpu",
    ) else {
        return;
    };
    // A small wedged RD implant with end plates and a screw hole, coarse h.
    let s = implant(&[
        "specimen.diameter=6.0",
        "specimen.height=5.0",
        "specimen.holes=[{position=[3.0,0.0,2.5], direction=[0.0,0.866,0.5], diameter=1.5}]",
        "voxel.size=0.25",
        "load.case=implant-compression",
    ])
    .unwrap();
    let (_, vox, _) = voxelize_scene(&s).unwrap();
    let load = voxfe::pipeline::load::load_case(&s).unwrap();
    let m = s.material().unwrap();
    let opts = voxfe::fem::SolverOptions {
        tolerance: 1e-6,
        max_iterations: 20000,
        check_every: 10,
        preconditioner: Default::default(),
        element: s.solver.element,
    };
    let cpu = voxfe::fem::solve_cpu(&vox.grid, m, &load, &opts).unwrap();
    let gpu = voxfe::gpu::solve_gpu(&ctx, &vox.grid, m, &load, &opts).unwrap();
    let (a, b) = (cpu.stiffness.unwrap(), gpu.stiffness.unwrap());
    assert!((a - b).abs() <= 1e-4 * a, "k: cpu {a}, gpu {b}");
    assert!(a > 0.0 && cpu.peak_von_mises_per_newton.unwrap() > 0.0);
}

#[test]
fn stl_version_of_the_shipped_implant_matches_the_analytic_one() {
    // scenes/vbr-25.stl was written by `voxfe export-stl scenes/vbr-25.toml`.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/");
    // Binary fill: the band below is about voxel centres.
    let set = vec![
        "voxel.size=0.125".to_string(),
        "voxel.fill=binary".to_string(),
    ];
    let analytic = Scene::load(Path::new(&format!("{dir}vbr-25.toml")), &set).unwrap();
    let stl = Scene::load(Path::new(&format!("{dir}vbr-25-stl.toml")), &set).unwrap();
    assert_eq!(analytic.dims(), stl.dims());
    let (_, a, _) = voxelize_scene(&analytic).unwrap();
    let (_, b, _) = voxelize_scene(&stl).unwrap();
    // Differences only where a voxel centre lies within the facets' sagitta
    // (720 facets) or the f32 rounding of the STL vertices of a surface.
    let (r, h, slope) = (7.5, 0.125, 3f64.to_radians().tan());
    let band = r * (1.0 - (std::f64::consts::PI / 720.0).cos()) + 1e-5;
    let dist = |p: [f64; 3]| {
        let top = 25.0 + (p[1] - r) * slope;
        let radial = (r - ((p[0] - r).powi(2) + (p[1] - r).powi(2)).sqrt()).abs();
        let plates = (p[2] - 0.5).abs().min((p[2] - (top - 0.5)).abs());
        radial.min(p[2].abs()).min((p[2] - top).abs()).min(plates)
    };
    let n = differences(&a.grid.solid, &b.grid.solid, a.grid.dims, h, band, dist);
    assert_eq!(n, 0, "{n} voxels differ away from the surfaces");
    assert!(a.counts.solid > 200_000, "{:?}", a.counts);
    assert_eq!(a.counts, b.counts);
}

#[test]
fn endplates_lie_on_the_envelope_surfaces() {
    use std::sync::Arc;
    use voxfe::fem::load::constraints;
    use voxfe::fem::load::{EnvelopeColumns, LoadCase, Platens};
    use voxfe::fem::mesh::ActiveMesh;
    use voxfe::grid::VoxelGrid;
    // A solid column of 2×1×6 voxels with a one-voxel stub half-way up
    // beside it, in a 3×1×6 box envelope: the stub's own node column (x = 3)
    // meets no platen, so it must not be squeezed between them.
    let mut grid = VoxelGrid::empty([3, 1, 6], 1.0);
    for k in 0..6 {
        for i in 0..2 {
            let v = grid.voxel_id(i, 0, k);
            grid.solid[v] = 1;
        }
    }
    let v = grid.voxel_id(2, 0, 3);
    grid.solid[v] = 1;
    let mesh = ActiveMesh::new(&grid).unwrap();
    let load = |envelope| LoadCase::ImplantCompression {
        platens: Platens::Frictionless,
        footprint_area: 3.0,
        height: 6.0,
        envelope,
    };
    let env = EnvelopeColumns::from_mask(&VoxelGrid::full([3, 1, 6], 1.0));
    let bc = constraints(&mesh, &load(Some(Arc::new(env)))).unwrap();
    assert_eq!(bc.loaded.len(), 6);
    for &a in &bc.loaded {
        assert_eq!(
            mesh.coords(a)[2],
            6,
            "loaded node {a} is not on the top face"
        );
    }
    // Every column's extremes, without the envelope, would load the stub too.
    let bare = constraints(&mesh, &load(None)).unwrap();
    assert_eq!(bare.loaded.len(), 8);
}

#[test]
fn an_implant_whose_lattice_falls_apart_has_no_load_path() {
    // At h = 0.25 mm the 0.38 mm struts of the shipped implant are 1.5
    // binary voxels across and do not connect: the largest component is one
    // end plate. That is an error, not the stiffness of a plate squeezed
    // through itself. (Fraction fill keeps them connected.)
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/vbr-25.toml"));
    let set = [
        "voxel.size=0.25".to_string(),
        "voxel.fill=binary".to_string(),
    ];
    let s = Scene::load(path, &set).unwrap();
    let e = voxfe::pipeline::run(&s.clone().with_backend(voxfe::scene::Backend::Cpu)).unwrap_err();
    assert!(e.is_bad_input(), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("no load path") && msg.contains("envelope's"),
        "{msg}"
    );
}

#[test]
fn a_run_builds_the_envelope_once_with_the_same_load_case() {
    // The load case a run takes from the voxelized specimen's envelope mask
    // equals the one built from the scene alone (which reads the STL again).
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/scenes/");
    let set = vec![
        "voxel.size=0.5".to_string(),
        "specimen.holes=[]".to_string(),
    ];
    for file in ["vbr-25-stl.toml", "vbr-25.toml"] {
        let s = Scene::load(Path::new(&format!("{dir}{file}")), &set).unwrap();
        let specimen = voxfe::pipeline::voxelize::voxelize_specimen(&s).unwrap();
        assert!(specimen.envelope_mask.is_some(), "{file}");
        let once = voxfe::pipeline::load::specimen_load_case(&s, &specimen).unwrap();
        let again = voxfe::pipeline::load::load_case(&s).unwrap();
        assert_eq!(once, again, "{file}");
    }
    // A box: no mask is kept, the columns are sampled from the envelope.
    let text = r#"
name = "box"
[lattice]
kind = "rhombic-dodecahedron"
cell = 1.5
porosity = 0.8
[specimen]
shape = "box"
size = [3.0, 3.0, 3.0]
end_plates = 0.25
[voxel]
size = 0.25
[load]
case = "implant-compression"
"#;
    let s = Scene::parse(text, Path::new("box.toml"), &[]).unwrap();
    let specimen = voxfe::pipeline::voxelize::voxelize_specimen(&s).unwrap();
    assert!(specimen.envelope_mask.is_none());
    let once = voxfe::pipeline::load::specimen_load_case(&s, &specimen).unwrap();
    assert_eq!(once, voxfe::pipeline::load::load_case(&s).unwrap());
}
