//! Embeds the git commit of the build into voxfe (read by
//! `src/provenance.rs`): `VOXFE_GIT_COMMIT` (40 hex digits, or `unknown`)
//! and `VOXFE_GIT_DIRTY` (`true` when tracked files differ from that
//! commit, `false`, or `unknown`); and `VOXFE_VERSION_COMMIT`, what
//! `voxfe --version` shows after the package version: the short commit
//! (12 hex digits, `, modified` when dirty) or `unknown`.
//!
//! A build outside a git checkout (a tarball, a crate download), or where
//! `git` cannot be run, says `unknown`; so does a checkout whose top level
//! is not this package's folder (a tarball unpacked inside another
//! repository must not claim that repository's commit).
//!
//! The script reruns when HEAD moves (`HEAD` and the ref it points to, or
//! `packed-refs`: those of them that exist, since cargo reruns a script
//! that watches a missing file on every build) and when `src/` or the
//! manifest change; the dirty flag is that of the last build of the
//! library.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=Cargo.toml");
    println!("cargo:rerun-if-changed=src");
    let same_dir = |top: &str| {
        let (a, b) = (Path::new(top).canonicalize(), manifest_dir.canonicalize());
        matches!((a, b), (Ok(a), Ok(b)) if a == b)
    };
    let in_checkout =
        git(&manifest_dir, &["rev-parse", "--show-toplevel"]).is_some_and(|top| same_dir(&top));
    let (mut commit, mut dirty) = ("unknown".to_string(), "unknown".to_string());
    if in_checkout {
        let path_of = |arg: &str| {
            git(&manifest_dir, &["rev-parse", arg]).map(|p| {
                let p = PathBuf::from(p);
                if p.is_absolute() {
                    p
                } else {
                    manifest_dir.join(p)
                }
            })
        };
        // Only files that exist: cargo reruns the script on every build
        // for a watched path that does not (and rebuilds the crate).
        let watch = |p: PathBuf| {
            if p.is_file() {
                println!("cargo:rerun-if-changed={}", p.display());
            }
        };
        if let Some(git_dir) = path_of("--git-dir") {
            watch(git_dir.join("HEAD"));
        }
        if let Some(common) = path_of("--git-common-dir") {
            watch(common.join("packed-refs"));
            if let Some(head_ref) = git(&manifest_dir, &["symbolic-ref", "-q", "HEAD"]) {
                watch(common.join(head_ref));
            }
        }
        if let Some(c) = git(&manifest_dir, &["rev-parse", "HEAD"]) {
            if c.len() == 40 && c.bytes().all(|b| b.is_ascii_hexdigit()) {
                commit = c;
                // --no-optional-locks: no index refresh written back, which
                // would itself look like a change to the next build.
                dirty = match git(
                    &manifest_dir,
                    &[
                        "--no-optional-locks",
                        "status",
                        "--porcelain",
                        "--untracked-files=no",
                    ],
                ) {
                    Some(s) => (!s.is_empty()).to_string(),
                    None => "unknown".into(),
                };
            }
        }
    }
    let short = match (commit.get(..12), dirty.as_str()) {
        (None, _) => "unknown".to_string(),
        (Some(c), "true") => format!("{c}, modified"),
        (Some(c), _) => c.to_string(),
    };
    println!("cargo:rustc-env=VOXFE_VERSION_COMMIT={short}");
    println!("cargo:rustc-env=VOXFE_GIT_COMMIT={commit}");
    println!("cargo:rustc-env=VOXFE_GIT_DIRTY={dirty}");
}
