//! Every path a command writes, checked in one place before any work (exit
//! 2 on a bad one): each file must have an extension its writer takes
//! where the writer picks the format by it (`--slice` .png, `--image`
//! .nrrd/.tif/.tiff, `--out` of export-stl .stl), must not be an existing
//! folder, its folder must exist and take a new file
//! ([`voxfe::fields::check_writable`]); and no output may be an input of
//! the command (the scene file, any file the scene reads: its STL, its
//! image with a detached NRRD data file or every TIFF slice of a folder or
//! glob, `--error-from`'s study, merge's shard folders) or another output
//! of the same command. Paths are compared as the files they are:
//! canonicalized (symbolic links and `..` resolved; a file that does not
//! exist yet by its canonical folder) and, on Unix, by device and inode
//! (hard links).

use std::path::{Path, PathBuf};

use voxfe::fields::{check_writable, FieldError};
use voxfe::scene::{Scene, Shape};

/// What an output flag names.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// One file, with one of these extensions (any when empty).
    File(&'static [&'static str]),
    /// A stem: the files `STEM.ext` for each extension.
    Stem(&'static [&'static str]),
    /// A folder the command writes into (made when missing).
    Dir,
}

/// The outputs of one command: `(flag, path given, kind)`.
#[derive(Debug, Default)]
pub(crate) struct Outputs {
    list: Vec<(&'static str, PathBuf, Kind)>,
}

/// A bad output path: the flag, the path and why (exit 2).
fn refuse(flag: &'static str, path: &Path, why: String) -> FieldError {
    FieldError::Unwritable {
        flag,
        path: path.to_path_buf(),
        why,
    }
}

impl Outputs {
    /// The file of `flag`, when given, with one of `extensions` (any when
    /// empty; compared without case).
    pub(crate) fn file(
        mut self,
        flag: &'static str,
        path: Option<&Path>,
        extensions: &'static [&'static str],
    ) -> Outputs {
        if let Some(p) = path {
            self.list
                .push((flag, p.to_path_buf(), Kind::File(extensions)));
        }
        self
    }

    /// The files `STEM.ext` of `flag`, when given, one per extension.
    pub(crate) fn stem(
        mut self,
        flag: &'static str,
        stem: Option<&Path>,
        extensions: &'static [&'static str],
    ) -> Outputs {
        if let Some(p) = stem {
            self.list
                .push((flag, p.to_path_buf(), Kind::Stem(extensions)));
        }
        self
    }

    /// The folder of `flag` (checked against the inputs and the other
    /// outputs only: its claim is the command's).
    pub(crate) fn dir(mut self, flag: &'static str, path: &Path) -> Outputs {
        self.list.push((flag, path.to_path_buf(), Kind::Dir));
        self
    }

    /// Checks every output (module doc) against `inputs`, the files and
    /// folders the command reads.
    pub(crate) fn check(&self, inputs: &[PathBuf]) -> Result<(), FieldError> {
        let inputs: Vec<Identity> = inputs.iter().map(|p| Identity::of(p)).collect();
        let mut seen: Vec<(&'static str, Identity)> = Vec::new();
        for &(flag, ref given, ref kind) in &self.list {
            // The library's errors name it as `vtk='f.vti'`; main.rs shows
            // the flag.
            let name = flag.trim_start_matches('-');
            let files: Vec<PathBuf> = match kind {
                Kind::File(extensions) => {
                    check_extension(name, given, extensions)?;
                    vec![given.clone()]
                }
                Kind::Stem(extensions) => {
                    extensions.iter().map(|e| given.with_extension(e)).collect()
                }
                Kind::Dir => vec![given.clone()],
            };
            for file in files {
                if !matches!(kind, Kind::Dir) {
                    check_writable(name, &file)?;
                }
                let id = Identity::of(&file);
                if let Some(input) = inputs.iter().find(|i| i.same(&id)) {
                    return Err(refuse(
                        name,
                        &file,
                        format!(
                            "is an input of this command ('{}'), which voxfe never overwrites; give another path",
                            input.shown.display()
                        ),
                    ));
                }
                if let Some((other, _)) = seen.iter().find(|(_, s)| s.same(&id)) {
                    return Err(refuse(
                        name,
                        &file,
                        format!("is also the output of {other}; give each output its own path"),
                    ));
                }
                seen.push((flag, id));
            }
        }
        Ok(())
    }
}

/// Refuses a file whose extension is none of `extensions` (any when empty).
fn check_extension(flag: &'static str, path: &Path, extensions: &[&str]) -> Result<(), FieldError> {
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if extensions.is_empty() || extensions.contains(&ext.as_str()) {
        return Ok(());
    }
    let allowed: Vec<String> = extensions.iter().map(|e| format!(".{e}")).collect();
    let allowed = match allowed.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => unreachable!("extensions is not empty"),
    };
    let given = if ext.is_empty() {
        "a name without extension is not supported".to_string()
    } else {
        format!("output file type '.{ext}' is not supported")
    };
    Err(refuse(
        flag,
        path,
        format!("{given}: --{flag} writes {allowed}; give a name ending in it"),
    ))
}

/// A path as the file it is.
#[derive(Debug)]
struct Identity {
    /// The path as given (for messages).
    shown: PathBuf,
    /// Canonical: the file's own where it exists, else its canonical
    /// folder joined with its name.
    canonical: PathBuf,
    /// Device and inode of an existing file (Unix).
    inode: Option<(u64, u64)>,
}

impl Identity {
    fn of(path: &Path) -> Identity {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| {
            let parent = match path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            let name = path.file_name().unwrap_or_default();
            std::fs::canonicalize(parent)
                .unwrap_or_else(|_| parent.to_path_buf())
                .join(name)
        });
        Identity {
            shown: path.to_path_buf(),
            canonical,
            inode: inode(path),
        }
    }

    fn same(&self, other: &Identity) -> bool {
        self.canonical == other.canonical
            || matches!((self.inode, other.inode), (Some(a), Some(b)) if a == b)
    }
}

#[cfg(unix)]
fn inode(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn inode(_: &Path) -> Option<(u64, u64)> {
    None
}

/// The files `scene` reads: its scene file, its STL, and its image (an
/// NRRD header and its detached data file, a TIFF file, or every slice of
/// a folder or glob).
pub(crate) fn scene_inputs(scene: &Scene) -> Vec<PathBuf> {
    let mut files = vec![scene.path().to_path_buf()];
    if scene.specimen.shape == Shape::Stl {
        if let Some(p) = &scene.specimen.path {
            files.push(scene.base_dir.join(p));
        }
    }
    if let Some(image) = scene.image_path() {
        files.extend(image_files(&image));
    }
    files
}

/// The files of the image at `path` (see [`voxfe::image::read`]); the path
/// itself where they cannot be listed (the read reports why).
fn image_files(path: &Path) -> Vec<PathBuf> {
    use voxfe::image::{nrrd, tiff};
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let slices = if name.contains(['*', '?']) {
        tiff::glob(path.parent().unwrap_or(Path::new(".")), &name, path).ok()
    } else if path.is_dir() {
        tiff::glob(path, "*", path).ok()
    } else {
        None
    };
    if let Some(s) = slices {
        return s;
    }
    let mut files = vec![path.to_path_buf()];
    if let Ok(header) = nrrd::read_header(path) {
        files.push(header.data_file().to_path_buf());
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_file_by_another_name_is_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.toml");
        std::fs::write(&a, "x").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let dotted = dir.path().join("sub/../a.toml");
        assert!(Identity::of(&a).same(&Identity::of(&dotted)));
        let new = dir.path().join("sub/../new.vti");
        assert!(Identity::of(&new).same(&Identity::of(&dir.path().join("new.vti"))));
        assert!(!Identity::of(&new).same(&Identity::of(&a)));
        #[cfg(unix)]
        {
            let hard = dir.path().join("hard.toml");
            std::fs::hard_link(&a, &hard).unwrap();
            assert!(Identity::of(&a).same(&Identity::of(&hard)));
            let soft = dir.path().join("soft.vti");
            std::os::unix::fs::symlink(&a, &soft).unwrap();
            assert!(Identity::of(&soft).same(&Identity::of(&a)));
        }
    }

    #[test]
    fn outputs_are_refused_on_inputs_on_each_other_and_by_extension() {
        let dir = tempfile::tempdir().unwrap();
        let scene = dir.path().join("s.toml");
        std::fs::write(&scene, "x").unwrap();
        let p = |n: &str| dir.path().join(n);
        // As main.rs prints it.
        let msg = |o: Outputs| {
            let e = o.check(std::slice::from_ref(&scene)).unwrap_err();
            crate::cli::with_flags(
                &e.to_string(),
                &<crate::Cli as clap::CommandFactory>::command(),
            )
        };
        let e = msg(Outputs::default().file("--vtk", Some(&scene), &[]));
        assert!(e.contains("--vtk") && e.contains("is an input"), "{e}");
        let e = msg(Outputs::default().file("--vtu", Some(&p("x")), &[]).file(
            "--inp",
            Some(&p("x")),
            &[],
        ));
        assert!(
            e.starts_with("--inp") && e.contains("output of --vtu"),
            "{e}"
        );
        let e = msg(Outputs::default().file("--slice", Some(&p("x.jpg")), &["png"]));
        assert!(e.contains("'.jpg'") && e.contains(".png"), "{e}");
        let e = msg(Outputs::default()
            .file("--slice", Some(&p("f.png")), &["png"])
            .stem("--plot", Some(&p("f")), &["png", "svg"]));
        assert!(
            e.contains("--plot") && e.contains("output of --slice"),
            "{e}"
        );
        std::fs::create_dir(p("d.png")).unwrap();
        let e = msg(Outputs::default().stem("--plot", Some(&p("d")), &["png", "svg"]));
        assert!(e.contains("directory"), "{e}");
        let e = msg(Outputs::default().dir("--out", &scene));
        assert!(e.contains("is an input"), "{e}");
        assert!(Outputs::default()
            .file("--slice", Some(&p("f.PNG")), &["png"])
            .stem("--plot", Some(&p("g")), &["png", "svg"])
            .dir("--out", &p("out"))
            .check(&[scene])
            .is_ok());
    }
}
