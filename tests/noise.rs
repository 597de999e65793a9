//! stderr carries only voxfe's own lines: no foreign library noise from
//! probing GPU adapters (EGL's "XDG_RUNTIME_DIR is invalid or not set"
//! when the GL backend is probed without a session), and a bad
//! `WGPU_BACKEND` named as such.
mod common;

use std::path::Path;
use std::process::Output;

/// `voxfe run` of a small lattice cube on `backend`, with
/// `XDG_RUNTIME_DIR` unset (as under cron, ssh without a session, Slurm).
fn run_without_session(backend: &str, env: &[(&str, &str)]) -> Output {
    let scene = common::scene_path("rd-compression.toml");
    let mut cmd = common::voxfe_command();
    cmd.args([
        "run",
        scene.to_str().unwrap(),
        "--backend",
        backend,
        "--set",
        "specimen.size=[1.5,1.5,1.5]",
        "--set",
        "voxel.size=0.1",
    ])
    .env_remove("XDG_RUNTIME_DIR")
    .env_remove("WGPU_BACKEND");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("runs voxfe")
}

/// Every stderr line is voxfe's: a `warning: ` line, or (on failure) one
/// `error: ` line at the end, of voxfe's own wording.
fn assert_own_lines_only(out: &Output, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    for (i, line) in lines.iter().enumerate() {
        let last_error =
            i + 1 == lines.len() && !out.status.success() && line.starts_with("error: ");
        assert!(
            line.starts_with("warning: ") || last_error,
            "{what}: a foreign line on stderr: {line:?}\n--- stderr ---\n{stderr}"
        );
        for foreign in ["XDG_RUNTIME_DIR", "EGL", "wayland", "MESA", "libGL"] {
            assert!(
                !line.contains(foreign),
                "{what}: library noise on stderr: {line:?}\n--- stderr ---\n{stderr}"
            );
        }
    }
}

#[test]
fn backend_auto_without_a_session_prints_no_library_noise() {
    let out = run_without_session("auto", &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_own_lines_only(&out, "--backend auto");
}

#[test]
fn backend_gpu_without_a_session_prints_no_library_noise() {
    // Succeeds on any adapter (lavapipe included); without one it fails
    // with voxfe's own error line.
    let out = run_without_session("gpu", &[]);
    assert_own_lines_only(&out, "--backend gpu");
}

#[test]
fn backend_auto_probing_only_gl_prints_no_library_noise() {
    // The GL backend is the one whose probe (EGL) prints the noise.
    let out = run_without_session("auto", &[("WGPU_BACKEND", "gl")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_own_lines_only(&out, "WGPU_BACKEND=gl --backend auto");
}

#[test]
fn a_bad_wgpu_backend_is_named_with_what_is_allowed() {
    for backend in ["gpu", "auto"] {
        let out = run_without_session(backend, &[("WGPU_BACKEND", "nonsense")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "--backend {backend}: {stderr}");
        for part in [
            "WGPU_BACKEND",
            "'nonsense'",
            "vulkan",
            "metal",
            "dx12",
            "gl",
        ] {
            assert!(
                stderr.contains(part),
                "--backend {backend}: no {part:?} in: {stderr}"
            );
        }
    }
    // A valid list with a stray name is refused too, naming the stray one.
    let out = run_without_session("gpu", &[("WGPU_BACKEND", "vulkan,vulcan")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("'vulcan'"), "{stderr}");
}

/// `needle` appears exactly once on stderr.
fn assert_said_once(out: &Output, needle: &str, what: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{what}: succeeded");
    assert_eq!(
        stderr.matches(needle).count(),
        1,
        "{what}: {needle:?} not exactly once in: {stderr}"
    );
}

#[test]
fn io_errors_are_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let missing = missing.to_str().unwrap();
    let not_found = "(os error 2)";
    // A scene file.
    let out = common::voxfe(&["run", &format!("{missing}.toml")]);
    assert_said_once(&out, not_found, "scene file");
    // An STL file.
    let scene = common::scene_path("vbr-25-stl.toml");
    let stl = format!("specimen.path=\"{missing}.stl\"");
    let out = common::voxfe(&["voxelize", scene.to_str().unwrap(), "--set", &stl]);
    assert_said_once(&out, not_found, "STL file");
    // A sweep shard to merge.
    let out = common::voxfe(&[
        "merge",
        missing,
        "--out",
        dir.path().join("all").to_str().unwrap(),
    ]);
    assert_said_once(&out, not_found, "merge shard");
    // A VTK file that cannot be written (a missing folder is refused
    // before the solve, without an io error: a full device fails the write).
    if !Path::new("/dev/full").exists() {
        eprintln!("skipped the VTK part: no /dev/full");
        return;
    }
    let scene = common::scene_path("rd-compression.toml");
    let vtk = "/dev/full".to_string();
    let out = common::voxfe(&[
        "run",
        scene.to_str().unwrap(),
        "--backend",
        "cpu",
        "--set",
        "specimen.size=[1.5,1.5,1.5]",
        "--set",
        "voxel.size=0.1",
        "--vtk",
        &vtk,
    ]);
    assert_said_once(&out, "(os error 28)", "VTK file");
}

#[test]
fn binary_stl_with_trailing_bytes_is_accepted_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(common::scene_path("vbr-25.stl")).unwrap();
    let triangles = u32::from_le_bytes(bytes[80..84].try_into().unwrap());
    bytes.extend([0u8; 7]);
    let stl = dir.path().join("padded.stl");
    std::fs::write(&stl, &bytes).unwrap();
    let scene = common::scene_path("vbr-25-stl.toml");
    let run = |path: &str| {
        common::voxfe(&[
            "voxelize",
            scene.to_str().unwrap(),
            "--set",
            &format!("specimen.path=\"{path}\""),
            "--set",
            "voxel.size=0.5",
        ])
    };
    let out = run(stl.to_str().unwrap());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let warning = format!(
        "warning: specimen.path = '{}': 7 bytes after the {triangles} triangles",
        stl.display()
    );
    assert!(stderr.contains(&warning), "no {warning:?} in: {stderr}");
    assert_own_lines_only(&out, "padded STL");
    // The file as shipped: no such warning.
    let shipped = common::scene_path("vbr-25.stl");
    let out = run(shipped.to_str().unwrap());
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("bytes after"));
}
