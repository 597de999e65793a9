//! Every output says what produced it: the `provenance` object of
//! `run --json`, `voxelize --json`, sweep rows, `results.csv`, `sweep.json`
//! and `summary.md`, the VTK field data and the PNG text chunks, each read
//! back and checked against independent values (the commit from `git
//! rev-parse HEAD`, the scene file's FNV-1a hash computed here, the scene
//! parsed again from its canonical TOML).

mod common;

use common::{png_text, small_rd, voxfe};
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use voxfe::scene::Scene;

/// FNV-1a 64 of `bytes` as `fnv1a64:` + 16 hex digits, written out here
/// independently of voxfe's.
fn fnv1a64(bytes: &[u8]) -> String {
    let h = bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    });
    format!("fnv1a64:{h:016x}")
}

/// The commit `git rev-parse HEAD` gives for this checkout, or `None`
/// outside a git checkout of this package (voxfe then says `unknown`).
fn git_head() -> Option<String> {
    let dir = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("git")
        .args(["-C", dir, "rev-parse", "--show-toplevel", "HEAD"])
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let mut lines = text.lines();
    let top = Path::new(lines.next()?).canonicalize().ok()?;
    (out.status.success() && top == Path::new(dir).canonicalize().ok()?)
        .then(|| lines.next().map(str::to_string))?
}

/// Writes the small RD scene (h = 0.15 mm) into `dir`.
fn scene_file(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("small.toml");
    std::fs::write(&p, small_rd(0.15)).unwrap();
    p
}

/// Checks a provenance object against the scene file at `path`, read
/// with `overrides`, and a date within the last ten minutes.
fn check(p: &Value, path: &Path, overrides: &[&str]) {
    assert_eq!(p["voxfe_version"], env!("CARGO_PKG_VERSION"));
    let commit = p["commit"].as_str().unwrap();
    match git_head() {
        Some(head) => assert_eq!(commit, head, "the build's commit is HEAD"),
        None => assert_eq!(commit, "unknown"),
    }
    assert_eq!(p["scene_path"], path.to_str().unwrap());
    assert_eq!(p["scene_file_hash"], fnv1a64(&std::fs::read(path).unwrap()));
    // The canonical TOML is the scene itself: it parses to the same scene
    // as the file with its overrides, and the hash is of that text.
    let canonical = p["scene"].as_str().unwrap();
    assert_eq!(p["scene_hash"], fnv1a64(canonical.as_bytes()));
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    let from_file = Scene::load(path, &overrides).unwrap();
    let from_canonical = Scene::parse(canonical, path, &[]).unwrap();
    assert_eq!(from_canonical, from_file);
    assert_eq!(p["overrides"], serde_json::json!(overrides));
    // RFC 3339 UTC, now.
    let date = p["date"].as_str().unwrap();
    assert_eq!(date.len(), 20, "{date}");
    assert!(date.ends_with('Z') && &date[10..11] == "T", "{date}");
    let now = voxfe::provenance::rfc3339_utc(std::time::SystemTime::now());
    assert!(date <= now.as_str(), "{date} after {now}");
    let earlier = voxfe::provenance::rfc3339_utc(
        std::time::SystemTime::now() - std::time::Duration::from_secs(600),
    );
    assert!(date >= earlier.as_str(), "{date} before {earlier}");
}

#[test]
fn run_json_carries_the_provenance_and_the_vti_and_png_read_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let scene = scene_file(dir.path());
    let (vti, png) = (dir.path().join("f.vti"), dir.path().join("s.png"));
    let o = voxfe(&[
        "run",
        scene.to_str().unwrap(),
        "--json",
        "--set",
        "lattice.porosity=0.75",
        "--vtk",
        vti.to_str().unwrap(),
        "--slice",
        png.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    let p = &v["provenance"];
    check(p, &scene, &["lattice.porosity=0.75"]);
    assert_eq!(p["backend"], "cpu");
    assert_eq!(p["backend"], v["backend"]);
    assert_eq!(p["adapter"], v["adapter"]);
    // The scene as run: porosity 0.75, not the file's 0.7.
    assert!(p["scene"].as_str().unwrap().contains("porosity = 0.75"));

    // VTK field data: every provenance field as a string.
    let f = voxfe::vtk::read_vti(&vti).unwrap();
    let s = |k: &str| {
        f.strings
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no field data {k}: {:?}", f.strings))
    };
    for k in [
        "voxfe_version",
        "commit",
        "scene_path",
        "scene_file_hash",
        "scene_hash",
        "scene",
        "backend",
        "adapter",
        "date",
    ] {
        assert_eq!(s(k), p[k].as_str().unwrap(), "field data {k}");
    }
    assert_eq!(s("overrides"), "lattice.porosity=0.75");
    assert_eq!(f.field, [("converged".to_string(), 1)]);

    // PNG text chunks, read by the png crate; the image still decodes.
    let text = png_text(&png);
    assert_eq!(text["commit"], p["commit"].as_str().unwrap());
    assert_eq!(text["scene_hash"], p["scene_hash"].as_str().unwrap());
    assert_eq!(text["scene"], p["scene"].as_str().unwrap());
    assert_eq!(text["date"], p["date"].as_str().unwrap());
    common::assert_real_png(&png, image::image_dimensions(&png).unwrap());
}

#[test]
fn png_text_is_utf8_when_it_must_be() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("a.png");
    image::RgbImage::from_pixel(3, 2, image::Rgb([10, 200, 30]))
        .save(&png)
        .unwrap();
    voxfe::provenance::add_png_text(
        &png,
        &[
            ("scene", "name = \"Ø 12 mm — cage\"".into()),
            ("k", "v".into()),
        ],
    )
    .unwrap();
    let text = png_text(&png);
    assert_eq!(text["scene"], "name = \"Ø 12 mm — cage\"");
    assert_eq!(text["k"], "v");
    let img = image::open(&png).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (3, 2));
    assert_eq!(img.get_pixel(2, 1), &image::Rgb([10, 200, 30]));
}

#[test]
fn voxelize_json_and_vti_carry_the_provenance_without_a_backend() {
    let dir = tempfile::tempdir().unwrap();
    let scene = scene_file(dir.path());
    let vti = dir.path().join("m.vti");
    let o = voxfe(&[
        "voxelize",
        scene.to_str().unwrap(),
        "--json",
        "--vti",
        vti.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    check(&v["provenance"], &scene, &[]);
    assert_eq!(v["provenance"]["backend"], Value::Null);
    let f = voxfe::vtk::read_vti(&vti).unwrap();
    assert!(f
        .strings
        .iter()
        .any(|(k, s)| k == "scene_hash" && s == v["provenance"]["scene_hash"].as_str().unwrap()));
}

#[test]
fn sweep_rows_csv_manifest_summary_and_plots_carry_the_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let scene = scene_file(dir.path());
    let out = dir.path().join("out");
    let o = voxfe(&[
        "sweep",
        scene.to_str().unwrap(),
        "--vary",
        "lattice.porosity=0.6,0.65,0.7",
        "--set",
        "solver.tolerance=1e-7",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows: Vec<Value> = std::fs::read_to_string(out.join("results.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    for r in &rows {
        let porosity = r["lattice.porosity"].as_f64().unwrap();
        let set = format!("lattice.porosity={porosity}");
        let p = &r["provenance"];
        check(p, &scene, &["solver.tolerance=1e-7", &set]);
        assert_eq!(p["backend"], r["backend"]);
    }
    // Each case's canonical scene differs (its porosity): three hashes.
    let hashes: std::collections::BTreeSet<&str> = rows
        .iter()
        .map(|r| r["provenance"]["scene_hash"].as_str().unwrap())
        .collect();
    assert_eq!(hashes.len(), 3);

    // results.csv: version, commit and hashes as columns.
    let csv = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|c| *c == name).unwrap();
    assert!(!header.contains(&"provenance"), "no JSON column");
    for (line, r) in lines.zip(&rows) {
        // No field of these rows holds a comma but the dims and levels
        // arrays, which are quoted: split on the unquoted ones.
        let cells = split_csv(line);
        assert_eq!(cells.len(), header.len());
        for k in ["voxfe_version", "commit", "scene_hash", "scene_file_hash"] {
            assert_eq!(cells[col(k)], r["provenance"][k].as_str().unwrap(), "{k}");
        }
    }

    // sweep.json: the base scene (with --set) and the overrides.
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("sweep.json")).unwrap()).unwrap();
    let p = &m["provenance"];
    assert_eq!(p["scene_file_hash"], m["scene_hash"]);
    assert_eq!(
        p["overrides"],
        serde_json::json!([
            "solver.tolerance=1e-7",
            "--vary lattice.porosity=0.6,0.65,0.7"
        ])
    );
    assert_eq!(p["commit"], rows[0]["provenance"]["commit"]);

    // summary.md: a short block.
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("## Provenance"), "{summary}");
    assert!(
        summary.contains(&format!("commit {}", p["commit"].as_str().unwrap())),
        "{summary}"
    );
    assert!(summary.contains(p["scene_file_hash"].as_str().unwrap()));

    // The plot's PNG.
    let text = png_text(&out.join("modulus-density.png"));
    assert_eq!(text["commit"], p["commit"].as_str().unwrap());
    assert_eq!(text["scene_file_hash"], m["scene_hash"].as_str().unwrap());
}

/// The cells of a CSV line (quoted cells unquoted).
fn split_csv(line: &str) -> Vec<String> {
    let mut cells = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                cells.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => cells.push(String::new()),
            c => cells.last_mut().unwrap().push(c),
        }
    }
    cells
}

#[test]
fn merge_warns_when_shards_come_from_different_commits() {
    let dir = tempfile::tempdir().unwrap();
    let scene = scene_file(dir.path());
    let shard = |i: &str| {
        let out = dir.path().join(i);
        let o = voxfe(&[
            "sweep",
            scene.to_str().unwrap(),
            "--vary",
            "lattice.porosity=0.7,0.75",
            "--shard",
            &format!("{i}/2"),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let (a, b) = (shard("0"), shard("1"));
    let merge = || {
        voxfe(&[
            "merge",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            "--out",
            dir.path().join("m").to_str().unwrap(),
        ])
    };
    let o = merge();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        !String::from_utf8_lossy(&o.stderr).contains("commits"),
        "same build, no warning"
    );
    // Shard 1 as if run by another build.
    let other = "0123456789abcdef0123456789abcdef01234567";
    for f in ["sweep.json", "results.jsonl"] {
        let p = b.join(f);
        let text = std::fs::read_to_string(&p).unwrap();
        let head = text
            .split("\"commit\":")
            .nth(1)
            .and_then(|t| t.trim_start().strip_prefix('"'))
            .and_then(|t| t.split('"').next())
            .unwrap()
            .to_string();
        std::fs::write(&p, text.replace(&head, other)).unwrap();
    }
    let o = merge();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("warning: the shards were run by builds of 2 different voxfe commits")
            && err.contains(other),
        "{err}"
    );
}

#[test]
fn the_build_script_says_unknown_outside_a_git_checkout() {
    // build.rs compiled on its own and run as cargo runs it: in a folder
    // without .git (an unpacked tarball), and in one inside another
    // repository, it embeds `unknown`; in this checkout, HEAD.
    let dir = tempfile::tempdir().unwrap();
    let exe = dir.path().join("build-script");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let o = Command::new(rustc)
        .args(["--edition", "2021", "-o"])
        .arg(&exe)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/build.rs"))
        .output()
        .expect("rustc runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let embedded = |manifest_dir: &Path| {
        let o = Command::new(&exe)
            .env("CARGO_MANIFEST_DIR", manifest_dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let out = String::from_utf8(o.stdout).unwrap();
        // Every watched path exists: cargo reruns a script that watches a
        // missing one on every build, and rebuilds the crate each time.
        for p in out
            .lines()
            .filter_map(|l| l.strip_prefix("cargo:rerun-if-changed="))
        {
            let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(p);
            assert!(p.exists(), "build.rs watches missing {}", p.display());
        }
        let get = |k: &str| {
            out.lines()
                .find_map(|l| l.strip_prefix(&format!("cargo:rustc-env={k}=")))
                .unwrap_or_else(|| panic!("no {k} in {out}"))
                .to_string()
        };
        (get("VOXFE_GIT_COMMIT"), get("VOXFE_GIT_DIRTY"))
    };
    let tarball = dir.path().join("voxfe-0.1.0");
    std::fs::create_dir(&tarball).unwrap();
    assert_eq!(embedded(&tarball), ("unknown".into(), "unknown".into()));
    let outer = dir.path().join("outer");
    std::fs::create_dir(&outer).unwrap();
    let init = Command::new("git")
        .arg("-C")
        .arg(&outer)
        .args(["init", "-q"])
        .status();
    if init.is_ok_and(|s| s.success()) {
        let inner = outer.join("voxfe-0.1.0");
        std::fs::create_dir(&inner).unwrap();
        assert_eq!(embedded(&inner).0, "unknown");
    }
    if let Some(head) = git_head() {
        let (commit, dirty) = embedded(Path::new(env!("CARGO_MANIFEST_DIR")));
        assert_eq!(commit, head);
        assert!(dirty == "true" || dirty == "false", "{dirty}");
    }
}
