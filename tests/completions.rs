//! `voxfe --version` (with the commit), `voxfe completions SHELL` and
//! `voxfe man`, generated from the command line's definitions.

mod common;

use common::voxfe;

fn stdout_of(args: &[&str]) -> String {
    let o = voxfe(args);
    assert!(
        o.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn the_version_names_the_commit_of_the_build() {
    let v = stdout_of(&["--version"]);
    let commit = voxfe::provenance::COMMIT;
    let short = commit.get(..12).unwrap_or("unknown");
    assert!(
        v.starts_with(&format!(
            "voxfe {} (commit {short}",
            env!("CARGO_PKG_VERSION")
        )),
        "{v} vs {commit}"
    );
}

#[test]
fn completions_and_the_man_page_cover_every_subcommand_and_flag() {
    let bash = stdout_of(&["completions", "bash"]);
    let zsh = stdout_of(&["completions", "zsh"]);
    let fish = stdout_of(&["completions", "fish"]);
    let man = stdout_of(&["man"]);
    assert!(man.contains(".TH voxfe 1"), "{man}");
    for word in ["converge", "homogenize", "sweep", "voxelize"] {
        for (shell, text) in [
            ("bash", &bash),
            ("zsh", &zsh),
            ("fish", &fish),
            ("man", &man),
        ] {
            assert!(text.contains(word), "{shell}: no {word}");
        }
    }
    for flag in ["--slice-axis", "--inp", "--no-cache"] {
        assert!(bash.contains(flag) && zsh.contains(flag), "{flag}");
    }
    let o = voxfe(&["completions", "tcsh"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("bash, elvish, fish, powershell, zsh"));
}
