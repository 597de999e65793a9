//! The output folder of a sweep: claimed before the first solve
//! ([`prepare_out`]: locked, created, resumed, restarted, or refused with
//! what is there and why unless `--force`), and the rows of an interrupted
//! run read back for resuming.
//!
//! The claim is an exclusive lock ([`fs4`], `flock` on Unix, `LockFileEx`
//! on Windows) on the file [`LOCK_FILE`] in the folder, held while the
//! sweep runs ([`Prepared::lock`]) and released by the system when the
//! process ends, however it ends: a second sweep on the same `--out` is
//! refused at once instead of interleaving its rows with the first's.
//! Shards of one sweep each write their own `--out`, so they never meet.

use std::fs::File;
use std::path::Path;

use fs4::fs_std::FileExt as _;

use super::{bad_results, io, Manifest, ResultsWriter, Row, SweepError, OWN_FILES};

/// How to treat an output directory that already holds this sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    /// Resume: skip the cases already in `results.jsonl`.
    Resume,
    /// `--restart`: run every case again.
    Restart,
    /// `--force`: clear voxfe's own outputs, whatever sweep they hold.
    Force,
}

/// The lock file of a sweep's output folder (left there, empty; not a
/// file of the sweep's: a folder holding only it counts as empty).
pub const LOCK_FILE: &str = ".voxfe-sweep.lock";

/// What [`prepare_out`] found: the rows already done, a line saying what
/// was dropped (a partly written last line of an interrupted run), and
/// the folder's lock, held until this is dropped.
#[derive(Debug, Default)]
pub struct Prepared {
    pub done: Vec<Row>,
    pub notes: Vec<String>,
    pub lock: Option<File>,
}

/// Takes the exclusive lock of the sweep folder `dir` (existing), or
/// refuses when another process holds it.
fn lock(dir: &Path, refuse: impl Fn(String) -> SweepError) -> Result<File, SweepError> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            refuse(format!(
                "its lock file '{}' cannot be opened: {e}",
                path.display()
            ))
        })?;
    match file.try_lock_exclusive() {
        Ok(true) => Ok(file),
        Ok(false) => Err(refuse(format!(
            "is in use by another voxfe sweep (it holds the lock '{}'); wait for that sweep to finish, or give another out=DIR",
            path.display()
        ))),
        Err(e) => Err(refuse(format!(
            "its lock file '{}' cannot be locked: {e}",
            path.display()
        ))),
    }
}

/// Claims `dir` for the sweep of `manifest` before its first solve.
///
/// - Locked by another sweep (running): refused.
/// - Missing or empty: created.
/// - Holding the same sweep: resumed ([`Reuse::Resume`]: the rows of
///   `results.jsonl` are kept) or cleared ([`Reuse::Restart`]).
/// - Holding a different sweep, or files that are no sweep: refused
///   ([`SweepError::OutDir`], naming what is there and why) unless
///   [`Reuse::Force`], which removes voxfe's own outputs ([`OWN_FILES`])
///   and leaves the rest.
/// - A regular file, or a directory that cannot be created or written:
///   refused.
///
/// Then `sweep.json` is written and `results.jsonl`/`results.csv` are
/// (re)written with the rows kept, so that rows can be appended.
pub fn prepare_out(
    dir: &Path,
    manifest: &Manifest,
    reuse: Reuse,
) -> Result<(Prepared, ResultsWriter), SweepError> {
    let refuse = |why: String| SweepError::OutDir {
        path: dir.display().to_string(),
        why,
    };
    if dir.exists() && !dir.is_dir() {
        return Err(refuse(
            "is a file, not a directory; give a directory for the sweep's outputs".into(),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| refuse(format!("cannot be created: {e}")))?;
    let lock = lock(dir, refuse)?;
    let entries: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| refuse(format!("cannot be read: {e}")))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name != LOCK_FILE)
        .collect();
    let mut prepared = Prepared::default();
    if !entries.is_empty() {
        let m = dir.join("sweep.json");
        let old: Option<Manifest> = std::fs::read_to_string(&m)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        let clear = match (&old, reuse) {
            (_, Reuse::Force) => true,
            (Some(old), _) => match old.differs(manifest) {
                Some(why) => {
                    return Err(refuse(format!(
                    "holds a different sweep ({why}); give another out=DIR, or force=true to replace it"
                )))
                }
                None => reuse == Reuse::Restart,
            },
            (None, _) => {
                let mut shown = entries.clone();
                shown.sort();
                shown.truncate(5);
                return Err(refuse(format!(
                    "is not empty and holds no voxfe sweep (no readable sweep.json; found {}); give an empty or new directory, or force=true to write there anyway",
                    shown.join(", ")
                )));
            }
        };
        if clear {
            for f in OWN_FILES {
                let p = dir.join(f);
                if p.is_file() {
                    std::fs::remove_file(&p).map_err(|source| io("remove", &p, source))?;
                }
            }
        } else {
            prepared = read_done(dir, manifest)?;
        }
    }
    let m = dir.join("sweep.json");
    std::fs::write(
        &m,
        serde_json::to_string_pretty(manifest).expect("manifest serializes"),
    )
    .map_err(|e| refuse(format!("cannot be written ({}): {e}", m.display())))?;
    let keys: Vec<&str> = manifest.variations.iter().map(|v| v.key.as_str()).collect();
    let writer = ResultsWriter::create(dir, &keys, &prepared.done)
        .map_err(|e| refuse(format!("cannot be written: {e}")))?;
    prepared.lock = Some(lock);
    Ok((prepared, writer))
}

/// The rows of an interrupted run of the same sweep in `dir`: a partly
/// written last line is dropped (with a note), any other unreadable line is
/// an error; each case once, and only cases of this sweep.
fn read_done(dir: &Path, manifest: &Manifest) -> Result<Prepared, SweepError> {
    let path = dir.join("results.jsonl");
    let mut prepared = Prepared::default();
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(prepared),
        Err(source) => return Err(io("read", &path, source)),
    };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    for (n, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let parsed = serde_json::from_str::<serde_json::Value>(line)
            .map_err(|e| e.to_string())
            .and_then(|v| match v {
                serde_json::Value::Object(m) => Row::from_json(m),
                _ => Err("not a JSON object".into()),
            });
        match parsed {
            Ok(row) => {
                if row.case >= manifest.total || manifest.shard.is_some_and(|s| !s.owns(row.case)) {
                    return Err(bad_results(
                        &path,
                        n,
                        format!(
                            "case {} is not a case of this sweep; force=true replaces it",
                            row.case
                        ),
                    ));
                }
                if !prepared.done.iter().any(|r| r.case == row.case) {
                    prepared.done.push(row);
                }
            }
            Err(_) if n + 1 == lines.len() && !line.ends_with('\n') => {
                prepared.notes.push(format!(
                    "'{}': dropped the partly written last line of the interrupted run",
                    path.display()
                ));
            }
            Err(why) => {
                return Err(bad_results(
                    &path,
                    n,
                    format!("{why}; restart=true runs the sweep again"),
                ))
            }
        }
    }
    Ok(prepared)
}

#[cfg(test)]
mod tests {
    use super::super::{case_row, read_jsonl, Case};
    use super::*;

    fn manifest() -> Manifest {
        super::super::tests::manifest()
    }

    #[test]
    fn resuming_drops_a_partly_written_last_line() {
        let dir = tempfile::tempdir().unwrap();
        let m = manifest();
        let (p, mut w) = prepare_out(dir.path(), &m, Reuse::Resume).unwrap();
        assert!(p.done.is_empty());
        drop(p);
        let case = |index| Case {
            index,
            settings: vec![("lattice.porosity".into(), "0.7".into())],
        };
        w.append(&case_row(&case(0), Err("x".into()))).unwrap();
        drop(w);
        let jsonl = dir.path().join("results.jsonl");
        let mut text = std::fs::read_to_string(&jsonl).unwrap();
        text.push_str("{\"case\":1,\"lattice.poro");
        std::fs::write(&jsonl, text).unwrap();
        let (p, _w) = prepare_out(dir.path(), &m, Reuse::Resume).unwrap();
        assert_eq!(p.done.iter().map(|r| r.case).collect::<Vec<_>>(), [0]);
        assert_eq!(p.notes.len(), 1, "{:?}", p.notes);
        drop(p);
        assert_eq!(read_jsonl(&jsonl).unwrap().len(), 1);
        // A complete line that does not read is an error, not dropped.
        std::fs::write(&jsonl, "nonsense\n").unwrap();
        let e = prepare_out(dir.path(), &m, Reuse::Resume).unwrap_err();
        assert!(e.to_string().contains("restart=true"), "{e}");
        assert!(prepare_out(dir.path(), &m, Reuse::Restart).is_ok());
    }

    #[test]
    fn a_second_claim_of_a_locked_folder_is_refused_until_the_first_ends() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let m = manifest();
        let (first, _w) = prepare_out(&out, &m, Reuse::Resume).unwrap();
        assert!(first.lock.is_some());
        let e = prepare_out(&out, &m, Reuse::Force).unwrap_err();
        assert!(e.is_bad_input());
        assert!(
            e.to_string().contains("in use by another voxfe sweep"),
            "{e}"
        );
        // Another folder (a shard's) is free meanwhile.
        assert!(prepare_out(&dir.path().join("other"), &m, Reuse::Resume).is_ok());
        drop(first);
        let (again, _w) = prepare_out(&out, &m, Reuse::Resume).unwrap();
        assert!(again.lock.is_some());
        // A folder holding only the lock file counts as empty.
        drop(again);
        let fresh = dir.path().join("fresh");
        std::fs::create_dir(&fresh).unwrap();
        std::fs::write(fresh.join(LOCK_FILE), "").unwrap();
        assert!(prepare_out(&fresh, &m, Reuse::Resume).is_ok());
    }
}
