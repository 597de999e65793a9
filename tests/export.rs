//! `voxfe run --vtu/--inp` and `voxfe voxelize --vtu`: the mesh read back
//! and compared with the solver's own numbers (the `.vti` of the same run,
//! `--json`'s counts), with the exact solution of a solid block in
//! compression, and with the load case's constraints as the spec states
//! them.

mod common;

use common::{small_rd, voxfe};
use serde_json::Value;
use std::path::Path;
use voxfe::export::hex_volume;
use voxfe::export::inp::read_inp;
use voxfe::export::vtu::{read_vtu, VtuContents, VTK_HEXAHEDRON};

/// A solid block of `size` mm at voxel size `h`, E = 1000 MPa, ν = 0.3,
/// in compression between platens `platens`, on the CPU; binary fill and
/// the hex8 element, the classic voxel mesh (one material, `C3D8`).
fn block(size: f64, h: f64, platens: &str) -> String {
    format!(
        r#"
name = "block"
[material]
E = 1000.0
nu = 0.3
[lattice]
kind = "solid"
[specimen]
shape = "box"
size = [{size}, {size}, {size}]
[voxel]
size = {h}
fill = "binary"
[load]
case = "compression"
platens = "{platens}"
[solver]
backend = "cpu"
tolerance = 1e-10
element = "hex8"
"#
    )
}

/// Runs `voxfe run` on `scene` (text) in `dir` with `args`, `--json`.
fn run(dir: &Path, scene: &str, args: &[&str]) -> Value {
    let p = dir.join("scene.toml");
    std::fs::write(&p, scene).unwrap();
    let mut all = vec!["run", p.to_str().unwrap(), "--json"];
    all.extend(args);
    let o = voxfe(&all);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// The corners of cell `e`.
fn corners(m: &VtuContents, e: usize) -> [[f64; 3]; 8] {
    std::array::from_fn(|a| m.points[m.cells[e][a]])
}

/// The f64 values of cell or point array `name`.
fn values(a: Option<&voxfe::vtk::Array>) -> Vec<f64> {
    a.expect("array present").data.to_f64()
}

#[test]
fn vtu_mesh_matches_the_solver_and_the_vti_of_the_same_run() {
    let dir = tempfile::tempdir().unwrap();
    let (vti, vtu) = (dir.path().join("f.vti"), dir.path().join("f.vtu"));
    let h = 0.15;
    let v = run(
        dir.path(),
        &small_rd(h),
        &[
            "--vtk",
            vti.to_str().unwrap(),
            "--vtu",
            vtu.to_str().unwrap(),
        ],
    );
    let m = read_vtu(&vtu).unwrap();
    assert_eq!(m.points.len() as u64, v["active_nodes"].as_u64().unwrap());
    assert_eq!(m.cells.len() as u64, v["solid_voxels"].as_u64().unwrap());
    assert!(m.types.iter().all(|&t| t == VTK_HEXAHEDRON));
    assert_eq!(m.field, [("converged".to_string(), 1)]);
    assert_eq!(
        m.string("commit").unwrap(),
        v["provenance"]["commit"].as_str().unwrap()
    );
    assert!(m
        .string("tensor_order")
        .unwrap()
        .contains("xx yy zz xy yz zx"));

    let f = voxfe::vtk::read_vti(&vti).unwrap();
    let [nx, ny, _] = f.dims;
    let vti_u = values(f.point.iter().find(|a| a.name == "displacement"));
    let vti_vm = values(f.cell.iter().find(|a| a.name == "von_mises"));
    let u = values(m.point_array("displacement"));
    let vm = values(m.cell_array("von_mises"));
    let idx = |x: f64| (x / h).round() as usize;
    // Each point is a grid node; its displacement is the .vti's there.
    let u_max = u.iter().fold(0.0f64, |a, &b| a.max(b.abs()));
    for (n, p) in m.points.iter().enumerate() {
        let id = idx(p[0]) + (nx + 1) * (idx(p[1]) + (ny + 1) * idx(p[2]));
        for c in 0..3 {
            let (a, b) = (u[3 * n + c], vti_u[3 * id + c]);
            assert!(
                (a - b).abs() <= 1e-6 * u_max,
                "node {n} comp {c}: {a} vs {b}"
            );
        }
    }
    // Each cell is a voxel of volume h³ (positive: VTK's node order); its
    // von Mises stress, recomputed from the stress tensor φₑᵖ·D·ε, is the
    // .vti's (the solid's, D·ε) times the element's weight φₑᵖ (fraction
    // fill, the default; p calibrated).
    let exponent = v["fraction_exponent"].as_f64().expect("fraction fill");
    let phi = values(m.cell_array("solid_fraction"));
    let vm_max = vm.iter().fold(0.0f64, |a, &b| a.max(b));
    assert!(vm_max > 0.0);
    for (e, &vm_e) in vm.iter().enumerate() {
        let p = corners(&m, e);
        let vol = hex_volume(&p);
        assert!(
            (vol - h * h * h).abs() < 1e-9 * h * h * h,
            "cell {e}: {vol}"
        );
        let lo = p[0];
        for (a, q) in p.iter().enumerate() {
            // VTK order: (0,0,0) (1,0,0) (1,1,0) (0,1,0), then z + h.
            let off = [[0, 0], [1, 0], [1, 1], [0, 1]][a % 4];
            let want = [
                lo[0] + off[0] as f64 * h,
                lo[1] + off[1] as f64 * h,
                lo[2] + (a / 4) as f64 * h,
            ];
            for c in 0..3 {
                assert!((q[c] - want[c]).abs() < 1e-12, "cell {e} corner {a}");
            }
        }
        let vox = idx(lo[0]) + nx * (idx(lo[1]) + ny * idx(lo[2]));
        let weight = phi[e].powf(exponent);
        assert!(
            (vm_e - weight * vti_vm[vox]).abs() <= 1e-5 * vm_max,
            "cell {e}: {vm_e} vs {weight} × {}",
            vti_vm[vox]
        );
    }
}

#[test]
fn a_solid_block_in_compression_has_the_exact_uniform_stress_and_strain() {
    // Uniaxial stress between frictionless platens: ε_zz = −δ/Lz = −0.001,
    // ε_xx = ε_yy = ν·0.001, σ_zz = E·ε_zz = −1 MPa, everything else 0;
    // von Mises 1 MPa.
    let dir = tempfile::tempdir().unwrap();
    let vtu = dir.path().join("b.vtu");
    let v = run(
        dir.path(),
        &block(1.0, 0.25, "frictionless"),
        &["--vtu", vtu.to_str().unwrap()],
    );
    assert_eq!(v["solid_voxels"], 64);
    let m = read_vtu(&vtu).unwrap();
    let stress = values(m.cell_array("stress"));
    let strain = values(m.cell_array("strain"));
    let vm = values(m.cell_array("von_mises"));
    let (want_s, want_e) = (
        [0.0, 0.0, -1.0, 0.0, 0.0, 0.0],
        [3e-4, 3e-4, -1e-3, 0.0, 0.0, 0.0],
    );
    for e in 0..64 {
        for c in 0..6 {
            let s = stress[6 * e + c];
            assert!((s - want_s[c]).abs() < 1e-8, "cell {e} σ{c} = {s}");
            let x = strain[6 * e + c];
            assert!((x - want_e[c]).abs() < 1e-11, "cell {e} ε{c} = {x}");
        }
        assert!((vm[e] - 1.0).abs() < 1e-8, "{}", vm[e]);
    }
    assert!(m.cell_array("solid_fraction").is_none(), "binary fill");
}

#[test]
fn the_abaqus_deck_has_the_solvers_mesh_material_and_constraints() {
    let dir = tempfile::tempdir().unwrap();
    let inp = dir.path().join("b.inp");
    // 2×2×2 voxels of 0.5 mm: 27 nodes, 8 elements.
    let v = run(
        dir.path(),
        &block(1.0, 0.5, "frictionless"),
        &["--inp", inp.to_str().unwrap()],
    );
    let d = read_inp(&inp).unwrap();
    assert_eq!(d.nodes.len() as u64, v["active_nodes"].as_u64().unwrap());
    assert_eq!(d.nodes.len(), 27);
    assert_eq!(d.elements.len(), 8);
    assert_eq!(d.element_types, ["C3D8"]);
    // One boundary line per prescribed dof: 3·nodes − unknowns.
    let unknowns = v["unknowns"].as_u64().unwrap() as usize;
    assert_eq!(d.boundary.len(), 3 * 27 - unknowns);
    assert_eq!(d.materials, [("SOLID".to_string(), 1000.0, 0.3)]);
    assert_eq!(
        d.sections,
        [("ALL_ELEMENTS".to_string(), "SOLID".to_string())]
    );
    assert!(d.static_step);
    assert_eq!(d.node_print.as_ref().unwrap().0, "LOADED");
    assert_eq!(d.node_print.as_ref().unwrap().1.trim(), "RF");
    // Element volumes from the deck's own coordinates: positive, h³.
    let xyz = |n: usize| d.nodes.iter().find(|(k, _)| *k == n).unwrap().1;
    for (_, nodes) in &d.elements {
        let p: [[f64; 3]; 8] = std::array::from_fn(|a| xyz(nodes[a]));
        assert!((hex_volume(&p) - 0.125).abs() < 1e-12);
    }
    // The spec's frictionless compression, δ = 0.001·Lz = 0.001 mm: u_z = 0
    // on the 9 bottom nodes, u_z = −δ on the 9 top nodes (the set LOADED),
    // u_x = u_y = 0 at the bottom node nearest (Lx/2, Ly/2, 0) and u_y = 0
    // at the one nearest (Lx, Ly/2, 0): 21 lines.
    let delta = v["delta"].as_f64().unwrap();
    assert!((delta - 0.001).abs() < 1e-15);
    let mut want: Vec<(usize, usize, usize, f64)> = Vec::new();
    for (n, p) in &d.nodes {
        if p[2] == 0.0 {
            want.push((*n, 3, 3, 0.0));
        }
        if p[2] == 1.0 {
            want.push((*n, 3, 3, -delta));
        }
        if *p == [0.5, 0.5, 0.0] {
            want.extend([(*n, 1, 1, 0.0), (*n, 2, 2, 0.0)]);
        }
        if *p == [1.0, 0.5, 0.0] {
            want.push((*n, 2, 2, 0.0));
        }
    }
    let mut got = d.boundary.clone();
    let key = |b: &(usize, usize, usize, f64)| (b.0, b.1);
    want.sort_by_key(key);
    got.sort_by_key(key);
    assert_eq!(got, want);
    assert_eq!(want.len(), 21);
    let loaded: Vec<usize> = d
        .nodes
        .iter()
        .filter(|(_, p)| p[2] == 1.0)
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(d.set("LOADED").unwrap(), loaded.as_slice());

    // The defaults (fraction fill, the incompatible element): Abaqus'
    // incompatible-mode brick, and every voxel of the block (φ = 1) in
    // the one material of weight 1.
    let defaults = block(1.0, 0.5, "frictionless")
        .replace("fill = \"binary\"\n", "")
        .replace("element = \"hex8\"\n", "");
    run(dir.path(), &defaults, &["--inp", inp.to_str().unwrap()]);
    let d = read_inp(&inp).unwrap();
    assert_eq!(d.element_types, ["C3D8I"]);
    assert_eq!(d.materials, [("FILL_0001".to_string(), 1000.0, 0.3)]);
    assert_eq!(d.elements.len(), 8);

    // Bonded platens: every bottom and top node held in x and y too.
    let v = run(
        dir.path(),
        &block(1.0, 0.5, "bonded"),
        &["--inp", inp.to_str().unwrap()],
    );
    let d = read_inp(&inp).unwrap();
    assert_eq!(d.boundary.len(), 2 * 9 * 3);
    assert_eq!(
        d.boundary.len(),
        3 * 27 - v["unknowns"].as_u64().unwrap() as usize
    );
}

#[test]
fn with_sub_voxel_fill_the_deck_has_a_material_per_weight_and_the_vtu_the_fraction() {
    // The exported files of a solved report whose grid carries φ (p = 1):
    // one material per distinct φ (E·φ, exactly), and φ and φ·D·ε in the
    // .vtu.
    let scene =
        voxfe::scene::Scene::parse(&block(1.0, 0.5, "frictionless"), Path::new("b.toml"), &[])
            .unwrap();
    let mut report =
        voxfe::pipeline::run(&scene.clone().with_backend(voxfe::scene::Backend::Cpu)).unwrap();
    let phi = [1.0f32, 0.5, 0.504, 0.25, 1.0, 0.996, 0.5, 0.25];
    report.grid.fraction = Some(phi.to_vec());
    let dir = tempfile::tempdir().unwrap();
    let (inp, vtu) = (dir.path().join("f.inp"), dir.path().join("f.vtu"));
    voxfe::export::inp::write_run(&report, None, &inp).unwrap();
    let d = read_inp(&inp).unwrap();
    let distinct = [0.25f32, 0.5, 0.504, 0.996, 1.0];
    assert_eq!(d.materials.len(), distinct.len());
    for (k, ((name, e, nu), p)) in d.materials.iter().zip(distinct).enumerate() {
        assert_eq!(*name, format!("FILL_{:04}", k + 1));
        // E·φ of the f32 φ, as the solver weighs the element.
        assert_eq!((*e, *nu), (1000.0 * p as f64, 0.3));
    }
    assert_eq!(d.set("FILL_0001").unwrap(), [4, 8]);
    assert_eq!(d.set("FILL_0002").unwrap(), [2, 7]);
    assert_eq!(d.set("FILL_0003").unwrap(), [3]);
    assert_eq!(d.set("FILL_0004").unwrap(), [6]);
    assert_eq!(d.set("FILL_0005").unwrap(), [1, 5]);
    let sections: Vec<(String, String)> = (1..=5)
        .map(|k| (format!("FILL_{k:04}"), format!("FILL_{k:04}")))
        .collect();
    assert_eq!(d.sections, sections);

    voxfe::export::vtu::write_run(&report, None, &vtu).unwrap();
    let m = read_vtu(&vtu).unwrap();
    let frac = values(m.cell_array("solid_fraction"));
    let stress = values(m.cell_array("stress"));
    for e in 0..8 {
        assert_eq!(frac[e], phi[e] as f64);
        // The solve's (uniform) σ_zz = −1 MPa scaled by the element's φ.
        assert!((stress[6 * e + 2] + phi[e] as f64).abs() < 1e-6, "{e}");
    }
}

#[test]
fn voxelize_writes_the_mesh_alone_and_bad_paths_are_refused_before_the_solve() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("s.toml");
    std::fs::write(&scene, small_rd(0.15)).unwrap();
    let vtu = dir.path().join("m.vtu");
    let o = voxfe(&[
        "voxelize",
        scene.to_str().unwrap(),
        "--json",
        "--vtu",
        vtu.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let m = read_vtu(&vtu).unwrap();
    assert_eq!(m.cells.len() as u64, v["solid_voxels"].as_u64().unwrap());
    let parsed = voxfe::scene::Scene::parse(&small_rd(0.15), Path::new("s.toml"), &[]).unwrap();
    let grid = voxfe::pipeline::voxelize::voxelize_scene(&parsed)
        .unwrap()
        .1
        .grid;
    let mesh = voxfe::fem::mesh::ActiveMesh::new(&grid).unwrap();
    assert_eq!(m.points.len(), mesh.len());
    assert!(m.point.is_empty());
    assert_eq!(
        m.string("scene_hash").unwrap(),
        v["provenance"]["scene_hash"].as_str().unwrap()
    );

    for flag in ["--vtu", "--inp"] {
        let bad = dir.path().join("missing/x.out");
        let o = voxfe(&["run", scene.to_str().unwrap(), flag, bad.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(flag) && err.contains("does not exist"),
            "{err}"
        );
        assert!(o.stdout.is_empty(), "refused before the solve");
        let o = voxfe(&[
            "run",
            scene.to_str().unwrap(),
            scene.to_str().unwrap(),
            flag,
            vtu.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&o.stderr).contains("2 scenes were given"));
    }
}

#[test]
fn the_volume_check_tells_a_wrong_node_order() {
    // The volume check the tests rely on tells a wrong node order.
    let p: [[f64; 3]; 8] = std::array::from_fn(|a| {
        let c = voxfe::fem::hex8::corner(voxfe::export::HEX_ORDER[a]);
        c.map(|x| 2.0 * x as f64)
    });
    assert!((hex_volume(&p) - 8.0).abs() < 1e-12);
    let hex8_order: [[f64; 3]; 8] =
        std::array::from_fn(|a| voxfe::fem::hex8::corner(a).map(|x| x as f64));
    assert!(
        hex_volume(&hex8_order) < 1.0 - 1e-9,
        "hex8 order is not VTK's"
    );
}
