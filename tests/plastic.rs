//! Elastoplastic (J2) solves against closed forms: a solid block between
//! frictionless platens is in uniform uniaxial stress, so its apparent
//! curve is the material's bilinear curve exactly (slope E, yield at σ_y,
//! then E·H/(E + H)).

mod common;

use common::{assert_bilinear_curve, bilinear, j2_tantalum as tantalum, plastic_opts as opts};
use voxfe::fem::load::{LoadCase, Platens};
use voxfe::grid::VoxelGrid;
use voxfe::plastic::curve::offset_yield;
use voxfe::plastic::solve::{solve, PlasticOptions, PlasticSolveError};

const COMPRESSION: LoadCase = LoadCase::Compression {
    platens: Platens::Frictionless,
};

#[test]
fn a_solid_block_reproduces_the_uniaxial_j2_curve() {
    let grid = VoxelGrid::full([3, 3, 4], 0.25);
    for h in [0.0, 5_000.0] {
        let m = tantalum(h);
        let s = solve(&grid, m, &COMPRESSION, &opts(0.004, 16)).unwrap();
        assert_bilinear_curve(&s, &m, 16);
        for p in &s.points {
            assert!(p.newton <= 4, "{} Newton steps at ε {}", p.newton, p.strain);
        }
        // σ_0.2 of the bilinear curve: σ_y + slope·(ε − ε_y) where it meets
        // E(ε − 0.002).
        let curve: Vec<(f64, f64)> = s.points.iter().map(|p| (p.strain, p.stress)).collect();
        let o = offset_yield(&curve, s.elastic_modulus).unwrap();
        let (e, sy) = (m.elastic.e, m.yield_strength);
        let slope = e * h / (e + h);
        let strain = (sy - slope * sy / e + 0.002 * e) / (e - slope);
        let want = bilinear(&m, strain);
        assert!(
            (o.stress - want).abs() < 1e-6 * want,
            "σ_0.2 {} vs {want}",
            o.stress
        );
    }
}

/// The partial-voxel rule: a voxel of weight w = φᵖ is a scaled copy of a
/// full one (stiffness and yield strength both × w), so a block of equal
/// partial voxels has w times the full block's curve.
#[test]
fn a_block_of_partial_voxels_is_a_scaled_copy() {
    let full = VoxelGrid::full([2, 2, 3], 0.25);
    let mut part = full.clone();
    part.fraction = Some(vec![0.6; full.voxel_count()]);
    part.fraction_exponent = 1.6;
    let w = part.weight(0);
    let m = tantalum(2_000.0);
    let a = solve(&full, m, &COMPRESSION, &opts(0.003, 6)).unwrap();
    let b = solve(&part, m, &COMPRESSION, &opts(0.003, 6)).unwrap();
    assert!((b.elastic_modulus - w * a.elastic_modulus).abs() < 1e-6 * b.elastic_modulus);
    for (p, q) in a.points.iter().zip(&b.points) {
        assert!(
            (q.stress - w * p.stress).abs() < 1e-6 * q.stress,
            "ε {}: {} vs w·{}",
            p.strain,
            q.stress,
            p.stress
        );
    }
}

/// An increment that cannot converge (no Newton step allowed: only a
/// predictor that is already in equilibrium passes, the elastic one) is cut back, and after the last cut-back the solve
/// stops naming its load step and residual, the curve up to there kept.
#[test]
fn an_increment_that_does_not_converge_stops_with_its_step_and_the_curve_so_far() {
    let grid = VoxelGrid::full([2, 2, 2], 0.25);
    let o = PlasticOptions {
        max_newton: 0,
        max_cutbacks: 2,
        ..opts(0.004, 8)
    };
    let e = solve(&grid, tantalum(0.0), &COMPRESSION, &o).unwrap_err();
    let PlasticSolveError::NotConverged {
        step,
        residual,
        curve,
        cutbacks,
        ..
    } = &e
    else {
        panic!("{e}")
    };
    assert_eq!(*cutbacks, 2);
    assert!(*residual > o.newton_tolerance, "{residual}");
    // Step 1 (ε = 5e-4) is elastic, its predictor exact; ε_y = 103/186000
    // ≈ 5.5e-4 lies in step 2, and its halves 7.5e-4 and 6.25e-4 yield too.
    assert_eq!(*step, 2, "{e}");
    assert_eq!(curve.points.len(), 1, "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("step {step}")) && msg.contains("did not converge"),
        "{msg}"
    );
}

/// A solid tantalum block scene with the given extra lines.
fn block_scene(extra: &str) -> String {
    format!(
        "name = \"block\"\n[material]\npreset = \"tantalum\"\n{extra}\n[lattice]\nkind = \"solid\"\n\
         [specimen]\nshape = \"box\"\nsize = [0.75, 0.75, 1.0]\n[voxel]\nsize = 0.25\n\
         [load]\ncase = \"compression\"\n[solver]\nbackend = \"cpu\"\n\
         [plastic]\nstrain = 0.004\nincrements = 8\n"
    )
}

#[test]
fn plastic_cli_reports_the_block_curve_as_json_csv_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("block.toml");
    std::fs::write(&path, block_scene("hardening = 5000.0")).unwrap();
    let (csv, plot) = (dir.path().join("c.csv"), dir.path().join("c"));
    let vti = dir.path().join("c.vti");
    let vtu = dir.path().join("c.vtu");
    let out = common::voxfe(&[
        "plastic",
        path.to_str().unwrap(),
        "--json",
        "--csv",
        csv.to_str().unwrap(),
        "--plot",
        plot.to_str().unwrap(),
        "--vtk",
        vti.to_str().unwrap(),
        "--vtu",
        vtu.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let m = tantalum(5_000.0);
    let (e, sy, h) = (m.elastic.e, m.yield_strength, m.hardening);
    let slope = e * h / (e + h);
    let strain = (sy - slope * sy / e + 0.002 * e) / (e - slope);
    let s02 = v["yield_stress_offset"].as_f64().unwrap();
    assert!((s02 - bilinear(&m, strain)).abs() < 1e-6 * s02, "{s02}");
    assert!((v["elastic_modulus"].as_f64().unwrap() - e).abs() < 1e-6 * e);
    // Nominal steps of 0.0005 to the first point past the offset line
    // (σ_0.2 at ε ≈ 0.0026, so ε = 0.003), then one doubled step to 0.004
    // (plastic.growth, default 4).
    assert_eq!(v["steps"], 7);
    assert_eq!(v["growth"], 4);
    let strains: Vec<f64> = v["curve"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["strain"].as_f64().unwrap())
        .collect();
    assert!((strains[5] - 0.003).abs() < 1e-12 && (strains[6] - 0.004).abs() < 1e-12);
    assert_eq!(v["element"], "hex8-bbar");
    assert!(
        v["first_maximum_stress"].is_null(),
        "a hardening curve has no maximum"
    );
    assert!(
        v["limit_load"].is_null() && v["limit_stress"].is_null(),
        "a curve hardening at E·H/(E+H) ≈ 2.6 % of E has no limit yet"
    );
    let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
    assert_eq!(keys.last().unwrap().as_str(), "provenance");
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(rows.lines().count(), 8, "{rows}");
    assert!(rows.starts_with("step,strain,stress_mpa"));
    assert!(plot.with_extension("png").exists() && plot.with_extension("svg").exists());
    let field = voxfe::vtk::read_vti(&vti).unwrap();
    let alpha = field
        .cell
        .iter()
        .find(|a| a.name == "equivalent_plastic_strain")
        .unwrap()
        .data
        .to_f64();
    // Uniform plastic strain: ᾱ = ε − σ/E at the final strain.
    let final_stress = bilinear(&m, 0.004);
    let want = 0.004 - final_stress / e;
    assert!(
        alpha.iter().all(|a| (a - want).abs() < 1e-6 * want),
        "{alpha:?} vs {want}"
    );
    // The .vtu: 3×3×4 hexahedra with the same ᾱ, and the displacement of
    // the uniform strain (u_z = −0.004·z, z from the bottom platen).
    let mesh = voxfe::export::vtu::read_vtu(&vtu).unwrap();
    assert_eq!(mesh.cells.len(), 36);
    assert_eq!(mesh.points.len(), 80);
    let cell_alpha = mesh
        .cell_array("equivalent_plastic_strain")
        .unwrap()
        .data
        .to_f64();
    assert_eq!(cell_alpha.len(), 36);
    assert!(
        cell_alpha.iter().all(|a| (a - want).abs() < 1e-6 * want),
        "{cell_alpha:?} vs {want}"
    );
    let u = mesh.point_array("displacement").unwrap().data.to_f64();
    assert_eq!(u.len(), 3 * 80);
    for (p, d) in mesh.points.iter().zip(u.chunks(3)) {
        assert!((d[2] + 0.004 * p[2]).abs() < 1e-9, "{p:?}: {d:?}");
    }
}

#[test]
fn plastic_cli_bad_values_exit_2_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("block.toml");
    std::fs::write(&path, block_scene("")).unwrap();
    for (set, key) in [
        ("plastic.strain=0.0", "plastic.strain"),
        ("plastic.strain=0.3", "plastic.strain"),
        ("plastic.increments=0", "plastic.increments"),
        ("plastic.tolerance=0.0", "plastic.tolerance"),
        ("plastic.tolerance=0.5", "plastic.tolerance"),
        ("plastic.growth=0", "plastic.growth"),
        ("plastic.growth=100", "plastic.growth"),
        ("material.hardening=-5.0", "material.hardening"),
        ("material.yield_strength=0.0", "material.yield_strength"),
    ] {
        let out = common::voxfe(&["plastic", path.to_str().unwrap(), "--set", set]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{set}: {err}");
        assert!(err.contains(key), "{set}: {err}");
    }
}

#[test]
fn plastic_cli_checks_its_outputs_before_the_curve() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("block.toml");
    let text = block_scene("");
    std::fs::write(&path, &text).unwrap();
    let scene = path.to_str().unwrap();
    let missing = dir.path().join("no/such/c.csv");
    std::fs::create_dir(dir.path().join("d.png")).unwrap();
    let d = dir.path().join("d");
    let same = dir.path().join("x");
    for (args, says) in [
        (vec!["--csv", scene], "--csv"),
        (vec!["--vtk", missing.to_str().unwrap()], "does not exist"),
        (vec!["--vtu", missing.to_str().unwrap()], "does not exist"),
        (vec!["--vtu", scene], "--vtu"),
        (vec!["--plot", d.to_str().unwrap()], "directory"),
        (
            vec![
                "--csv",
                same.to_str().unwrap(),
                "--vtk",
                same.to_str().unwrap(),
            ],
            "also the output of --csv",
        ),
    ] {
        let mut all = vec!["plastic", scene, "--json"];
        all.extend(&args);
        let out = common::voxfe(&all);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: no curve is computed");
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        text,
        "the scene is kept"
    );
}

#[test]
fn plastic_cli_reports_the_limit_load_of_a_perfectly_plastic_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("block.toml");
    std::fs::write(&path, block_scene("")).unwrap();
    let out = common::voxfe(&["plastic", path.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let sy = tantalum(0.0).yield_strength;
    let stress = v["limit_stress"].as_f64().unwrap();
    assert!((stress - sy).abs() < 1e-6 * sy, "{stress} vs σ_y {sy}");
    // The force on the 0.75 × 0.75 mm block at σ_y.
    let load = v["limit_load"].as_f64().unwrap();
    assert!((load - sy * 0.5625).abs() < 1e-6 * load, "{load}");
    let text = common::voxfe(&["plastic", path.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("limit load") && text.contains("levelled off"),
        "{text}"
    );
}

/// A porous block (a voxel lattice of square holes, partial voxels) big
/// enough for a multigrid hierarchy of several levels.
fn porous_block() -> VoxelGrid {
    let mut g = VoxelGrid::full([8, 8, 10], 0.25);
    let [nx, ny, nz] = g.dims;
    let mut fraction = vec![1.0f32; g.voxel_count()];
    for k in 0..nz {
        for j in 0..ny {
            for i in 0..nx {
                let v = g.voxel_id(i, j, k);
                // Columns along z of 2×2 voxels removed every 4 voxels in
                // x and y, below the top and bottom layers.
                if (1..nz - 1).contains(&k) && i % 4 >= 2 && j % 4 >= 2 {
                    g.solid[v] = 0;
                    fraction[v] = 0.0;
                } else if (i + 2 * j + 3 * k) % 7 == 0 {
                    fraction[v] = 0.5;
                }
            }
        }
    }
    g.fraction = Some(fraction);
    g.fraction_exponent = 2.0;
    g
}

/// The hierarchy built on the tangent only preconditions: the curve is
/// the elastic hierarchy's to the Newton tolerance, with fewer PCG
/// iterations; and the inexact steps leave the prescribed displacement
/// exactly as prescribed.
#[test]
fn the_tangent_hierarchy_gives_the_same_curve_and_the_platen_stays_put() {
    let grid = porous_block();
    let m = tantalum(2_000.0);
    let run = |tangent_hierarchy: bool| {
        let o = PlasticOptions {
            tangent_hierarchy,
            ..opts(0.01, 5)
        };
        solve(&grid, m, &COMPRESSION, &o).unwrap()
    };
    let (on, off) = (run(true), run(false));
    assert!(on.rebuilds > 0 && on.hierarchy_bytes > 0, "built");
    assert_eq!((off.rebuilds, off.hierarchy_bytes), (0, 0));
    assert!(on.points.iter().any(|p| p.plastic_points > 0), "it yields");
    assert_eq!(on.points.len(), off.points.len());
    let largest = off.points.iter().fold(0.0f64, |a, p| a.max(p.force));
    for (a, b) in on.points.iter().zip(&off.points) {
        assert!(
            (a.force - b.force).abs() < 1e-5 * largest,
            "step at ε = {}: {} vs {}",
            a.strain,
            a.force,
            b.force
        );
    }
    let cg = |s: &voxfe::plastic::solve::PlasticSolution| {
        s.points.iter().map(|p| p.cg_iterations).sum::<usize>()
    };
    assert!(cg(&on) < cg(&off), "{} vs {}", cg(&on), cg(&off));
    // Every node of the top face moved by exactly the last step's δ.
    let mesh = voxfe::fem::mesh::ActiveMesh::new(&grid).unwrap();
    let delta = on.points.last().unwrap().delta;
    let mut top = 0;
    for n in 0..mesh.len() {
        if mesh.coords(n)[2] == grid.dims[2] {
            top += 1;
            let uz = on.displacement[3 * n + 2];
            assert!(
                (uz.abs() - delta).abs() <= 1e-12 * delta,
                "node {n}: u_z {uz} vs δ {delta}"
            );
        }
    }
    assert_eq!(top, 81, "the whole top face");
}

/// The defaults' two economies against the strict solve (equal steps,
/// Newton to 1e-6) on a porous block, perfectly plastic: Newton to the
/// default 1e-4 moves no point of the curve by more than 2e-5 of the
/// largest force (2.6e-6 seen); steps that grow past σ_0.2 (the default
/// growth) take nominal steps up to the first point past the offset line,
/// so σ_0.2 is the strict one, then fewer, larger steps to the same final
/// strain, each point within 2e-4 of the strict curve at its strain
/// (3.2e-5 seen).
#[test]
fn the_default_tolerance_and_growing_steps_keep_the_curve() {
    let grid = porous_block();
    let m = tantalum(0.0);
    let strict = solve(&grid, m, &COMPRESSION, &opts(0.012, 12)).unwrap();
    let loose = |growth: usize| {
        let o = PlasticOptions {
            strain: 0.012,
            increments: 12,
            growth,
            ..PlasticOptions::default()
        };
        assert_eq!(o.newton_tolerance, 1e-4, "the default");
        solve(&grid, m, &COMPRESSION, &o).unwrap()
    };
    let (equal, grown) = (loose(1), loose(PlasticOptions::default().growth));
    let largest = strict.points.iter().fold(0.0f64, |a, p| a.max(p.force));
    assert_eq!(equal.points.len(), 12);
    for (a, b) in equal.points.iter().zip(&strict.points) {
        assert!(a.residual <= 1e-4 && b.residual <= 1e-6);
        let d = (a.force - b.force).abs() / largest;
        eprintln!("ε {:.4}: tolerance 1e-4 against 1e-6: {d:.1e}", a.strain);
        assert!(d < 2e-5, "ε {}: {} vs {}", a.strain, a.force, b.force);
    }
    let sigma = |s: &voxfe::plastic::solve::PlasticSolution| {
        let curve: Vec<(f64, f64)> = s.points.iter().map(|p| (p.strain, p.stress)).collect();
        offset_yield(&curve, s.elastic_modulus).expect("σ_0.2 reached")
    };
    let (o_strict, o_grown) = (sigma(&strict), sigma(&grown));
    assert!(
        (o_grown.stress - o_strict.stress).abs() < 1e-4 * o_strict.stress,
        "σ_0.2 {} vs {}",
        o_grown.stress,
        o_strict.stress
    );
    // Nominal steps through the first point past the offset line, then
    // larger ones; the same final strain in fewer steps.
    let nominal = 0.012 / 12.0;
    let past = grown
        .points
        .iter()
        .position(|p| p.strain > o_grown.strain)
        .unwrap();
    let mut prev = 0.0;
    for (i, p) in grown.points.iter().enumerate() {
        let step = p.strain - prev;
        if i <= past {
            assert!((step - nominal).abs() < 1e-12, "step {i}: {step}");
        }
        prev = p.strain;
        // Every point lands on a nominal one: compare it with the strict
        // curve there.
        let k = (p.strain / nominal).round() as usize;
        let d = (p.force - strict.points[k - 1].force).abs() / largest;
        eprintln!("ε {:.4}: grown steps against equal: {d:.1e}", p.strain);
        assert!(
            d < 2e-4,
            "ε {}: {} vs {}",
            p.strain,
            p.force,
            strict.points[k - 1].force
        );
    }
    assert!(
        grown
            .points
            .windows(2)
            .any(|w| w[1].strain - w[0].strain > 1.5 * nominal),
        "the steps grew"
    );
    assert!(grown.points.len() < strict.points.len());
    assert!((grown.points.last().unwrap().strain - 0.012).abs() < 1e-12);
}
