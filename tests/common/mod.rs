//! What the integration tests share: the `voxfe` binary, the list of
//! shipped scenes, test grids and checks.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use voxfe::grid::VoxelGrid;
use voxfe::pipeline::voxelize::voxelize_scene;
use voxfe::scene::Scene;

/// The calibration cache folder (`VOXFE_CACHE_DIR`) of every `voxfe` this
/// test binary spawns: a fresh temporary folder per test binary, shared by
/// its tests, so that a lattice's reference and exponent are computed once
/// per binary (the default `voxel.fraction_exponent = "auto"` calibrates
/// before every lattice run) and the user's own cache is neither read nor
/// written.
pub fn cache_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("voxfe-test-cache")
            .tempdir()
            .expect("creates the test cache folder")
    })
    .path()
}

/// A `voxfe` command of the binary built for the tests, with the test
/// binary's calibration cache ([`cache_dir`]).
pub fn voxfe_command() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_voxfe"));
    cmd.env("VOXFE_CACHE_DIR", cache_dir())
        .env_remove("VOXFE_NO_CACHE");
    cmd
}

/// Runs the `voxfe` binary built for the tests (with [`cache_dir`]).
pub fn voxfe(args: &[&str]) -> Output {
    voxfe_command().args(args).output().expect("runs voxfe")
}

/// The scenes shipped in `scenes/`, every one of them (a test checks that
/// the folder holds no other).
pub const SHIPPED_SCENES: [&str; 9] = [
    "bar-bending.toml",
    "rd-compression.toml",
    "ta-lattice-homogenized.toml",
    "ta-lattice-variants.toml",
    "ta-rd-bending-bar.toml",
    "ta-rd-porosity.toml",
    "tantalum-sebm.toml",
    "vbr-25-stl.toml",
    "vbr-25.toml",
];

/// The path of shipped scene `name` (a file in `scenes/`).
pub fn scene_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenes")
        .join(name)
}

/// The small test scene: an RD lattice, 2×2×2 cells of M = 1.5 mm at 70 %
/// porosity (a 3 mm cube) in compression, voxel size `h`, on the CPU.
pub fn small_rd(h: f64) -> String {
    format!(
        r#"
name = "small"
[lattice]
kind = "rhombic-dodecahedron"
cell = 1.5
porosity = 0.7
[specimen]
shape = "box"
size = [3.0, 3.0, 3.0]
[voxel]
size = {h}
[solver]
backend = "cpu"
"#
    )
}

/// The grid of [`small_rd`] at voxel size `h` with binary fill (a 0/1
/// grid, the classic voxel model the solver and GPU tests compare on).
pub fn rd_grid(h: f64) -> VoxelGrid {
    let binary = ["voxel.fill=binary".to_string()];
    let s = Scene::parse(&small_rd(h), Path::new("rd.toml"), &binary).unwrap();
    voxelize_scene(&s).unwrap().1.grid
}

/// Decodes a PNG and checks its size and that it is not blank: many
/// pixels away from the background and several distinct colours.
pub fn assert_real_png(path: &Path, size: (u32, u32)) {
    let img = image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8();
    assert_eq!(img.dimensions(), size, "{}", path.display());
    let inked = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    let mut colours: Vec<[u8; 3]> = img.pixels().map(|p| p.0).collect();
    colours.sort_unstable();
    colours.dedup();
    assert!(
        inked > 2000 && colours.len() >= 4,
        "{}: {inked} inked pixels, {} colours",
        path.display(),
        colours.len()
    );
}

/// Points this process's in-library calibrations (`voxfe::calibration`) at
/// [`cache_dir`], for tests that run scenes with `voxel.fraction_exponent =
/// "auto"` in process rather than through the binary.
pub fn use_test_cache() {
    voxfe::calibration::use_cache(voxfe::calibration::cache::Cache::at(cache_dir()));
}

/// The text chunks (tEXt and iTXt) of a PNG, by keyword.
pub fn png_text(path: &Path) -> std::collections::HashMap<String, String> {
    let decoder = png::Decoder::new(std::fs::File::open(path).unwrap());
    let reader = decoder.read_info().unwrap();
    let info = reader.info();
    let mut m: std::collections::HashMap<String, String> = info
        .uncompressed_latin1_text
        .iter()
        .map(|t| (t.keyword.clone(), t.text.clone()))
        .collect();
    for t in &info.utf8_text {
        m.insert(t.keyword.clone(), t.get_text().unwrap());
    }
    m
}

/// Tantalum as a J2 material: σ_y = 103 MPa, hardening `hardening` MPa.
pub fn j2_tantalum(hardening: f64) -> voxfe::plastic::material::J2 {
    voxfe::plastic::material::J2 {
        elastic: voxfe::material::YoungPoisson::tantalum(),
        yield_strength: 103.0,
        hardening,
    }
}

/// σ(ε) of the bilinear uniaxial curve of `m`: slope E to σ_y, then
/// E·H/(E + H).
pub fn bilinear(m: &voxfe::plastic::material::J2, strain: f64) -> f64 {
    let (e, h) = (m.elastic.e, m.hardening);
    let ey = m.yield_strength / e;
    if strain <= ey {
        e * strain
    } else {
        m.yield_strength + e * h / (e + h) * (strain - ey)
    }
}

/// The strict plastic solve to apparent strain `strain`: `increments`
/// equal steps (no growth past σ_0.2), each to a Newton tolerance of 1e-6
/// (the default is 1e-4), so that closed forms hold to 1e-6; the rest the
/// defaults.
pub fn plastic_opts(strain: f64, increments: usize) -> voxfe::plastic::solve::PlasticOptions {
    voxfe::plastic::solve::PlasticOptions {
        strain,
        increments,
        newton_tolerance: 1e-6,
        growth: 1,
        ..Default::default()
    }
}

/// Asserts that `s`, a solid block's curve under `m`, has E_eff = E and
/// `steps` points on the bilinear curve, each to 10⁻⁶.
pub fn assert_bilinear_curve(
    s: &voxfe::plastic::solve::PlasticSolution,
    m: &voxfe::plastic::material::J2,
    steps: usize,
) {
    assert!(
        (s.elastic_modulus - m.elastic.e).abs() < 1e-6 * m.elastic.e,
        "E_eff {}",
        s.elastic_modulus
    );
    assert_eq!(s.points.len(), steps);
    for p in &s.points {
        let want = bilinear(m, p.strain);
        assert!(
            (p.stress - want).abs() < 1e-6 * want,
            "H {}: ε {} σ {} vs {want}",
            m.hardening,
            p.strain,
            p.stress
        );
    }
}
