//! Output paths, checked before any work by every command that writes
//! (src/cli/outputs.rs): an input of the command (the scene, the image it
//! reads, a merge's shard folder) is never overwritten, two outputs never
//! share a path, an output's folder must exist, a folder is no file, and
//! an extension the writer does not take is refused; all with exit 2 and
//! nothing solved. A sweep's `--out` is locked while it runs: a second
//! sweep there is refused, a shard writing elsewhere is not.

mod common;

use common::{small_rd, voxfe};
use std::path::Path;
use std::process::Output;

/// A solid block of 1 mm at h = 0.25 (64 voxels), binary fill, hex8: a
/// solve that takes no time.
const BLOCK: &str = r#"
name = "block"
[lattice]
kind = "solid"
[specimen]
shape = "box"
size = [1.0, 1.0, 1.0]
[voxel]
size = 0.25
fill = "binary"
[solver]
backend = "cpu"
element = "hex8"
"#;

/// Asserts that `o` was refused as bad input (exit 2) before any work
/// (nothing on stdout), its message naming `flag` and containing `what`.
fn refused(o: &Output, flag: &str, what: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(flag) && err.contains(what), "{err}");
    assert!(
        o.stdout.is_empty(),
        "work was done: {}",
        String::from_utf8_lossy(&o.stdout)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn an_output_on_an_input_is_refused_and_the_input_kept() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("s.toml");
    std::fs::write(&scene, BLOCK).unwrap();
    for flag in ["--vtk", "--vtu", "--inp"] {
        let o = voxfe(&["run", s(&scene), flag, s(&scene)]);
        refused(&o, flag, "is an input of this command");
    }
    // By another name: `..`, a symbolic link.
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    let dotted = dir.path().join("sub/../s.toml");
    refused(
        &voxfe(&["run", s(&scene), "--vtu", s(&dotted)]),
        "--vtu",
        "is an input",
    );
    #[cfg(unix)]
    {
        let link = dir.path().join("link.vti");
        std::os::unix::fs::symlink(&scene, &link).unwrap();
        refused(
            &voxfe(&["run", s(&scene), "--vtk", s(&link)]),
            "--vtk",
            "is an input",
        );
    }
    // --error-from's study is an input too.
    let study = dir.path().join("study.json");
    std::fs::write(&study, "{}").unwrap();
    refused(
        &voxfe(&[
            "run",
            s(&scene),
            "--error-from",
            s(&study),
            "--inp",
            s(&study),
        ]),
        "--inp",
        "is an input",
    );
    assert_eq!(std::fs::read_to_string(&study).unwrap(), "{}");
    for (cmd, flag) in [("voxelize", "--vti"), ("voxelize", "--vtu")] {
        refused(
            &voxfe(&[cmd, s(&scene), flag, s(&scene)]),
            flag,
            "is an input",
        );
    }
    assert_eq!(std::fs::read_to_string(&scene).unwrap(), BLOCK);

    // The image an image scene reads: a rendering of it never replaces it.
    let rd = dir.path().join("rd.toml");
    std::fs::write(&rd, small_rd(0.25)).unwrap();
    let nrrd = dir.path().join("scan.nrrd");
    let o = voxfe(&["voxelize", s(&rd), "--image", s(&nrrd)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&nrrd).unwrap();
    let scan = dir.path().join("scan.toml");
    std::fs::write(
        &scan,
        "name = \"scan\"\n[specimen]\nshape = \"image\"\npath = \"scan.nrrd\"\n[image]\ncalibration = \"threshold\"\nthreshold = 128\n[solver]\nbackend = \"cpu\"\n",
    )
    .unwrap();
    refused(
        &voxfe(&["voxelize", s(&scan), "--image", s(&nrrd)]),
        "--image",
        "scan.nrrd",
    );
    refused(
        &voxfe(&["run", s(&scan), "--vtu", s(&nrrd)]),
        "--vtu",
        "is an input",
    );
    assert_eq!(std::fs::read(&nrrd).unwrap(), bytes);

    // A merge into one of its shard folders.
    let (a, b) = (dir.path().join("a"), dir.path().join("b"));
    refused(
        &voxfe(&["merge", s(&a), s(&b), "--out", s(&a)]),
        "--out",
        "is an input",
    );
}

#[test]
fn two_outputs_on_one_path_bad_folders_and_extensions_are_refused_before_the_solve() {
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("s.toml");
    std::fs::write(&scene, BLOCK).unwrap();
    let x = dir.path().join("x");
    let o = voxfe(&["run", s(&scene), "--vtu", s(&x), "--inp", s(&x)]);
    refused(&o, "--inp", "is also the output of --vtu");
    let nrrd = dir.path().join("x.nrrd");
    let o = voxfe(&[
        "voxelize",
        s(&scene),
        "--vti",
        s(&nrrd),
        "--image",
        s(&nrrd),
    ]);
    refused(&o, "--image", "is also the output of --vti");
    assert!(!x.exists() && !nrrd.exists(), "nothing was written");

    // Extensions the writer does not take.
    let jpg = dir.path().join("x.jpg");
    refused(
        &voxfe(&["run", s(&scene), "--slice", s(&jpg)]),
        "--slice",
        "'.jpg'",
    );
    assert!(!jpg.exists());
    refused(
        &voxfe(&["voxelize", s(&scene), "--image", s(&jpg)]),
        "--image",
        ".nrrd, .tif or .tiff",
    );
    // A missing folder, for voxelize's --vti too (before voxelizing).
    let missing = dir.path().join("missing/m.vti");
    refused(
        &voxfe(&["voxelize", s(&scene), "--vti", s(&missing)]),
        "--vti",
        "does not exist",
    );
    // An existing folder where a plot's file goes: converge and homogenize
    // refuse it before the first level.
    let rd = dir.path().join("rd.toml");
    std::fs::write(&rd, small_rd(0.25)).unwrap();
    std::fs::create_dir(dir.path().join("p.png")).unwrap();
    let stem = dir.path().join("p");
    refused(
        &voxfe(&["converge", s(&scene), "--plot", s(&stem)]),
        "--plot",
        "directory",
    );
    refused(
        &voxfe(&["homogenize", s(&rd), "--plot", s(&stem)]),
        "--plot",
        "directory",
    );
    let d = dir.path().join("d.vtu");
    std::fs::create_dir(&d).unwrap();
    refused(
        &voxfe(&["run", s(&scene), "--vtu", s(&d)]),
        "--vtu",
        "directory",
    );
}

#[test]
fn a_second_sweep_on_a_locked_out_is_refused_and_a_shard_elsewhere_runs() {
    use fs4::fs_std::FileExt as _;
    let dir = tempfile::tempdir().unwrap();
    let scene = dir.path().join("s.toml");
    std::fs::write(&scene, BLOCK).unwrap();
    let sweep = |out: &Path, shard: &str| {
        voxfe(&[
            "sweep",
            s(&scene),
            "--vary",
            "voxel.size=0.25,0.5",
            "--shard",
            shard,
            "--out",
            s(out),
        ])
    };
    // A running sweep on `out`: its lock held (by this process).
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let lock = std::fs::File::create(out.join(".voxfe-sweep.lock")).unwrap();
    assert!(lock.try_lock_exclusive().unwrap());
    let o = sweep(&out, "0/2");
    refused(&o, "--out", "in use by another voxfe sweep");
    assert!(!out.join("results.jsonl").exists(), "nothing interleaved");
    // The other shard, into its own folder, runs meanwhile.
    let other = dir.path().join("other");
    let o = sweep(&other, "1/2");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Released: the first shard runs, and the two merge. (A process that
    // another test of this binary forks meanwhile holds a copy of the
    // lock's descriptor until it execs: a short wait.)
    drop(lock);
    let mut o = sweep(&out, "0/2");
    for _ in 0..50 {
        if !String::from_utf8_lossy(&o.stderr).contains("in use by another") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
        o = sweep(&out, "0/2");
    }
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let merged = dir.path().join("merged");
    let o = voxfe(&["merge", s(&out), s(&other), "--out", s(&merged)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // The scene itself is no --out.
    refused(&sweep(&scene, "0/2"), "--out", "is an input");
}
